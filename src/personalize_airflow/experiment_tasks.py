"""Task callables of the ``<use_case>__experiment`` DAG: each opens the use case and its clients, calls one
step of :mod:`personalize_pipelines.experiment` and returns. The Personalize resources themselves are the
train DAG's operators, mapped over what :func:`plan_personalize` names."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.sdk import task

from personalize_airflow.moments import run_moment
from personalize_airflow.serving_support import personalize_client, s3_client
from personalize_airflow.xcom_values import without_none

log = logging.getLogger(__name__)


@contextmanager
def _no_retry() -> Iterator[None]:
    """Bad params, data the contract refuses and SQL the warehouse refuses fail the same way again."""
    from personalize_pipelines.config import ConfigError
    from personalize_pipelines.export import DataQualityError, ExportQueryError
    from personalize_pipelines.validation import ContractViolation

    try:
        yield
    except (ConfigError, DataQualityError, ExportQueryError, ContractViolation, ValueError) as exc:
        raise AirflowFailException(str(exc)) from exc


def _use_case(name: str) -> Any:
    from personalize_airflow.use_cases import use_case

    return use_case(name)


def _layout(uc: Any, experiment: str) -> Any:
    from personalize_pipelines.layout import UseCaseLayout

    return UseCaseLayout.for_use_case(uc).experiment(experiment)


def _params(uc: Any, planned: dict[str, Any]) -> Any:
    from personalize_pipelines.experiment.grid import experiment_params

    return experiment_params(uc, planned["params"])


def _staging(uc: Any, planned: dict[str, Any]) -> tuple[Any, Any, Any]:
    """The warehouse engine (staging shared by every task of the run), the windows, the shared context."""
    from personalize_airflow.warehouse import warehouse_engine
    from personalize_pipelines.experiment.grid import Variant
    from personalize_pipelines.experiment.variants import experiment_windows, shared_context
    from personalize_pipelines.export import run_key

    engine, _ = warehouse_engine(
        uc.warehouse_conn_id, run_key=run_key(uc.name, f"experiment/{planned['experiment']}")
    )
    windows = experiment_windows(uc, planned["end"])
    variants = [Variant.from_dict(v) for v in planned["variants"]]
    shared = shared_context(uc, engine, experiment=planned["experiment"], windows=windows, variants=variants)
    return engine, windows, shared


@task(multiple_outputs=False)
def plan_experiment(*, use_case_name: str, **context) -> dict[str, Any]:
    """The run's params (the YAML's ``experiment:`` overridden), its variants, and where the windows end."""
    from personalize_pipelines.experiment.grid import experiment_params
    from personalize_pipelines.export import run_key

    uc = _use_case(use_case_name)
    with _no_retry():
        params = experiment_params(uc, context["params"])
    variants = [v.as_dict() for v in params.variants()]
    log.info(
        "%d variants × %d solutions: %s", len(variants), len(params.solutions), [v["name"] for v in variants]
    )
    return {
        "experiment": run_key(uc.name, context["run_id"]),
        "end": run_moment(context).isoformat(),
        "params": params.as_dict(),
        "variants": variants,
    }


@task(multiple_outputs=False)
def extract_shared(*, use_case_name: str, planned: dict[str, Any]) -> dict[str, Any]:
    """The widest window extracted and cleaned once in the warehouse; its accounting and seconds."""
    from personalize_pipelines.experiment.variants import stage_shared

    uc = _use_case(use_case_name)
    engine, _, shared = _staging(uc, planned)
    try:
        with _no_retry():
            return stage_shared(engine, shared)
    finally:
        engine.close()


@task(multiple_outputs=False, max_active_tis_per_dagrun=1)  # one writer of the run's staging at a time
def export_variant(
    *, use_case_name: str, planned: dict[str, Any], shared: dict[str, Any], variant: dict
) -> dict:
    """One variant filtered from the shared extraction, validated, published under the experiment's folder."""
    from personalize_pipelines.experiment.grid import Variant
    from personalize_pipelines.experiment.variants import exported_summary, publish_variant, stage_variant
    from personalize_pipelines.export import drop_staging

    uc = _use_case(use_case_name)
    engine, windows, shared_ctx = _staging(uc, planned)
    chosen = Variant.from_dict(variant)
    try:
        with _no_retry():
            ctx, report = stage_variant(engine, shared_ctx, shared, chosen, windows=windows)
            manifest = publish_variant(
                engine,
                ctx,
                s3_client=s3_client(uc),
                report=report,
                experiment=_layout(uc, planned["experiment"]),
                variant=chosen,
                training=windows.training(chosen),
            )
        drop_staging(engine, ctx.names)
    finally:
        engine.close()
    return exported_summary(manifest, report)


@task
def drop_shared_staging(*, use_case_name: str, planned: dict[str, Any]) -> list[str]:
    """Drop the shared extraction's tables (a teardown: whatever happened) and a DuckDB staging file."""
    from personalize_pipelines.export import drop_staging

    uc = _use_case(use_case_name)
    engine, _, shared = _staging(uc, planned)
    try:
        return drop_staging(engine, shared.names)
    finally:
        engine.close()
        staging_path = getattr(engine, "staging_path", None)
        if staging_path is not None:
            staging_path.unlink(missing_ok=True)


