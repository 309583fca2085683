"""Task callables of the `<use_case>__export` DAG. Heavy libraries load inside the tasks."""

from __future__ import annotations

import logging
from typing import Any

from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.sdk import task

from personalize_airflow.moments import run_moment

log = logging.getLogger(__name__)


def _open(use_case_name: str, run_id: str, window_end: str):
    """The warehouse engine, GX URL (or None) and export context of this run."""
    from personalize_airflow.use_cases import use_case
    from personalize_airflow.warehouse import warehouse_engine
    from personalize_pipelines.cleaning import StagingNames
    from personalize_pipelines.config import ConfigError
    from personalize_pipelines.export import ExportContext, run_key
    from personalize_pipelines.windows import parse_instant, sliding_window

    try:
        uc = use_case(use_case_name)
    except ConfigError as exc:
        raise AirflowFailException(str(exc)) from exc  # the file is wrong until someone edits it: no retry
    key = run_key(uc.name, run_id)
    window = sliding_window(parse_instant(window_end), months=uc.window.months)
    engine, gx_url = warehouse_engine(uc.warehouse_conn_id, run_key=key)
    return (
        engine,
        gx_url,
        ExportContext(use_case=uc, window=window, names=StagingNames(engine.qualifier, key)),
    )


@task(multiple_outputs=False)
def extract_and_clean(use_case_name: str, **context) -> dict[str, Any]:
    """Check the bucket takes writes, then extract every source for the window and clean it in the
    warehouse; returns the accounting."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from personalize_pipelines.export import DataQualityError, ExportQueryError, stage
    from personalize_pipelines.layout import UseCaseLayout
    from personalize_pipelines.publish import BucketNotWritableError, check_writable

    window_end = run_moment(context).isoformat()
    engine, _, ctx = _open(use_case_name, context["run_id"], window_end)
    uc = ctx.use_case
    try:
        s3 = S3Hook(aws_conn_id=uc.s3.conn_id).get_conn()
        check_writable(s3, UseCaseLayout.for_use_case(uc), run_key=ctx.names.run_key, conn_id=uc.s3.conn_id)
        log.info("window %s → %s", ctx.window.start, ctx.window.end)
        report = stage(engine, ctx)
    except BaseException as exc:
        # The teardown runs only after a successful setup: a failed (or killed) extraction removes its own.
        try:
            log.info("extraction failed: removed its staged tables %s", _discard_staging(engine, ctx))
        except Exception:
            log.exception("extraction failed, and removing its staged tables failed too")
        if isinstance(exc, BucketNotWritableError):
            message = f"{uc.name}: {exc}"
            raise (AirflowFailException(message) if exc.final else RuntimeError(message)) from exc
        if isinstance(exc, (DataQualityError, ExportQueryError)):
            raise AirflowFailException(str(exc)) from exc  # the same data or SQL fails the same way: no retry
        raise
    engine.close()
    return {"window_end": window_end, "report": report}


@task(multiple_outputs=False)
def validate(use_case_name: str, staged: dict[str, Any], **context) -> dict[str, Any]:
    """Source quality (warn) and the Personalize contract (fails the run before anything is published)."""
    from personalize_pipelines.export import validate as validate_export
    from personalize_pipelines.validation import ContractViolation

    engine, gx_url, ctx = _open(use_case_name, context["run_id"], staged["window_end"])
    try:
        return validate_export(engine, ctx, gx_connection_string=gx_url)
    except ContractViolation as exc:
        raise AirflowFailException(str(exc)) from exc
    finally:
        engine.close()


@task(multiple_outputs=False)
def publish(
    use_case_name: str, staged: dict[str, Any], validation: dict[str, Any], **context
) -> dict[str, Any]:
    """Write a new version to S3, manifest last, and announce it on the export Asset."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from personalize_pipelines.export import publish as publish_export

    engine, _, ctx = _open(use_case_name, context["run_id"], staged["window_end"])
    s3 = S3Hook(aws_conn_id=ctx.use_case.s3.conn_id).get_conn()
    try:
        manifest = publish_export(engine, ctx, s3_client=s3, report=staged["report"], validation=validation)
    finally:
        engine.close()
    extra = {"version": manifest["version"], "uri": manifest["uri"], "window": manifest["window"]}
    for outlet in context["task"].outlets:
        context["outlet_events"][outlet].extra = extra
    return {
        "version": manifest["version"],
        "uri": manifest["uri"],
        "window": manifest["window"],
        "datasets": manifest["datasets"],
        "dropped": staged["report"]["dropped"],
    }


@task
def drop_staging(use_case_name: str, staged: dict[str, Any] | None = None, **context) -> list[str]:
    """Drop this run's staged tables; wired as a teardown, so it runs whatever happened upstream."""
    window_end = staged["window_end"] if staged else run_moment(context).isoformat()
    engine, _, ctx = _open(use_case_name, context["run_id"], window_end)
    return _discard_staging(engine, ctx)


def _discard_staging(engine, ctx) -> list[str]:
    """Drop the run's staged tables, close the engine, and delete a DuckDB staging file; the dropped names."""
    from personalize_pipelines.export import drop_staging as drop

    try:
        dropped = drop(engine, ctx.names)
    finally:
        engine.close()
    staging_path = getattr(engine, "staging_path", None)
    if staging_path is not None:
        staging_path.unlink(missing_ok=True)
    return dropped
