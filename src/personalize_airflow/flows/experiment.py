"""<use_case>__experiment: the retraining trade-off — training windows × per-user caps (× weeks before the
holdout) × solutions, every variant scored on one holdout; triggered by hand."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.sdk import DAG, Param

from personalize_airflow.experiment_tasks import (
    batch_arguments,
    drop_shared_staging,
    entries,
    export_variant,
    extract_shared,
    holdout_sample,
    plan_deletions,
    plan_experiment,
    plan_personalize,
    remove_variants,
    report,
    solution_arguments,
    with_arns,
)
from personalize_airflow.flows.cleanup import delete_in_order
from personalize_airflow.flows.common import use_case_dag
from personalize_airflow.operators.personalize import (
    PersonalizeCreateBatchInferenceJobOperator,
    PersonalizeCreateDatasetGroupOperator,
    PersonalizeCreateDatasetImportJobOperator,
    PersonalizeCreateDatasetOperator,
    PersonalizeCreateSchemaOperator,
    PersonalizeCreateSolutionOperator,
    PersonalizeCreateSolutionVersionOperator,
)
from personalize_airflow.train_tasks import DATASET_TYPES, dataset_kinds, operator_waits

if TYPE_CHECKING:
    from personalize_pipelines.config import UseCase

DOC = """
### {name}: the retraining trade-off
How much history to train on, and how often to retrain: quality against training cost, measured.

1. **plan_experiment** — the variants: every window ({windows} months) × per-user cap ({caps}), plus
   the widest window ending {cadence} weeks before the holdout (cadence).
2. **extract_shared** — the widest window extracted and cleaned once in the warehouse;
   **export_variant** (mapped) filters each variant from it and publishes it under
   `s3://{bucket}/{prefix}/experiments/<experiment>/<variant>/`, all with the same holdout. No version,
   no `latest.json`, no `{name}__export` event: `{name}__train` never sees them.
3. **dataset_group → import** (mapped per variant) — a dataset group of the experiment's own per variant;
   **solution → solution_version → batch_inference** (mapped per variant × solution: {solutions}) on
   the shared holdout sample.
4. **report** — NDCG/precision/recall/coverage with 95% bootstrap intervals, training hours and estimated
   cost; `experiment.json` + `experiment.html` beside the variants; the recommendation (the cheapest
   variant within {tolerance:.0%} of the best {metric}) logged, returned and sent to the alert channels.
5. **delete_*** — everything it created in Personalize, in dependency order, and the variants' folders
   (the report stays), unless `keep_resources`.
"""


def build(uc: UseCase) -> DAG | None:
    if uc.experiment is None:
        return None
    spec = uc.experiment
    waits = operator_waits(uc)
    nullable_ints = {"type": "array", "items": {"type": ["null", "integer"]}}
    with use_case_dag(
        uc,
        "experiment",
        schedule=None,
        retries=uc.training.retries,
        retry_delay_seconds=uc.training.retry_delay_seconds,
        params={
            "windows": Param(spec.windows, type="array", items={"type": "integer"}, description="months"),
            "caps": Param(spec.caps, **nullable_ints, description="max_recent_events_per_user; null: none"),
            "cadence_weeks": Param(spec.cadence_weeks, type="array", items={"type": "integer"}),
            "solutions": Param(
                spec.solutions or [s.name for s in uc.training.solutions],
                type="array",
                items={"type": "string"},
            ),
            "metric": Param(spec.metric, type="string"),
            "tolerance": Param(spec.tolerance, type="number", minimum=0, maximum=1),
            "keep_resources": Param(spec.keep_resources, type="boolean"),
        },
        doc_md=DOC.format(
            name=uc.name,
            windows=", ".join(map(str, spec.windows)),
            caps=", ".join("none" if c is None else str(c) for c in spec.caps),
            cadence=", ".join(map(str, spec.cadence_weeks)),
            bucket=uc.s3.bucket,
            prefix=uc.s3_prefix,
            solutions=", ".join(spec.solutions or [s.name for s in uc.training.solutions]),
            tolerance=spec.tolerance,
            metric=spec.metric,
        ),
    ) as dag:
        planned = plan_experiment(use_case_name=uc.name)
        shared = extract_shared(use_case_name=uc.name, planned=planned)
        exported = export_variant.partial(use_case_name=uc.name, planned=planned, shared=shared).expand(
            variant=entries.override(task_id="variants")(plan=planned, key="variants")
        )
        exported >> drop_shared_staging(use_case_name=uc.name, planned=planned).as_teardown(setups=shared)
        resources = plan_personalize(use_case_name=uc.name, planned=planned, exported=exported)
        groups = PersonalizeCreateDatasetGroupOperator.partial(
            task_id="dataset_group", domain=uc.dataset_group.domain, **waits
        ).expand_kwargs(entries.override(task_id="groups")(plan=resources, key="groups"))
        imported = []
        for kind in dataset_kinds(uc):
            schema = PersonalizeCreateSchemaOperator(
                task_id=f"schema_{kind}",
                name=resources[f"schema__{kind}"],
                schema=resources[f"schema_json__{kind}"],
                domain=uc.dataset_group.domain,
                aws_conn_id=uc.s3.conn_id,
            )
            datasets = PersonalizeCreateDatasetOperator.partial(
                task_id=f"dataset_{kind}", schema_arn=schema.output, dataset_type=DATASET_TYPES[kind], **waits
            ).expand_kwargs(
                with_arns.override(task_id=f"datasets_{kind}")(
                    entries=resources[f"datasets__{kind}"], arns=groups.output, field="dataset_group_arn"
                )
            )
            imported.append(
                PersonalizeCreateDatasetImportJobOperator.partial(
                    task_id=f"import_{kind}", role_arn=uc.training.role_arn, import_mode="FULL", **waits
                ).expand_kwargs(
                    with_arns.override(task_id=f"imports_{kind}")(
                        entries=resources[f"imports__{kind}"], arns=datasets.output, field="dataset_arn"
                    )
                )
            )
        solutions = PersonalizeCreateSolutionOperator.partial(task_id="solution", **waits).expand_kwargs(
            solution_arguments(cells=resources["cells"], group_arns=groups.output)
        )
        imported >> solutions
        versions = PersonalizeCreateSolutionVersionOperator.partial(
            task_id="solution_version", training_mode="FULL", **waits
        ).expand(solution_arn=solutions.output)
        sample = holdout_sample(use_case_name=uc.name, planned=planned, exported=exported)
        scored = PersonalizeCreateBatchInferenceJobOperator.partial(
            task_id="batch_inference",
            role_arn=uc.training.role_arn,
            num_results=uc.evaluation.num_results,
            **waits,
        ).expand_kwargs(
            batch_arguments(cells=resources["cells"], version_arns=versions.output, sample=sample)
        )
        answer = report(
            use_case_name=uc.name,
            planned=planned,
            shared=shared,
            exported=exported,
            cells=resources["cells"],
            version_arns=versions.output,
            sample=sample,
        )
        scored >> answer
        doomed = plan_deletions(use_case_name=uc.name, planned=planned)
        answer >> doomed
        last = delete_in_order(
            doomed, waiter_delay=waits["waiter_delay"], aws_conn_id=uc.s3.conn_id, trigger_rule="all_done"
        )
        last >> remove_variants(use_case_name=uc.name, planned=planned)
    return dag
