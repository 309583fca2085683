"""The export, step by step: stage and clean in the warehouse, validate, publish a version to S3.

Each step is a plain function over an Engine and a boto3 S3 client, so it runs the same inside an
Airflow task, a benchmark or a test. Staged tables are named by a run key, so a retried step
rebuilds its own tables and never sees another run's.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from personalize_pipelines import cleaning, schemas
from personalize_pipelines.cleaning import StagingNames
from personalize_pipelines.config import DatasetSpec, FieldSpec, UseCase
from personalize_pipelines.dialects import compile_sql
from personalize_pipelines.engines import Engine, QueryError
from personalize_pipelines.layout import VersionLayout
from personalize_pipelines.publish import VersionWriter, move_latest_pointer, new_version_name
from personalize_pipelines.templates import render_query
from personalize_pipelines.windows import Window, holdout_start

if TYPE_CHECKING:
    import pyarrow as pa

    from personalize_pipelines.unload import UnloadedPart

log = logging.getLogger(__name__)
INTERACTION_COLUMNS = [
    ("USER_ID", "string"),
    ("ITEM_ID", "string"),
    ("TIMESTAMP", "long"),
    ("EVENT_TYPE", "string"),
    ("EVENT_VALUE", "float"),
]
UNKNOWN_SHOWN = 20  # the most frequent unmapped raw event types listed per source


class DataQualityError(RuntimeError):
    """The input is too broken to publish: the message names the rules and counts."""


class ExportQueryError(ValueError):
    """A use case's SQL the warehouse refuses, or whose columns are not the ones the export reads: the
    message names the use case, the source and its file, and for columns what was expected and returned."""


class CompiledWarehouse:
    """An engine fed the cleaning's SQL (Postgres's dialect) compiled to the warehouse's."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect

    def execute(self, sql: str) -> None:
        self.engine.execute(compile_sql(sql, self.dialect))

    def query(self, sql: str) -> list[tuple]:
        return self.engine.query(compile_sql(sql, self.dialect))

    def stream(self, sql: str, *, batch_rows: int) -> Iterator[pa.RecordBatch]:
        return self.engine.stream(compile_sql(sql, self.dialect), batch_rows=batch_rows)

    def unload(self, sql: str, *, uri_prefix: str) -> list[UnloadedPart]:
        return self.engine.unload(compile_sql(sql, self.dialect), uri_prefix=uri_prefix)


def run_key(use_case: str, run_id: str) -> str:
    """A short, deterministic, identifier-safe key for one run's staged tables."""
    return hashlib.sha1(f"{use_case}/{run_id}".encode()).hexdigest()[:12]


def render_sql(relative_path: str, *, window: Window, use_case: UseCase, sql_root: Path) -> str:
    """A source's SQL rendered for the export window (Jinja sees ``window`` and ``use_case``)."""
    return render_query(
        relative_path, sql_root=sql_root, window=window.template_context(), use_case=use_case.name
    )


@dataclass(frozen=True)
class ExportContext:
    use_case: UseCase
    window: Window
    names: StagingNames
    sql_root: Path | None = None

    @property
    def sql_dir(self) -> Path:
        """The SQL files' folder: ``sql_root`` when given, else the use case's project's."""
        return self.sql_root or self.use_case.project.sql_dir

    @property
    def holdout_start_epoch(self) -> int | None:
        if self.use_case.holdout.strategy != "last_days":
            return None
        return int(holdout_start(self.window, days=self.use_case.holdout.days).timestamp())


