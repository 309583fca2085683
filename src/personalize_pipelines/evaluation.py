"""Holdout evaluation of champion and challengers: inputs for batch inference, its output, the metrics.

The flow, as the train DAG runs it:

1. :func:`read_holdout` streams the holdout parts of an export version from S3 into the relevant
   items per user (the most recent data, which no model trained on);
2. :func:`sample_users` and :func:`batch_input_lines` make the batch inference input (JSON lines
   ``{"userId": ...}``), the same users for every model; :func:`write_batch_input` puts it in the
   evaluation's folder and :func:`read_batch_input` reads it back;
3. :func:`parse_batch_output` (or :func:`read_batch_output` over the ``.out`` files on S3) turns
   Personalize's output into recommendations per user, counting error, malformed and unknown lines;
4. :func:`evaluate` scores them with :mod:`personalize_metrics`, the one shared
   implementation of the ranking metrics; :func:`evaluate_batch_output` does 3 and 4 for one model;
5. :func:`evaluation_report` and :func:`evaluation_html` write what was decided and why, and
   :func:`publish_evaluation` puts both next to the export version.
"""

from __future__ import annotations

import csv
import html
import io
import json
import logging
import math
import random
from collections.abc import Collection, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import personalize_metrics
from personalize_pipelines.batch_output import ScoredOutput, parse_scored_output, read_scored_output
from personalize_pipelines.layout import EvaluationLayout, VersionLayout
from personalize_pipelines.publish import read_json

if TYPE_CHECKING:
    from personalize_pipelines.gate import Decision

log = logging.getLogger(__name__)

DEFAULT_KS = (5, 10, 25)
CHART_METRICS = ("ndcg_at_10", "precision_at_10", "recall_at_10", "mrr_at_25", "coverage")


class EvaluationInputError(ValueError):
    """An export version, holdout file or batch output that cannot be evaluated; names the object."""


# --- holdout -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Holdout:
    """The relevant items per user in an export's holdout, and how many rows were read and skipped."""

    relevant: dict[str, frozenset[str]]
    rows: int
    rows_skipped_event_type: int
    parts: int

    @property
    def users(self) -> list[str]:
        return sorted(self.relevant)


def _manifest(s3_client: Any, version: VersionLayout) -> dict[str, Any]:
    manifest = read_json(s3_client, version.bucket, version.manifest)
    if manifest is None:
        raise EvaluationInputError(
            f"{version.uri(version.manifest)} does not exist: export version {version.name!r} is "
            "incomplete or unknown"
        )
    return manifest


def _part_keys(manifest: dict[str, Any], *, folder: str, version: VersionLayout) -> list[str]:
    relative = sorted(f["key"] for f in manifest.get("files", []) if f["key"].startswith(f"{folder}/"))
    return [version.key(key) for key in relative]


def _csv_rows(s3_client: Any, *, bucket: str, key: str, required: Sequence[str]) -> Iterable[dict[str, str]]:
    """Stream one CSV object as dicts of the required columns; the header names the columns."""
    body = s3_client.get_object(Bucket=bucket, Key=key)["Body"]
    with io.TextIOWrapper(body, encoding="utf-8", newline="") as text:
        reader = csv.reader(text)
        try:
            header = next(reader, None)
            if header is None:
                return
            position = {name.strip().upper(): index for index, name in enumerate(header)}
            missing = [name for name in required if name not in position]
            if missing:
                raise EvaluationInputError(f"s3://{bucket}/{key}: header {header} lacks column(s) {missing}")
            indexes = [(name, position[name]) for name in required]
            for row in reader:
                if not row:
                    continue
                if len(row) != len(header):
                    raise EvaluationInputError(
                        f"s3://{bucket}/{key} line {reader.line_num}: {len(row)} fields, the header has {len(header)}"
                    )
                yield {name: row[index] for name, index in indexes}
        except (UnicodeDecodeError, csv.Error) as exc:
            raise EvaluationInputError(
                f"s3://{bucket}/{key} line {reader.line_num}: not UTF-8 CSV ({exc})"
            ) from exc