@task(multiple_outputs=True)
def plan_personalize(*, use_case_name: str, planned: dict[str, Any], exported: Sequence[dict]) -> dict:
    """The name and arguments of every Personalize resource the experiment creates."""
    from personalize_pipelines.experiment.grid import Variant
    from personalize_pipelines.experiment.resources import plan_resources

    uc = _use_case(use_case_name)
    return without_none(
        plan_resources(
            s3_client(uc),
            uc,
            experiment=planned["experiment"],
            layout=_layout(uc, planned["experiment"]),
            variants=[Variant.from_dict(e["variant"]) for e in exported],
            params=_params(uc, planned),
        )
    )


@task
def entries(*, plan: dict[str, Any], key: str) -> list:
    """One list of a plan, as a mapped task maps over it (Airflow maps over a task's return value only)."""
    return plan[key]


@task
def with_arns(*, entries: Sequence[dict], arns: Sequence[str], field: str) -> list[dict]:
    """Each entry's operator arguments, with the ARN of the upstream task it names as ``field``."""
    from personalize_pipelines.experiment.resources import with_arns as fill

    return fill(entries, arns, field=field)


@task
def solution_arguments(*, cells: Sequence[dict], group_arns: Sequence[str]) -> list[dict]:
    """CreateSolution's arguments of each variant × solution, in its variant's dataset group."""
    from personalize_pipelines.experiment.resources import with_arns as fill

    return fill([c["create"] for c in cells], group_arns, field="dataset_group_arn")


@task
def batch_arguments(*, cells: Sequence[dict], version_arns: Sequence[str], sample: dict) -> list[dict]:
    """Each trained version's batch inference job on the shared holdout sample."""
    from personalize_pipelines.experiment.resources import batch_jobs

    return batch_jobs(cells, version_arns, input_path=sample["input_path"])


@task(multiple_outputs=False)
def holdout_sample(*, use_case_name: str, planned: dict[str, Any], exported: Sequence[dict]) -> dict:
    """The shared holdout's sampled users, written once as every model's batch input."""
    from personalize_pipelines.experiment.run import sample_holdout

    uc = _use_case(use_case_name)
    with _no_retry():
        return sample_holdout(
            s3_client(uc),
            uc,
            layout=_layout(uc, planned["experiment"]),
            variant=exported[0]["variant"]["name"],
        )


@task(multiple_outputs=False)
def report(
    *,
    use_case_name: str,
    planned: dict[str, Any],
    shared: dict[str, Any],
    exported: Sequence[dict],
    cells: Sequence[dict],
    version_arns: Sequence[str],
    sample: dict[str, Any],
    **context,
) -> dict[str, Any]:
    """Score and price every model, write experiment.json and .html, log the table, post the answer."""
    from personalize_airflow.alerts import notify
    from personalize_pipelines.experiment.run import finish, score_cells

    uc = _use_case(use_case_name)
    s3, params, layout = s3_client(uc), _params(uc, planned), _layout(uc, planned["experiment"])
    rows = score_cells(
        s3,
        personalize_client(uc),
        uc,
        layout=layout,
        cells=list(cells),
        version_arns=list(version_arns),
        exported=list(exported),
        params=params,
    )
    result = finish(
        s3,
        uc,
        experiment=planned["experiment"],
        layout=layout,
        params=params,
        rows=rows,
        exported=list(exported),
        shared_seconds=shared["stage_seconds"],
        sample=dict(sample),
        run_id=context["run_id"],
    )
    notify(
        uc,
        context,
        subject=f"[personalize] {uc.name}: experiment {planned['experiment']}",
        message=f"{result['recommendation']['reason']}\n{result['cadence'] or ''}\n{result['page']}",
    )
    return result


@task(multiple_outputs=False, trigger_rule="all_done")
def plan_deletions(*, use_case_name: str, planned: dict[str, Any]) -> dict[str, Any]:
    """Everything the experiment created in Personalize, by kind in dependency order; nothing with
    ``keep_resources``."""
    from personalize_pipelines.experiment.resources import deletions, group_name
    from personalize_pipelines.retention import ORDER

    uc = _use_case(use_case_name)
    if _params(uc, planned).keep_resources:
        log.info("keep_resources: the experiment's resources and variants stay")
        return dict.fromkeys(ORDER, []) | {"plan": "kept"}
    names = [group_name(uc.name, planned["experiment"], v["name"]) for v in planned["variants"]]
    planned_deletions = deletions(personalize_client(uc), group_names=names, moment=datetime.now(UTC))
    log.info("deleting:\n%s", planned_deletions["plan"])
    return planned_deletions


@task(trigger_rule="all_done")
def remove_variants(*, use_case_name: str, planned: dict[str, Any]) -> int:
    """Delete the variants' folders and evaluation files (the report stays), unless ``keep_resources``."""
    from personalize_pipelines.experiment.run import remove_variants as remove

    uc = _use_case(use_case_name)
    if _params(uc, planned).keep_resources:
        return 0
    return remove(
        s3_client(uc),
        layout=_layout(uc, planned["experiment"]),
        variants=[v["name"] for v in planned["variants"]],
    )