def stage(
    engine: Engine, ctx: ExportContext, *, progress: Callable[[str], None] = log.info
) -> dict[str, Any]:
    """Extract every source, clean it in the warehouse, and return the per-rule accounting."""
    uc, names = ctx.use_case, ctx.names
    drop_staging(engine, names)
    warehouse = CompiledWarehouse(engine)
    rendered = {
        s.name: render_sql(s.sql, window=ctx.window, use_case=uc, sql_root=ctx.sql_dir) for s in uc.sources
    }
    datasets = {
        kind: (spec, render_sql(spec.sql, window=ctx.window, use_case=uc, sql_root=ctx.sql_dir), id_column)
        for kind, spec, id_column in (("items", uc.items, "item_id"), ("users", uc.users, "user_id"))
        if spec is not None
    }
    for source in uc.sources:
        check_query(
            engine,
            ctx,
            f"source {source.name!r}",
            source.sql,
            rendered[source.name],
            cleaning.source_columns(source),
        )
    for kind, (spec, sql, id_column) in datasets.items():
        check_query(engine, ctx, kind, spec.sql, sql, cleaning.dataset_columns(spec, id_column=id_column))
    raw_union = cleaning.raw_union_sql(rendered, uc)
    steps = [
        (
            "extract and classify sources",
            cleaning.classify_sql(
                names, raw_union, uc, window_start=ctx.window.start_epoch, window_end=ctx.window.end_epoch
            ),
        ),
        ("raw view", cleaning.raw_view_sql(names)),
        (
            "deduplicate; part into train, holdout, bots, sparse users",
            cleaning.partition_sql(names, uc, holdout_start=ctx.holdout_start_epoch or 0),
        ),
        *(("part views", sql) for sql in cleaning.part_views_sql(names)),
    ]
    for label, sql in steps:
        started = time.monotonic()
        try:
            warehouse.execute(sql)
        except QueryError as exc:
            refused = _refused_source(warehouse, ctx, rendered)
            raise ExportQueryError(f"{uc.name}: {label} failed on {refused}: {exc}") from exc
        progress(f"{label}: {time.monotonic() - started:.2f}s")
    report = interaction_accounting(warehouse, ctx)
    progress(
        f"interactions: {report['raw_rows']:,} raw → {report['train_rows']:,} train + {report['holdout_rows']:,} holdout; "
        f"dropped {report['dropped']}"
    )
    _log_event_types_and_defects(report, uc, progress)
    for kind, (spec, sql, id_column) in datasets.items():
        try:
            warehouse.execute(cleaning.dataset_sql(getattr(names, kind), sql, spec, id_column=id_column))
        except QueryError as exc:
            raise ExportQueryError(f"{uc.name}: {kind} ({ctx.sql_dir / spec.sql}) failed: {exc}") from exc
        report[kind] = _dataset_accounting(warehouse, getattr(names, kind), spec, uc.cleaning.min_column_fill)
        progress(f"{kind}: {report[kind]['rows']:,} rows; dropped {report[kind]['dropped']}")
    _enforce_defect_threshold(report, uc)
    return report


def _log_event_types_and_defects(
    report: dict[str, Any], uc: UseCase, progress: Callable[[str], None]
) -> None:
    for name, entry in report["by_source"].items():
        if entry["unknown_event_types"]:
            shown = ", ".join(f"{raw!r}: {n:,}" for raw, n in entry["unknown_event_types"].items())
            progress(f"source {name!r}: raw event types not in its event_types mapping (dropped): {shown}")
    progress(f"published rows per EVENT_TYPE: {report['event_types']}")
    for warning in report["warnings"]:
        log.warning(warning)
    progress(
        f"defects: {report['defect_rows']:,} of {report['in_window_rows']:,} in-window rows "
        f"({report['defect_fraction']:.2%}; limit cleaning.max_defect_fraction {uc.cleaning.max_defect_fraction:.1%}); "
        f"bots (cleaning.max_events_per_user {uc.cleaning.max_events_per_user:,}, not defects): "
        f"{report['bots']['users']:,} users, {report['bots']['rows']:,} rows"
    )


def _refused_source(warehouse: CompiledWarehouse, ctx: ExportContext, rendered: dict[str, str]) -> str:
    """Which source's rows the warehouse refuses (each scanned alone), for the error; all, if none alone."""
    for source in ctx.use_case.sources:
        try:
            warehouse.query(cleaning.source_scan_sql(source, rendered[source.name]))
        except QueryError:
            return f"the rows of source {source.name!r} ({ctx.sql_dir / source.sql})"
    return "the sources' rows (" + ", ".join(str(ctx.sql_dir / s.sql) for s in ctx.use_case.sources) + ")"