def read_holdout(
    s3_client: Any, *, version: VersionLayout, event_types: Collection[str] | None = None
) -> Holdout:
    """The relevant items per user in the export version's ``holdout/part-*.csv``.

    Parts are the ones the version's manifest lists (a version without a manifest is incomplete and
    refused) and are streamed, never downloaded whole.

    :param s3_client: a boto3 S3 client.
    :param version: the export version's folder.
    :param event_types: when given, only holdout rows of these EVENT_TYPEs count as relevant (say,
        purchases only); the others are counted in ``rows_skipped_event_type``.
    """
    manifest = _manifest(s3_client, version)
    keys = _part_keys(manifest, folder="holdout", version=version)
    wanted = None if event_types is None else {e.strip().lower() for e in event_types}
    required = ("USER_ID", "ITEM_ID") if wanted is None else ("USER_ID", "ITEM_ID", "EVENT_TYPE")
    relevant: dict[str, set[str]] = {}
    rows = skipped = 0
    for key in keys:
        for row in _csv_rows(s3_client, bucket=version.bucket, key=key, required=required):
            rows += 1
            if wanted is not None and row["EVENT_TYPE"].strip().lower() not in wanted:
                skipped += 1
                continue
            relevant.setdefault(row["USER_ID"], set()).add(row["ITEM_ID"])
    return Holdout(
        relevant={user: frozenset(items) for user, items in relevant.items()},
        rows=rows,
        rows_skipped_event_type=skipped,
        parts=len(keys),
    )


def read_catalog(s3_client: Any, *, version: VersionLayout) -> frozenset[str]:
    """Every item id in the version's training data (interactions and items parts), streamed.

    This is the catalog coverage is measured against, as Personalize defines it: the items a model
    trained on this version could know.

    :param s3_client: a boto3 S3 client.
    :param version: the export version's folder.
    """
    manifest = _manifest(s3_client, version)
    items: set[str] = set()
    for folder in ("interactions", "items"):
        for key in _part_keys(manifest, folder=folder, version=version):
            rows = _csv_rows(s3_client, bucket=version.bucket, key=key, required=("ITEM_ID",))
            items.update(row["ITEM_ID"] for row in rows)
    return frozenset(items)


# --- batch inference input and output ------------------------------------------------------------


def sample_users(users: Iterable[str], *, max_users: int | None = None, seed: int = 0) -> list[str]:
    """The users to evaluate, sorted: all of them, or a sample of ``max_users`` fixed by ``seed``."""
    ordered = sorted(set(users))
    if max_users is not None:
        if max_users < 1:
            raise ValueError(f"max_users must be >= 1, got {max_users}")
        if len(ordered) > max_users:
            ordered = sorted(random.Random(seed).sample(ordered, max_users))
    return ordered


def batch_input_lines(users: Iterable[str], *, max_users: int | None = None, seed: int = 0) -> bytes:
    """Batch inference input: one ``{"userId": ...}`` JSON line per user of :func:`sample_users`."""
    return "".join(
        json.dumps({"userId": user}) + "\n" for user in sample_users(users, max_users=max_users, seed=seed)
    ).encode()


def write_batch_input(s3_client: Any, *, evaluation: EvaluationLayout, users: Iterable[str]) -> str:
    """Put :func:`batch_input_lines` of ``users`` at the evaluation's batch input; returns its URI."""
    s3_client.put_object(
        Bucket=evaluation.bucket,
        Key=evaluation.batch_input,
        Body=batch_input_lines(users),
        ContentType="application/json",
    )
    return evaluation.uri(evaluation.batch_input)


def read_batch_input(s3_client: Any, *, evaluation: EvaluationLayout) -> list[str]:
    """The users of the evaluation's batch input (:func:`write_batch_input`), in file order."""
    body = s3_client.get_object(Bucket=evaluation.bucket, Key=evaluation.batch_input)["Body"].read().decode()
    return [json.loads(line)["userId"] for line in body.splitlines() if line.strip()]


@dataclass
class BatchOutput(ScoredOutput):
    """Recommendations per user from batch inference output, parsed by :mod:`personalize_pipelines.batch_output`,
    with its counts under the evaluation report's names.

    ``problems`` keeps the first few bad lines (line, user when known, reason) for the log.
    """

    @property
    def recommendations(self) -> dict[str, list[str]]:
        answers: dict[str, list[str]] = {user: [] for user in self.loaded_keys}
        for user, _, item, _ in self.rows:
            answers[user].append(item)
        return answers

    @property
    def unknown_users(self) -> int:
        return self.unknown_keys

    @property
    def duplicate_users(self) -> int:
        return self.duplicate_keys

    def counts(self) -> dict[str, int]:
        return {
            "lines": self.lines,
            "users_recommended": len(self.loaded_keys),
            "error_lines": self.error_lines,
            "malformed_lines": self.malformed_lines,
            "unknown_users": self.unknown_keys,
            "duplicate_users": self.duplicate_keys,
        }


