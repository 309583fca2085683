"""The experiment's exports: the widest window extracted and cleaned once, then each variant filtered
from it in the warehouse, every variant sharing that one holdout.

:func:`stage_shared` runs the export's own :func:`~personalize_pipelines.export.stage` over the window
that covers every variant (no per-user cap); :func:`stage_variant` stages one variant as views and one
table over it — its rows outside its window counted under ``before_window`` / ``future_timestamp``, its
cap applied by the export's partition — with the holdout, items and users being the shared ones;
:func:`publish_variant` validates and writes it under the experiment's folder as a version is written,
without moving ``latest.json``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from personalize_pipelines import cleaning
from personalize_pipelines.cleaning import StagingNames
from personalize_pipelines.engines import Engine
from personalize_pipelines.experiment.grid import Variant
from personalize_pipelines.export import (
    CompiledWarehouse,
    ExportContext,
    drop_staging,
    interaction_accounting,
    run_key,
    stage,
    validate,
    write_version,
)
from personalize_pipelines.layout import ExperimentLayout
from personalize_pipelines.windows import Window, holdout_start, months_before, parse_instant

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExperimentWindows:
    """Where every variant's window sits: all end at ``end`` (the holdout's end), the holdout being the
    use case's last ``holdout.days`` before it."""

    end: datetime
    holdout_days: int

    @property
    def holdout_start(self) -> datetime:
        return self.end - timedelta(days=self.holdout_days)

    def training(self, variant: Variant) -> Window:
        """The variant's training span: ``months`` long, ending ``lag_weeks`` before the holdout."""
        lag = timedelta(weeks=variant.lag_weeks)
        return Window(start=months_before(self.end, variant.months) - lag, end=self.holdout_start - lag)

    def export_window(self, variant: Variant) -> Window:
        """The window the variant's manifest records: its training start to the holdout's end."""
        return Window(start=self.training(variant).start, end=self.end)

    def shared(self, variants: list[Variant]) -> Window:
        """The one window every variant is filtered from."""
        return Window(start=min(self.training(v).start for v in variants), end=self.end)


def experiment_windows(uc: Any, end: str | datetime) -> ExperimentWindows:
    return ExperimentWindows(end=parse_instant(end), holdout_days=uc.holdout.days)


def shared_context(
    uc: Any,
    engine: Engine,
    *,
    experiment: str,
    windows: ExperimentWindows,
    variants: list[Variant],
    **kw: Any,
) -> ExportContext:
    """The export context of the one extraction: the widest window, no per-user cap."""
    uncapped = uc.model_copy(
        update={"cleaning": uc.cleaning.model_copy(update={"max_recent_events_per_user": None})}
    )
    window = windows.shared(variants)
    if holdout_start(window, days=uc.holdout.days) != windows.holdout_start:
        raise ValueError(
            f"{uc.name}: the holdout ({uc.holdout.days} days) is longer than the shortest window"
        )
    names = StagingNames(engine.qualifier, run_key(uc.name, f"experiment/{experiment}"))
    return ExportContext(use_case=uncapped, window=window, names=names, **kw)


def variant_context(shared: ExportContext, variant: Variant, *, windows: ExperimentWindows) -> ExportContext:
    """One variant's export context: its cap, its window, its own staged names."""
    uc = shared.use_case
    capped = uc.model_copy(
        update={"cleaning": uc.cleaning.model_copy(update={"max_recent_events_per_user": variant.cap})}
    )
    names = StagingNames(shared.names.qualifier, run_key(shared.names.run_key, variant.name))
    return ExportContext(
        use_case=capped, window=windows.export_window(variant), names=names, sql_root=shared.sql_root
    )


def stage_shared(
    engine: Engine, ctx: ExportContext, *, progress: Callable[[str], None] = log.info
) -> dict[str, Any]:
    """Extract and clean the widest window once (the export's own stage); the accounting and its seconds."""
    started = time.monotonic()
    report = stage(engine, ctx, progress=progress)
    report["stage_seconds"] = round(time.monotonic() - started, 3)
    return report