def check_query(
    engine: Engine, ctx: ExportContext, what: str, file: str, sql: str, expected: list[str]
) -> None:
    """Compile one rendered query in the warehouse (no row read) and compare its columns with those the
    export reads; raise :class:`ExportQueryError` naming the use case, ``what`` and the file otherwise."""
    where = f"{ctx.use_case.name}: {what} ({ctx.sql_dir / file})"
    try:
        returned = engine.columns(sql)
    except QueryError as exc:
        raise ExportQueryError(f"{where}: the warehouse refuses the query: {exc}") from exc
    folded = {engine.fold_identifier(r) for r in returned}
    missing = [c for c in expected if engine.fold_identifier(c) not in folded]
    if missing:
        raise ExportQueryError(
            f"{where} returns no {', '.join(missing)}: expected columns {', '.join(expected)}; "
            f"the query returns {', '.join(returned)}"
        )


def interaction_accounting(warehouse: CompiledWarehouse, ctx: ExportContext) -> dict[str, Any]:
    by_source: dict[str, dict[str, Any]] = {}
    dropped = dict.fromkeys(cleaning.ROW_RULES, 0)
    changed = dict.fromkeys(cleaning.CHANGE_RULES, 0)
    uc = ctx.use_case
    for source in uc.sources:
        by_source[source.name] = {
            "raw": 0,
            "dropped": {},
            "kept": 0,
            "kept_by_event_type": dict.fromkeys(sorted(set(source.event_types.values())), 0),
            "unknown_event_types": {},
        }
    rows = warehouse.query(cleaning.rule_counts_sql(ctx.names))
    for source, rule, event_type, count, ms, normalised, ids in rows:
        entry = by_source[source]
        entry["raw"] += int(count)
        if rule is None:
            entry["kept"] += int(count)
            entry["kept_by_event_type"][event_type] += int(count)
            for name, value in zip(cleaning.CHANGE_RULES, (ms, normalised, ids), strict=True):
                changed[name] += int(value or 0)
        else:
            entry["dropped"][rule] = entry["dropped"].get(rule, 0) + int(count)
            dropped[rule] += int(count)
    for source, raw, count in warehouse.query(cleaning.unknown_event_types_sql(ctx.names, top=UNKNOWN_SHOWN)):
        by_source[source]["unknown_event_types"][raw] = int(count)
    event_types: dict[str, dict[str, int]] = {}
    for event_type, part, count in warehouse.query(cleaning.event_type_parts_sql(ctx.names)):
        event_types.setdefault(event_type, {"train": 0, "holdout": 0})[part] = int(count)
    parts = {
        part: (int(rows), int(users))
        for part, rows, users in warehouse.query(cleaning.part_counts_sql(ctx.names))
    }
    kept = sum(entry["kept"] for entry in by_source.values())
    dropped["duplicate"] = kept - sum(rows for rows, _ in parts.values())
    dropped["bot_user"], bot_users = parts.get("bot_user", (0, 0))
    dropped["below_min_interactions"], below_users = parts.get("below_min_interactions", (0, 0))
    dropped["beyond_recent_cap"], capped_users = parts.get("beyond_recent_cap", (0, 0))
    train_rows, holdout_rows = parts.get("train", (0, 0))[0], parts.get("holdout", (0, 0))[0]
    raw_rows = sum(entry["raw"] for entry in by_source.values())
    accounted = sum(dropped.values()) + train_rows + holdout_rows
    if accounted != raw_rows:
        raise AssertionError(f"row accounting broken: {raw_rows} raw but {accounted} accounted for")
    in_scope = raw_rows - sum(dropped[rule] for rule in cleaning.WINDOW_RULES)
    defects = {rule: count for rule, count in dropped.items() if rule not in cleaning.NOT_DEFECTS}
    defect_rows = sum(defects.values())
    return {
        "raw_rows": raw_rows,
        "by_source": by_source,
        "dropped": dropped,
        "changed": changed,
        "bots": {"users": bot_users, "rows": dropped["bot_user"]},
        "event_types": event_types,
        "warnings": _event_type_warnings(uc, by_source),
        "defects": defects,
        "users_below_min": below_users,
        "recent_cap": {
            "max_recent_events_per_user": uc.cleaning.max_recent_events_per_user,
            "users": capped_users,
            "rows": dropped["beyond_recent_cap"],
        },
        "train_rows": train_rows,
        "holdout_rows": holdout_rows,
        "in_window_rows": in_scope,
        "defect_rows": defect_rows,
        "defect_fraction": round(defect_rows / in_scope, 6) if in_scope else 0.0,
    }