def parse_batch_output(
    lines: Iterable[str | bytes],
    *,
    expected_users: Collection[str] | None = None,
    source: str | None = None,
    into: BatchOutput | None = None,
) -> BatchOutput:
    """Recommendations per user from Personalize batch inference output lines.

    Nothing is dropped silently: a line with an ``error`` counts in ``error_lines``, one that is not
    that shape in ``malformed_lines``, a user not in ``expected_users`` (when given) in
    ``unknown_users``, and a user answered twice in ``duplicate_users`` (the first answer is kept).
    Blank lines are ignored.

    :param source: the file the lines come from, named in ``problems``.
    :param into: add to this result (several output files of one job) instead of a new one.
    """
    result = into if into is not None else BatchOutput()
    parse_scored_output(lines, expected=expected_users, source=source, into=result, label="user")
    return result


def read_batch_output(
    s3_client: Any, *, bucket: str, prefix: str, expected_users: Collection[str] | None = None
) -> BatchOutput:
    """:func:`parse_batch_output` over every ``*.out`` object under ``s3://bucket/prefix``, streamed.

    :raises EvaluationInputError: when there is no ``.out`` object (the job wrote nothing there).
    """
    try:
        return read_scored_output(
            s3_client, bucket=bucket, prefix=prefix, expected=expected_users, into=BatchOutput(), label="user"
        )
    except FileNotFoundError as exc:
        raise EvaluationInputError(str(exc)) from exc


# --- metrics -------------------------------------------------------------------------------------


def evaluate(
    recommendations: Mapping[str, Sequence[str]],
    relevant: Mapping[str, Set[str]],
    *,
    catalog: Collection[str],
    k_values: Sequence[int] = DEFAULT_KS,
) -> dict[str, float]:
    """Ranking metrics of one model's recommendations against the holdout.

    :param recommendations: user → recommended items, best first (from :func:`parse_batch_output`).
    :param relevant: user → held-out items; only these users are scored.
    :param catalog: the item ids coverage is measured against (see :func:`read_catalog`); items a model
        recommends outside it do not count, so a champion trained on an older catalog is not
        rewarded for recommending items that left it.
    :param k_values: cut-offs for ndcg, precision, recall and mrr; coverage uses the largest.
    :return: ``ndcg_at_k``, ``precision_at_k``, ``recall_at_k``, ``mrr_at_k`` per k and ``coverage``
        from :func:`personalize_metrics.ranking_metrics`, plus ``users_evaluated`` (users
        with held-out items) and ``users_missing`` (of those, the ones without recommendations, who
        score 0).
    """
    scored = {user: items for user, items in relevant.items() if items}
    recommended = {user: recommendations[user] for user in scored if recommendations.get(user)}
    result = personalize_metrics.ranking_metrics(recommended, scored, catalog=catalog, ks=tuple(k_values))
    result["users_evaluated"] = len(scored)
    result["users_missing"] = len(scored) - len(recommended)
    return result


@dataclass(frozen=True)
class Evaluated:
    """One model's holdout evaluation: what the gate compares.

    :param name: a label for reports ("champion", or the solution's name).
    :param solution_version_arn: the solution version the batch inference ran on.
    :param metrics: from :func:`evaluate`.
    :param recipe: the recipe ARN or name, for the report.
    :param batch: the batch output counts (:meth:`BatchOutput.counts`).
    """

    name: str
    solution_version_arn: str
    metrics: Mapping[str, float]
    recipe: str | None = None
    batch: Mapping[str, int] = field(default_factory=dict)

    def metric(self, name: str) -> float | None:
        """The metric's value, or None when it is absent or not a finite number."""
        value = self.metrics.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return None
        return float(value)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "solution_version_arn": self.solution_version_arn,
            "recipe": self.recipe,
            "metrics": dict(self.metrics),
            "batch": dict(self.batch),
        }


def evaluate_batch_output(
    s3_client: Any,
    *,
    evaluation: EvaluationLayout,
    model: str,
    solution_version_arn: str,
    recipe: str | None,
    users: Collection[str],
    holdout: Holdout,
    catalog: Collection[str],
) -> Evaluated:
    """One model's batch output (``batch/<model>/`` of the evaluation) scored on the sampled users.

    Lines that did not count are logged as warnings; users the model left out score 0.

    :param model: the model's label and the name of its output folder ("champion", or the solution's).
    :param users: the users of the batch input (:func:`read_batch_input`).
    :param holdout: from :func:`read_holdout`; a user without relevant items there is not scored.
    :param catalog: from :func:`read_catalog`.
    """
    output = read_batch_output(
        s3_client, bucket=evaluation.bucket, prefix=evaluation.batch_output(model), expected_users=set(users)
    )
    for problem in output.problems:
        log.warning("%s batch output: %s", model, problem)
    metrics = evaluate(
        output.recommendations, {u: holdout.relevant.get(u, frozenset()) for u in users}, catalog=catalog
    )
    return Evaluated(
        name=model,
        solution_version_arn=solution_version_arn,
        metrics=metrics,
        recipe=recipe,
        batch=output.counts(),
    )


