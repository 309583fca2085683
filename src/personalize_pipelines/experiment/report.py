"""What the experiment found: one row per variant and solution, the recommendation, the cadence, the page.

The recommendation is the cheapest row (estimated training cost, then training rows) whose metric is
within ``tolerance`` (relative) of the best row's; its saving is the best row's cost minus its own, per
training run and per month at the use case's export schedule (each export is a training run).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from personalize_pipelines.experiment.scoring import REPORTED
from personalize_pipelines.layout import ExperimentLayout

WEEKS_PER_MONTH = 52 / 12


def runs_per_month(schedule: str | None) -> float | None:
    """Scheduled runs in 30 days from a cron expression or preset (``@weekly``); None when unscheduled."""
    if not schedule or schedule in ("@once", "@continuous"):
        return None
    from croniter import croniter

    start = datetime(2026, 1, 1, tzinfo=UTC)
    runs, cron = 0, croniter(schedule, start)
    while cron.get_next(datetime) <= start + timedelta(days=30):
        runs += 1
    return float(runs)


def usd(amount: float) -> str:
    """Dollars to the cent, or to two significant digits below a cent (personalize-local's runs)."""
    return f"${amount:,.2f}" if abs(amount) >= 0.01 or amount == 0 else f"${amount:.2g}"


def _cost(row: Mapping[str, Any]) -> float:
    return float(row.get("cost_usd") or 0.0)


def recommend(
    rows: Sequence[Mapping[str, Any]], *, metric: str, tolerance: float, runs_a_month: float | None
) -> dict[str, Any]:
    """The cheapest row within ``tolerance`` of the best on ``metric``, and what it saves against the best."""
    scored = [row for row in rows if math.isfinite(row["metrics"].get(metric, math.nan))]
    if not scored:
        return {"variant": None, "reason": f"no variant was scored on {metric}"}
    best = max(scored, key=lambda r: (r["metrics"][metric], -_cost(r)))
    floor = best["metrics"][metric] * (1 - tolerance)
    within = [row for row in scored if row["metrics"][metric] >= floor]
    chosen = min(within, key=lambda r: (_cost(r), r["rows"], r["variant"]["months"]))
    saving = _cost(best) - _cost(chosen)
    drop = 1 - chosen["metrics"][metric] / best["metrics"][metric] if best["metrics"][metric] else 0.0
    reason = (
        f"{chosen['label']} is the cheapest of the {len(within)} variant(s) within {tolerance:.0%} of the best "
        f"{metric} ({best['label']}: {best['metrics'][metric]:.4f}); it scores {chosen['metrics'][metric]:.4f} "
        f"({drop:.1%} below) and saves {usd(saving)} per training run"
        + (f", {usd(saving * runs_a_month)} a month at {runs_a_month:g} runs" if runs_a_month else "")
    )
    return {
        "variant": chosen["variant"],
        "solution": chosen["solution"],
        "label": chosen["label"],
        "metric": metric,
        "value": chosen["metrics"][metric],
        "best": {"label": best["label"], "value": best["metrics"][metric], "cost_usd": _cost(best)},
        "tolerance": tolerance,
        "saving_per_run_usd": saving,
        "saving_per_month_usd": saving * runs_a_month if runs_a_month else None,
        "reason": reason,
    }


def cadence(rows: Sequence[Mapping[str, Any]], *, metric: str) -> list[dict[str, Any]]:
    """How fast each solution decays: its metric trained 0, 1, 2… weeks before the holdout (the widest
    window, no cap), against the fresh model, and the cost a month of retraining that often."""
    lagged = [r for r in rows if r["variant"]["lag_weeks"]]
    if not lagged:
        return []
    widest = max(r["variant"]["months"] for r in rows)
    found = []
    for solution in sorted({r["solution"] for r in lagged}):
        series = sorted(
            (
                r
                for r in rows
                if r["solution"] == solution
                and r["variant"]["months"] == widest
                and r["variant"]["cap"] is None
            ),
            key=lambda r: r["variant"]["lag_weeks"],
        )
        fresh = next((r for r in series if r["variant"]["lag_weeks"] == 0), None)
        for row in series:
            weeks = row["variant"]["lag_weeks"]
            value = row["metrics"][metric]
            found.append(
                {
                    "solution": solution,
                    "weeks_old": weeks,
                    metric: value,
                    "change_vs_fresh": (value / fresh["metrics"][metric] - 1)
                    if fresh and fresh["metrics"][metric]
                    else None,
                    "cost_per_month_usd": _cost(row) * WEEKS_PER_MONTH / max(weeks, 1),
                }
            )
    return found


def cadence_statement(points: Sequence[Mapping[str, Any]], *, metric: str) -> str | None:
    """ "Retraining weekly instead of every N weeks buys X% <metric> for $Y a month", for the first solution."""
    if not points:
        return None
    solution = points[0]["solution"]
    series = {p["weeks_old"]: p for p in points if p["solution"] == solution}
    oldest = max(series)
    weekly = series.get(1) or series.get(0)
    if weekly is None or oldest <= 1:
        return None
    gain = weekly[metric] / series[oldest][metric] - 1 if series[oldest][metric] else 0.0
    extra = weekly["cost_per_month_usd"] - series[oldest]["cost_per_month_usd"]
    return (
        f"{solution}: retraining weekly instead of every {oldest} weeks buys {gain:+.1%} {metric} "
        f"(a model {weekly['weeks_old']} vs {oldest} weeks old on the same holdout) for {usd(extra)} more a month"
    )


def experiment_report(
    *,
    use_case: str,
    experiment: str,
    params: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    extraction: Mapping[str, Any],
    holdout: Mapping[str, Any],
    schedule: str | None,
    run_id: str | None = None,
) -> dict[str, Any]:
    """The experiment as a JSON-ready document: every row, the recommendation, the cadence."""
    metric, runs = params["metric"], runs_per_month(schedule)
    points = cadence(rows, metric=metric)
    return {
        "use_case": use_case,
        "experiment": experiment,
        "run_id": run_id,
        "created_at": datetime.now(UTC).isoformat(),
        "params": dict(params),
        "holdout": dict(holdout),
        "extraction": dict(extraction),
        "schedule": schedule,
        "runs_per_month": runs,
        "rows": [dict(r) for r in rows],
        "recommendation": recommend(rows, metric=metric, tolerance=params["tolerance"], runs_a_month=runs),
        "cadence": points,
        "cadence_statement": cadence_statement(points, metric=metric),
    }


def _cap(variant: Mapping[str, Any]) -> str:
    return "none" if variant["cap"] is None else str(variant["cap"])


COLUMNS = ("variant", "solution", "months", "cap", "weeks", "rows", "users", "items", "hours", "cost")


def table_rows(report: Mapping[str, Any]) -> list[list[str]]:
    """The table as text cells: the columns of :data:`COLUMNS`, then each metric with its interval."""
    cells = []
    for row in report["rows"]:
        variant = row["variant"]
        cells.append(
            [
                variant["name"],
                row["solution"],
                str(variant["months"]),
                _cap(variant),
                str(variant["lag_weeks"]),
                f"{row['rows']:,}",
                f"{row['users']:,}",
                f"{row['items']:,}",
                "?" if row.get("training_hours") is None else f"{row['training_hours']:.4f}",
                usd(_cost(row)),
                *(
                    f"{row['metrics'][m]:.4f} [{row['intervals'][m][0]:.4f}, {row['intervals'][m][1]:.4f}]"
                    for m in REPORTED
                ),
            ]
        )
    return cells


def table_text(report: Mapping[str, Any]) -> str:
    """The table, the extraction figures and the recommendation as aligned text (logs, ``make experiment``)."""
    header = [*COLUMNS, *(f"{m} [95% CI]" for m in REPORTED)]
    rows = [header, *table_rows(report)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(r, widths, strict=True)) for r in rows]
    extraction = report["extraction"]
    lines.append(
        f"extraction: the widest window once in {extraction['shared_seconds']:.2f}s; each variant filtered from "
        f"it in {extraction['mean_variant_seconds']:.2f}s on average ({extraction['variants']} variants)"
    )
    lines.append("recommendation: " + report["recommendation"]["reason"])
    if report.get("cadence_statement"):
        lines.append("cadence: " + report["cadence_statement"])
    return "\n".join(lines)


PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def _svg_chart(
    title: str, series: Mapping[str, Sequence[tuple[float, float]]], *, x_label: str, y_label: str
) -> str:
    """A small scatter-and-line chart: one coloured series per key, points joined in x order."""
    width, height, pad = 520, 300, 50
    points = [p for values in series.values() for p in values]
    if not points:
        return ""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y0, y1 = 0.0, max(ys) * 1.1 if max(ys) > 0 else 1.0

    def at(x: float, y: float) -> tuple[float, float]:
        return (
            pad + (x - x0) / (x1 - x0) * (width - 2 * pad),
            height - pad - (y - y0) / (y1 - y0) * (height - 2 * pad),
        )

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">',
        f"<title>{html.escape(title)}</title>",
        f'<text x="{width / 2}" y="18" text-anchor="middle" font-weight="bold">{html.escape(title)}</text>',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#333"/>',
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#333"/>',
        f'<text x="{width / 2}" y="{height - 12}" text-anchor="middle">{html.escape(x_label)}</text>',
        f'<text x="14" y="{height / 2}" transform="rotate(-90 14 {height / 2})" text-anchor="middle">{html.escape(y_label)}</text>',
        f'<text x="{pad - 4}" y="{height - pad}" text-anchor="end" font-size="10">{y0:.3g}</text>',
        f'<text x="{pad - 4}" y="{pad + 4}" text-anchor="end" font-size="10">{y1:.3g}</text>',
        f'<text x="{pad}" y="{height - pad + 14}" text-anchor="middle" font-size="10">{x0:.3g}</text>',
        f'<text x="{width - pad}" y="{height - pad + 14}" text-anchor="middle" font-size="10">{x1:.3g}</text>',
    ]
    for index, (name, values) in enumerate(series.items()):
        colour = PALETTE[index % len(PALETTE)]
        placed = [at(x, y) for x, y in sorted(values)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in placed)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}"/>')
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>' for x, y in placed]
        parts.append(
            f'<text x="{width - pad + 4}" y="{pad + 14 * index}" font-size="11" fill="{colour}">{html.escape(name)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def charts(report: Mapping[str, Any]) -> list[str]:
    """Metric vs training hours (a series per solution); metric vs window (a series per solution and cap)."""
    metric = report["params"]["metric"]
    rows = [r for r in report["rows"] if not r["variant"]["lag_weeks"]]
    by_solution: dict[str, list[tuple[float, float]]] = {}
    by_cap: dict[str, list[tuple[float, float]]] = {}
    for row in rows:
        value = row["metrics"][metric]
        by_solution.setdefault(row["solution"], []).append((float(row.get("training_hours") or 0.0), value))
        by_cap.setdefault(f"{row['solution']}, cap {_cap(row['variant'])}", []).append(
            (float(row["variant"]["months"]), value)
        )
    return [
        _svg_chart(f"{metric} vs training hours", by_solution, x_label="training hours", y_label=metric),
        _svg_chart(f"{metric} vs window", by_cap, x_label="window (months)", y_label=metric),
    ]


def experiment_html(report: Mapping[str, Any]) -> str:
    """The report's page: the recommendation, the table, the two charts, the cadence."""
    header = [*COLUMNS, *(f"{m} [95% CI]" for m in REPORTED)]
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"
        for cells in table_rows(report)
    )
    cadence_rows = "".join(
        f"<tr><td>{html.escape(p['solution'])}</td><td>{p['weeks_old']}</td>"
        f"<td>{p[report['params']['metric']]:.4f}</td>"
        f"<td>{'' if p['change_vs_fresh'] is None else format(p['change_vs_fresh'], '+.1%')}</td>"
        f"<td>{usd(p['cost_per_month_usd'])}</td></tr>"
        for p in report["cadence"]
    )
    cadence_table = (
        "<h2>Retraining cadence</h2><table><tr><th>solution</th><th>weeks old</th>"
        f"<th>{html.escape(report['params']['metric'])}</th><th>vs fresh</th><th>$ a month</th></tr>"
        f"{cadence_rows}</table><p>{html.escape(report.get('cadence_statement') or '')}</p>"
        if report["cadence"]
        else ""
    )
    extraction = report["extraction"]
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(report["use_case"])}: experiment {html.escape(report["experiment"])}</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:3px 6px;font-size:13px}}</style>
</head><body>
<h1>{html.escape(report["use_case"])}: the retraining trade-off</h1>
<p><strong>Recommendation:</strong> {html.escape(report["recommendation"]["reason"])}</p>
<p>Holdout: {html.escape(json.dumps(report["holdout"]))}. Extraction: the widest window once in
{extraction["shared_seconds"]:.2f}s, each of {extraction["variants"]} variants filtered from it in
{extraction["mean_variant_seconds"]:.2f}s on average.</p>
<table><tr>{head}</tr>{body}</table>
{"".join(charts(report))}
{cadence_table}
</body></html>
"""


def publish_report(s3_client: Any, *, layout: ExperimentLayout, report: Mapping[str, Any]) -> dict[str, str]:
    """Put experiment.json and experiment.html beside the variants; their URIs."""
    s3_client.put_object(
        Bucket=layout.bucket,
        Key=layout.report,
        Body=(json.dumps(report, indent=2, sort_keys=True, default=str) + "\n").encode(),
        ContentType="application/json",
    )
    s3_client.put_object(
        Bucket=layout.bucket, Key=layout.page, Body=experiment_html(report).encode(), ContentType="text/html"
    )
    return {"report": layout.uri(layout.report), "page": layout.uri(layout.page)}