def _event_type_warnings(uc: UseCase, by_source: dict[str, dict[str, Any]]) -> list[str]:
    """A mapped EVENT_TYPE no kept row of its source has: a mapping that matches nothing in the window."""
    warnings = []
    for source in uc.sources:
        for event_type, count in by_source[source.name]["kept_by_event_type"].items():
            if count == 0:
                raws = sorted(raw for raw, target in source.event_types.items() if target == event_type)
                warnings.append(
                    f"source {source.name!r}: no row in the window is {event_type} "
                    f"(mapped from {', '.join(map(repr, raws))})"
                )
    return warnings


def _dataset_accounting(
    warehouse: CompiledWarehouse, table: str, spec: DatasetSpec, min_fill: float
) -> dict[str, Any]:
    dropped: dict[str, int] = {}
    kept = 0
    fills = [0] * len(spec.fields)
    for rule, count, *filled in warehouse.query(cleaning.dataset_counts_sql(table, spec)):
        if rule is None:
            kept = int(count)
            fills = [int(v or 0) for v in filled]
        else:
            dropped[rule] = int(count)
    fill_ratio = {
        f.name: round(n / kept, 6) if kept else 0.0 for f, n in zip(spec.fields, fills, strict=True)
    }
    optional = {f.name for f in spec.fields if f.optional}
    too_sparse = {name: ratio for name, ratio in fill_ratio.items() if ratio < min_fill and name in optional}
    return {
        "raw": kept + sum(dropped.values()),
        "rows": kept,
        "dropped": dropped,
        "fill_ratio": fill_ratio,
        "columns_dropped": too_sparse,
        "columns": [f.name for f in spec.fields if f.name not in too_sparse],
    }


def _enforce_defect_threshold(report: dict[str, Any], uc: UseCase) -> None:
    limit = uc.cleaning.max_defect_fraction
    if report["defect_fraction"] > limit:
        rules = {rule: n for rule, n in report["defects"].items() if n}
        raise DataQualityError(
            f"{uc.name}: {report['defect_rows']:,} of {report['in_window_rows']:,} in-window rows are defective "
            f"({report['defect_fraction']:.1%} > cleaning.max_defect_fraction {limit:.1%}); by rule: {rules}"
        )


def validation_parameters(ctx: ExportContext) -> dict[str, Any]:
    return {
        "window_start": ctx.window.start_epoch,
        "window_end": ctx.window.end_epoch - 1,
        "event_types": ctx.use_case.event_types,
        "raw_event_types": sorted({raw for source in ctx.use_case.sources for raw in source.event_types}),
        "min_interactions": ctx.use_case.quality.min_interactions,
        "min_users_with_two": ctx.use_case.quality.min_users_with_two,
    }