# --- report --------------------------------------------------------------------------------------


def evaluation_report(
    *,
    use_case: str,
    export_version: str,
    champion: Evaluated | None,
    challengers: Sequence[Evaluated],
    decision: Decision,
    holdout: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """The evaluation as a JSON-ready document: every model's metrics, the decision and why.

    :param holdout: what was evaluated on (users sampled, rows, event types), recorded as given.
    :param run_id: the pipeline run, to trace the report back.
    """
    return {
        "use_case": use_case,
        "export_version": export_version,
        "run_id": run_id,
        "created_at": (created_at or datetime.now(UTC)).isoformat(),
        "holdout": dict(holdout or {}),
        "champion": champion.as_dict() if champion else None,
        "challengers": [c.as_dict() for c in challengers],
        "decision": decision.as_dict(),
    }


_COLOURS = ("#4d4d4d", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def _models(report: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    models = (
        [(f"champion: {report['champion']['name']}", report["champion"])] if report.get("champion") else []
    )
    return models + [(c["name"], c) for c in report.get("challengers", [])]


def _format(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else html.escape(str(value))


def _bar_chart(report: Mapping[str, Any], chart_metrics: Sequence[str]) -> str:
    models = _models(report)
    bar, gap, top, left, height = 14, 22, 20, 50, 220
    group = max(max(len(models), 1) * bar + gap, 100)
    width = left + len(chart_metrics) * group + 20
    legend_top = top + height + 40
    total_height = legend_top + 18 * len(models) + 10
    peak = max([m["metrics"].get(name) or 0.0 for _, m in models for name in chart_metrics] + [1e-9])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total_height}" role="img" '
        f'aria-label="champion vs challengers">',
        f'<line x1="{left}" y1="{top + height}" x2="{width - 10}" y2="{top + height}" stroke="#999"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" font-size="10">{peak:.3f}</text>',
        f'<text x="{left - 6}" y="{top + height}" text-anchor="end" font-size="10">0</text>',
    ]
    for g, name in enumerate(chart_metrics):
        x0 = left + g * group + gap / 2
        for index, (label, model) in enumerate(models):
            value = model["metrics"].get(name)
            value = value if isinstance(value, int | float) and math.isfinite(value) else 0.0
            h = height * value / peak
            parts.append(
                f'<rect class="bar" x="{x0 + index * bar:.1f}" y="{top + height - h:.1f}" width="{bar - 2}" height="{h:.1f}" '
                f'fill="{_COLOURS[index % len(_COLOURS)]}"><title>{html.escape(label)} {html.escape(name)} '
                f"{value:.4f}</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + len(models) * bar / 2:.1f}" y="{top + height + 16}" text-anchor="middle" '
            f'font-size="11">{html.escape(name)}</text>'
        )
    for index, (label, _) in enumerate(models):
        y = legend_top + 18 * index
        parts.append(
            f'<rect class="legend" x="{left}" y="{y}" width="12" height="12" fill="{_COLOURS[index % len(_COLOURS)]}"/>'
        )
        parts.append(f'<text x="{left + 18}" y="{y + 10}" font-size="12">{html.escape(label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _history_line(history: Sequence[Mapping[str, Any]], metric: str) -> str:
    """The gate metric of the champion and the best challenger, one point per run, oldest left."""

    def finite(value: Any) -> float | None:
        return float(value) if isinstance(value, int | float) and math.isfinite(value) else None

    points = []
    for entry in history:
        champion = finite(((entry.get("champion") or {}).get("metrics") or {}).get(metric))
        challengers = [finite(c.get("metrics", {}).get(metric)) for c in entry.get("challengers", [])]
        best = max((v for v in challengers if v is not None), default=None)
        points.append((str(entry.get("created_at", ""))[:10], champion, best))
    if len(points) < 2:
        return ""
    width, height, left, top = 560, 160, 50, 15
    peak = max([v for _, *pair in points for v in pair if v is not None] + [1e-9])
    step = (width - left - 30) / (len(points) - 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 60}" role="img" '
        f'aria-label="{html.escape(metric)} over past runs">',
        f'<line x1="{left}" y1="{top + height}" x2="{width - 20}" y2="{top + height}" stroke="#999"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" font-size="10">{peak:.3f}</text>',
        f'<text x="{left - 6}" y="{top + height}" text-anchor="end" font-size="10">0</text>',
    ]
    for i, (day, *_) in enumerate(points):
        parts.append(
            f'<text x="{left + i * step:.1f}" y="{top + height + 14}" text-anchor="middle" font-size="9">{html.escape(day)}</text>'
        )
    for series, (colour, label) in enumerate((("#4d4d4d", "champion"), ("#1f77b4", "best challenger"))):
        coords = [
            (left + i * step, top + height - height * point[series + 1] / peak)
            for i, point in enumerate(points)
            if point[series + 1] is not None
        ]
        if len(coords) > 1:
            line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{line}"/>')
        parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in coords)
        parts.append(
            f'<text x="{left + 130 * series}" y="{top + height + 40}" font-size="12" fill="{colour}">{label}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def evaluation_html(
    report: Mapping[str, Any],
    *,
    history: Sequence[Mapping[str, Any]] = (),
    chart_metrics: Sequence[str] = CHART_METRICS,
) -> str:
    """A standalone HTML page (inline SVG, no scripts, no network) for one evaluation report.

    :param report: from :func:`evaluation_report`.
    :param history: earlier reports, oldest first (the registry's evaluation history); shown as a table
        and a line of the gate's metric over runs.
    :param chart_metrics: the metrics drawn as bars.
    """
    decision = report["decision"]
    metric = decision.get("metric", "ndcg_at_10")
    models = _models(report)
    names = sorted({name for _, m in models for name in m["metrics"]})
    header = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    rows = "".join(
        f"<tr><td>{html.escape(label)}</td><td><code>{html.escape(m['solution_version_arn'])}</code></td>"
        + "".join(f"<td>{_format(m['metrics'].get(n, ''))}</td>" for n in names)
        + "</tr>"
        for label, m in models
    )
    past = "".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            html.escape(str(entry.get("created_at", ""))),
            html.escape(str(entry.get("export_version", ""))),
            "promoted" if entry["decision"].get("promote") else "kept champion",
            html.escape(str(entry["decision"].get("winner") or "")),
            html.escape(str(entry["decision"].get("reason", ""))),
        )
        for entry in history
    )
    verdict = "PROMOTE" if decision.get("promote") else "KEEP CHAMPION"
    title = f"{report['use_case']}: evaluation of export {report['export_version']}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}}code{{font-size:11px}}