def variant_sql(
    shared: StagingNames, names: StagingNames, *, training: Window, holdout_from: int
) -> list[str]:
    """The statements staging one variant over the shared tables (Postgres's dialect), but its partition."""
    rows = (
        "source, user_id, item_id, event_ts, event_type_raw, event_value, ts, event_type, "
        "was_milliseconds, event_type_changed, id_changed"
    )
    return [
        f"""CREATE VIEW {names.classified} AS SELECT {rows},
  CASE WHEN drop_rule IS NOT NULL THEN drop_rule
       WHEN ts < {training.start_epoch} THEN 'before_window'
       WHEN ts >= {training.end_epoch} AND ts < {holdout_from} THEN 'future_timestamp'
  END AS drop_rule
FROM {shared.classified}""",
        cleaning.raw_view_sql(names),
    ]


def stage_variant(
    engine: Engine,
    shared: ExportContext,
    shared_report: dict[str, Any],
    variant: Variant,
    *,
    windows: ExperimentWindows,
    progress: Callable[[str], None] = log.info,
) -> tuple[ExportContext, dict[str, Any]]:
    """Stage one variant from the shared extraction; its context and accounting (with its seconds)."""
    started = time.monotonic()
    ctx = variant_context(shared, variant, windows=windows)
    names = ctx.names
    drop_staging(engine, names)
    holdout_from = int(windows.holdout_start.timestamp())
    statements = [
        *variant_sql(shared.names, names, training=windows.training(variant), holdout_from=holdout_from),
        cleaning.partition_sql(names, ctx.use_case, holdout_start=holdout_from),
        cleaning.part_views_sql(names)[0],
        f"CREATE VIEW {names.holdout} AS SELECT * FROM {shared.names.holdout}",
        *(
            f"CREATE VIEW {getattr(names, kind)} AS SELECT * FROM {getattr(shared.names, kind)}"
            for kind in ("items", "users")
            if getattr(ctx.use_case, kind) is not None
        ),
    ]
    warehouse = CompiledWarehouse(engine)
    for sql in statements:
        warehouse.execute(sql)
    report = interaction_accounting(warehouse, ctx)
    ((users, items),) = warehouse.query(
        f"SELECT count(DISTINCT user_id), count(DISTINCT item_id) FROM {names.interactions}"
    )
    report["training"] = {"rows": report["train_rows"], "users": int(users), "items": int(items)}
    report |= {kind: shared_report[kind] for kind in ("items", "users") if kind in shared_report}
    report["holdout_rows"] = shared_report["holdout_rows"]  # the published holdout is the shared one
    report["stage_seconds"] = round(time.monotonic() - started, 3)
    progress(
        f"{variant.name}: {report['train_rows']:,} training rows "
        f"(capped {report['recent_cap']['rows']:,}) in {report['stage_seconds']:.2f}s"
    )
    return ctx, report


def publish_variant(
    engine: Engine,
    ctx: ExportContext,
    *,
    s3_client: Any,
    report: dict[str, Any],
    experiment: ExperimentLayout,
    variant: Variant,
    training: Window,
    progress: Callable[[str], None] = log.info,
) -> dict[str, Any]:
    """Validate the variant (the Personalize contract fails it) and write it as ``<experiment>/<variant>/``,
    manifest last; ``latest.json`` is not touched. Returns the manifest."""
    validation = validate(engine, ctx)
    return write_version(
        engine,
        ctx,
        s3_client=s3_client,
        report=report,
        validation=validation,
        use_case_prefix=experiment.prefix,
        version=variant.name,
        extra={"experiment": {"variant": variant.as_dict(), "training_window": training.as_dict()}},
        progress=progress,
    )


def exported_summary(manifest: dict[str, Any], report: dict[str, Any]) -> dict[str, Any]:
    """What the experiment's report reads of one published variant: its training rows, users and items,
    the bytes Personalize imports and the seconds its staging took."""
    imported = ("interactions/", "items/", "users/")
    return {
        "variant": manifest["experiment"]["variant"],
        "training_window": manifest["experiment"]["training_window"],
        **report["training"],
        "bytes": sum(f["bytes"] for f in manifest["files"] if f["key"].startswith(imported)),
        "stage_seconds": report["stage_seconds"],
    }