def validate(
    engine: Engine,
    ctx: ExportContext,
    *,
    gx_connection_string: str | None = None,
    suites_dir: Path | None = None,
) -> dict[str, Any]:
    """Source quality (warn) on the unified source rows, then the Personalize contract (fail) on the training rows.

    GX Core runs the suites itself on engines it supports (pass `gx_connection_string`); elsewhere the
    same suites are evaluated as SQL aggregates in the warehouse. Raises ContractViolation.
    """
    from personalize_pipelines.validation import html_report, load_suite, validate_in_sql, validate_with_gx

    params = validation_parameters(ctx)
    suites_dir = suites_dir or ctx.use_case.project.expectations_dir
    outcomes = {}
    for suite_name, table in (
        ("source_quality", ctx.names.raw),
        ("personalize_contract", ctx.names.interactions),
    ):
        suite = load_suite(suites_dir / f"{suite_name}.json")
        if gx_connection_string:
            schema, _, bare_table = table.partition(".")
            result = validate_with_gx(
                suite=suite,
                connection_string=gx_connection_string,
                schema=schema,
                table=bare_table,
                parameters=params,
            )
        else:
            result = validate_in_sql(
                suite=suite, table=table, dialect=engine.dialect, run_query=engine.query, parameters=params
            )
        outcomes[suite_name] = result
        log.info("%s: %s", suite_name, "passed" if result.success else "FAILED")
    outcomes["personalize_contract"].raise_for_contract()
    return {
        "success": all(r.success for r in outcomes.values()),
        "suites": {name: r.to_dict() for name, r in outcomes.items()},
        "report_html": html_report(
            list(outcomes.values()),
            title=f"{ctx.use_case.name}: export validation, window {ctx.window.start:%Y-%m-%d} to {ctx.window.end:%Y-%m-%d}",
        ),
    }


def _published_select(table: str, columns: list[tuple[str, str]], *, where: str = "") -> str:
    return f"SELECT {', '.join(name.lower() for name, _ in columns)} FROM {table}{where}"