.decision{{font-size:18px;padding:.5em;background:#f3f3f3}}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Run {html.escape(str(report.get("run_id") or ""))}, {html.escape(str(report.get("created_at", "")))};
holdout: {html.escape(json.dumps(report.get("holdout", {}), sort_keys=True))}</p>
<p class="decision"><b>{verdict}</b> on {html.escape(metric)}: {html.escape(decision.get("reason", ""))}</p>
<h2>Champion vs challengers</h2>
{_bar_chart(report, chart_metrics)}
<table><tr><th>model</th><th>solution version</th>{header}</tr>{rows}</table>
<h2>Past runs</h2>
{_history_line([*history, report], metric)}
<table><tr><th>evaluated at</th><th>export version</th><th>decision</th><th>winner</th><th>reason</th></tr>
{past or '<tr><td colspan="5">no earlier runs</td></tr>'}</table>
</body></html>
"""


def publish_evaluation(
    s3_client: Any,
    *,
    version: VersionLayout,
    run_key: str,
    report: Mapping[str, Any],
    html_page: str,
) -> dict[str, str]:
    """Write the report and its page to the version's ``evaluation/<run_key>/``.

    Each evaluating run has its own folder (a version can be evaluated by several runs); a retry of the
    same run rewrites its own two objects. The version's data and manifest are never touched.

    :param version: the evaluated export version's folder.
    :param run_key: a key-safe id of the evaluating run (letters, digits, ``_ . -``).
    :param report: from :func:`evaluation_report`.
    :param html_page: from :func:`evaluation_html`.
    :return: ``{"json": uri, "html": uri}``.
    """
    if not run_key or not all(c.isalnum() or c in "_.-" for c in run_key):
        raise ValueError(f"run_key {run_key!r} must be letters, digits, '_', '.', '-'")
    evaluation = version.evaluation(run_key)
    body = (json.dumps(report, indent=2, sort_keys=True, default=str) + "\n").encode()
    s3_client.put_object(
        Bucket=evaluation.bucket, Key=evaluation.report, Body=body, ContentType="application/json"
    )
    s3_client.put_object(
        Bucket=evaluation.bucket,
        Key=evaluation.page,
        Body=html_page.encode(),
        ContentType="text/html; charset=utf-8",
    )
    return {"json": evaluation.uri(evaluation.report), "html": evaluation.uri(evaluation.page)}