def _publish_dataset(
    writer: VersionWriter,
    warehouse: CompiledWarehouse,
    folder: str,
    select: str,
    columns: list[tuple[str, str]],
    *,
    unload: bool,
    part_rows: int,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """One dataset's rows as CSV parts under ``folder`` (streamed through the worker, or unloaded by the
    warehouse), with the fingerprint of what they hold."""
    ((rows, first, second),) = warehouse.query(cleaning.fingerprint_sql(f"({select}) published", columns))
    if unload:
        parts = writer.record_landed(
            folder, warehouse.unload(select, uri_prefix=writer.layout.uri(writer.layout.key(f"{folder}/")))
        )
        progress(f"{folder}: the warehouse unloaded {rows:,} rows in {len(parts)} part(s)")
    else:
        parts = writer.put_csv_parts(
            folder,
            warehouse.stream(select, batch_rows=256_000),
            columns=[name for name, _ in columns],
            part_rows=part_rows,
            progress=progress,
        )
    written = sum(p.rows or 0 for p in parts)
    if written != rows:
        raise RuntimeError(f"{folder}: {rows:,} staged rows but {written:,} written; the staging changed")
    return {
        "rows": written,
        "parts": len(parts),
        "columns": [name for name, _ in columns],
        "fingerprint": cleaning.fingerprint(rows, first, second),
    }


def _unloads(engine: Engine, uc: UseCase, report: dict[str, Any], progress: Callable[[str], None]) -> bool:
    """Whether the warehouse writes this version itself: ``export.unload``, or more published interactions
    than ``export.unload_above_rows``, on a warehouse that can write to S3."""
    settings, published = uc.export, report["train_rows"] + report["holdout_rows"]
    wanted = settings.may_unload and (settings.unload or published > settings.unload_above_rows)
    if wanted and not engine.can_unload:
        progress(
            f"unload: a {engine.dialect} warehouse cannot write to S3; the rows stream through the worker"
        )
    return wanted and engine.can_unload


def publish(
    engine: Engine,
    ctx: ExportContext,
    *,
    s3_client: Any,
    report: dict[str, Any],
    validation: dict[str, Any],
    version: str | None = None,
    progress: Callable[[str], None] = log.info,
) -> dict[str, Any]:
    """Write every dataset, schema and report under a new version, then the manifest, then `latest`."""
    uc = ctx.use_case
    manifest = write_version(
        engine,
        ctx,
        s3_client=s3_client,
        report=report,
        validation=validation,
        use_case_prefix=uc.s3_prefix,
        version=version or new_version_name(ctx.window.end),
        progress=progress,
    )
    moved = move_latest_pointer(
        s3_client, bucket=uc.s3.bucket, use_case_prefix=uc.s3_prefix, manifest=manifest
    )
    progress(
        f"published {manifest['uri']} ({manifest['datasets']['interactions']['rows']:,} training rows); "
        f"latest moved: {moved}"
    )
    return manifest


def write_version(
    engine: Engine,
    ctx: ExportContext,
    *,
    s3_client: Any,
    report: dict[str, Any],
    validation: dict[str, Any],
    use_case_prefix: str,
    version: str,
    extra: dict[str, Any] | None = None,
    progress: Callable[[str], None] = log.info,
) -> dict[str, Any]:
    """Write every dataset, schema and report under ``<use_case_prefix>/<version>/``, the manifest last
    (``extra`` added to it); no pointer moves. Returns the manifest."""
    uc = ctx.use_case
    writer = VersionWriter(
        client=s3_client, bucket=uc.s3.bucket, use_case_prefix=use_case_prefix, version=version
    )
    writer.ensure_new()
    warehouse = CompiledWarehouse(engine)
    progress(f"publishing {writer.uri}")
    event_value = uc.has_event_value
    interaction_columns = INTERACTION_COLUMNS[: 5 if event_value else 4]
    publish_dataset = partial(
        _publish_dataset,
        writer,
        warehouse,
        unload=_unloads(engine, uc, report, progress),
        part_rows=uc.s3.part_rows,
        progress=progress,
    )
    datasets: dict[str, dict[str, Any]] = {}
    schema_docs = {"interactions": schemas.interactions_schema(event_value=event_value)}
    for folder, table in (("interactions", ctx.names.interactions), ("holdout", ctx.names.holdout)):
        select = _published_select(table, interaction_columns)
        datasets[folder] = publish_dataset(folder, select, interaction_columns)
    for kind, spec, id_column, make_schema in (
        ("items", uc.items, "ITEM_ID", schemas.items_schema),
        ("users", uc.users, "USER_ID", schemas.users_schema),
    ):
        if spec is None:
            continue
        kept = report[kind]["columns"]
        fields: list[FieldSpec] = [f for f in spec.fields if f.name in kept]
        columns = [(id_column, "string"), *((f.name, f.type) for f in fields)]
        select = _published_select(getattr(ctx.names, kind), columns, where=" WHERE drop_rule IS NULL")
        datasets[kind] = publish_dataset(kind, select, columns)
        schema_docs[kind] = make_schema(fields)
    for kind, document in schema_docs.items():
        writer.put_json(VersionLayout.schema(kind), document)
    for suite_name, result in validation["suites"].items():
        writer.put_json(VersionLayout.validation(suite_name), result)
    writer.put_bytes(
        VersionLayout.VALIDATION_REPORT, validation["report_html"].encode(), content_type="text/html"
    )
    manifest = writer.commit(
        {
            "use_case": uc.name,
            "created_at": datetime.now(UTC).isoformat(),
            "window": ctx.window.as_dict(),
            "holdout": _holdout_description(ctx),
            "datasets": datasets,
            "cleaning": report,
            "validation": {
                "success": validation["success"],
                "suites": {n: r["success"] for n, r in validation["suites"].items()},
            },
            "code_version": uc.project.code_version(),
            **(extra or {}),
        }
    )
    return manifest


def _holdout_description(ctx: ExportContext) -> dict[str, Any]:
    holdout = ctx.use_case.holdout
    if holdout.strategy == "last_days":
        start = holdout_start(ctx.window, days=holdout.days)
        return {
            "strategy": "last_days",
            "days": holdout.days,
            "start": start.isoformat(),
            "end": ctx.window.end.isoformat(),
        }
    return {"strategy": "user_fraction", "fraction": holdout.fraction}


def drop_staging(engine: Engine, names: StagingNames) -> list[str]:
    """Drop this run's staged views and tables (idempotent)."""
    staged = engine.staged_tables(f"r_{names.run_key}_")
    for name, kind in sorted(staged, key=lambda entry: entry[1] != "VIEW"):
        engine.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} IF EXISTS {name}")
    return [name for name, _ in staged]
