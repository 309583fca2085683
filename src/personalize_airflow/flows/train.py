"""<use_case>__train: each new export version → trained, evaluated and (when it earns it) deployed model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import DAG, Param, TaskGroup

from personalize_airflow.flows import train_recommenders
from personalize_airflow.flows.common import use_case_dag
from personalize_airflow.operators.personalize import (
    PersonalizeCreateBatchInferenceJobOperator,
    PersonalizeCreateDatasetGroupOperator,
    PersonalizeCreateDatasetImportJobOperator,
    PersonalizeCreateDatasetOperator,
    PersonalizeCreateEventTrackerOperator,
    PersonalizeCreateFilterOperator,
    PersonalizeCreateOrUpdateCampaignOperator,
    PersonalizeCreateSchemaOperator,
    PersonalizeCreateSolutionOperator,
    PersonalizeCreateSolutionVersionOperator,
)
from personalize_airflow.train_tasks import (
    DATASET_TYPES,
    champion_to_evaluate,
    dataset_kinds,
    evaluate_models,
    gate,
    holdout_sample,
    keep_champion,
    operator_waits,
    plan,
    promote_champion,
    rollback_target,
    serving_champion,
    smoke_test,
    solution_metrics,
)
from personalize_airflow.use_cases import export_asset

if TYPE_CHECKING:
    from personalize_pipelines.config import UseCase

DOC = """
### {name}: train, evaluate, deploy
Runs on every export version of `{name}` (the `{name}__export` Asset), or by hand with a `version`.

1. **plan** — the export version (from the triggering event, or the `version` param), its manifest and
   schemas, and the deterministic name of every resource (a retry reuses, never duplicates). A version
   whose datasets have the fingerprints of the champion's export skips the run (no new data, no training
   cost; the log says so) unless `same_data_trains` is set.
2. **dataset_group → import** — dataset group (`{mode}`), schemas, datasets, and one import per dataset
   from the version's interactions/items/users folders (never the holdout).
3. **`train_<solution>`** — one group per configured solution ({solutions}): solution, version
   (training), GetSolutionMetrics, batch inference for the sampled holdout users.
4. **champion** — the registry's champion, scored by batch inference on the same users.
5. **evaluate_models** — NDCG/precision/recall/MRR/coverage on the holdout for every model; the gate
   ({metric}, min lift {lift:.0%}); `evaluation.json` + `.html` beside the export version.
6. **gate** → **keep_champion** (the run ends cleanly; the reason is in the log and XCom) or **deploy**:
   event tracker, campaign `{name}` create/update (min TPS {tps}), smoke test, registry promotion.
   A failed smoke test rolls the campaign back to the champion and fails the run.
"""


def build(uc: UseCase) -> DAG | None:
    if uc.training is None:
        return None
    waits = operator_waits(uc)
    with use_case_dag(
        uc,
        "train",
        schedule=[export_asset(uc)],  # one run at a time: the registry's single-writer requirement
        retries=uc.training.retries,
        retry_delay_seconds=uc.training.retry_delay_seconds,
        params={
            "version": Param(
                None,
                type=["null", "string"],
                title="Export version",
                description=f"Folder name of a published version under s3://{uc.s3.bucket}/{uc.s3.prefix}/{uc.name}/ "
                "(see latest.json). Leave empty when an export event triggers the run.",
            ),
            "same_data_trains": Param(
                False,
                type="boolean",
                title="Train on the champion's data",
                description="A version whose datasets hold the same rows as the champion's export (equal "
                "fingerprints) skips the run; tick to train anyway, e.g. after changing the training config.",
            ),
        },
        doc_md=train_recommenders.doc(uc)
        if uc.training.recommenders
        else DOC.format(
            name=uc.name,
            mode=uc.training.dataset_group,
            solutions=", ".join(s.name for s in uc.training.solutions),
            metric=uc.evaluation.metric,
            lift=uc.evaluation.min_relative_lift,
            tps=uc.campaign.min_provisioned_tps,
        ),
    ) as dag:
        run = plan(use_case_name=uc.name)
        champion = serving_champion(use_case_name=uc.name)
        run >> champion  # a plan that skips (the champion's data again) skips the whole run
        group = PersonalizeCreateDatasetGroupOperator(
            task_id="dataset_group", name=run["dataset_group"], domain=uc.dataset_group.domain, **waits
        )

        with TaskGroup("import") as imports:
            for kind in dataset_kinds(uc):
                schema = PersonalizeCreateSchemaOperator(
                    task_id=f"schema_{kind}",
                    name=run[f"schema__{kind}"],
                    schema=run[f"schema_json__{kind}"],
                    domain=uc.dataset_group.domain,
                    aws_conn_id=uc.s3.conn_id,
                )
                dataset = PersonalizeCreateDatasetOperator(
                    task_id=f"dataset_{kind}",
                    name=run[f"dataset__{kind}"],
                    dataset_group_arn=group.output,
                    schema_arn=schema.output,
                    dataset_type=DATASET_TYPES[kind],
                    **waits,
                )
                PersonalizeCreateDatasetImportJobOperator(
                    task_id=f"import_{kind}",
                    job_name=run[f"import__{kind}"],
                    dataset_arn=dataset.output,
                    data_location=run[f"data__{kind}"],
                    role_arn=uc.training.role_arn,
                    import_mode="FULL",
                    **waits,
                )

        sample = holdout_sample(use_case_name=uc.name, version=run["version"], run_key=run["run_key"])
        trained, scored = _train_solutions(
            uc, run=run, group=group, imports=imports, sample=sample, waits=waits
        )
        if uc.training.recommenders:
            train_recommenders.wire(
                uc,
                run=run,
                group=group,
                imports=imports,
                sample=sample,
                champion=champion,
                trained=trained,
                scored=scored,
                waits=waits,
            )
            return dag
        with TaskGroup("champion") as champion_group:
            PersonalizeCreateBatchInferenceJobOperator(
                task_id="batch_inference",
                job_name=run["batch__champion"],
                solution_version_arn=champion_to_evaluate(champion=champion),
                input_path=sample["input_path"],
                output_path=run["batch_output__champion"],
                role_arn=uc.training.role_arn,
                num_results=uc.evaluation.num_results,
                **waits,
            )

        evaluation = evaluate_models(
            use_case_name=uc.name,
            version=run["version"],
            run_key=run["run_key"],
            sample=sample,
            trained=trained,
            champion=champion,
        )
        [champion_group, *scored] >> evaluation

        kept = keep_champion(
            use_case_name=uc.name,
            evaluation=evaluation,
            champion=champion,
            trained=trained,
            sample=sample,
            ingested_bytes=run["ingested_bytes"],
        )
        with TaskGroup("deploy"):
            tracker = PersonalizeCreateEventTrackerOperator(
                task_id="event_tracker", name=run["event_tracker"], dataset_group_arn=group.output, **waits
            )
            smoke_filter = None
            if uc.campaign.smoke_test_filter:
                smoke_filter = PersonalizeCreateFilterOperator(
                    task_id="smoke_test_filter",
                    name=run["smoke_filter"],
                    dataset_group_arn=group.output,
                    filter_expression=uc.campaign.smoke_test_filter,
                    **waits,
                )
                tracker >> smoke_filter
            campaign = PersonalizeCreateOrUpdateCampaignOperator(
                task_id="campaign",
                name=run["campaign"],
                solution_version_arn=evaluation["winner_solution_version_arn"],
                min_provisioned_tps=uc.campaign.min_provisioned_tps,
                **waits,
            )
            (smoke_filter or tracker) >> campaign
            checked = smoke_test(
                use_case_name=uc.name,
                campaign_arn=campaign.output,
                sample=sample,
                filter_arn=smoke_filter.output if smoke_filter else None,
            )
            rollback = rollback_target(champion=champion)
            checked >> rollback
            PersonalizeCreateOrUpdateCampaignOperator(
                task_id="rollback_campaign",
                name=run["campaign"],
                solution_version_arn=rollback,
                min_provisioned_tps=uc.campaign.min_provisioned_tps,
                **waits,
            )
            promote_champion(
                use_case_name=uc.name,
                version=run["version"],
                evaluation=evaluation,
                dataset_group_arn=group.output,
                campaign_arn=campaign.output,
                event_tracker_arn=tracker.output,
                tracking_id=tracker.output["tracking_id"],
                recommendations=checked,
                champion=champion,
                trained=trained,
                sample=sample,
                ingested_bytes=run["ingested_bytes"],
            )
        branch = gate(
            evaluation=evaluation, deploy_task_id=tracker.task_id, keep_task_id=kept.operator.task_id
        )
        branch >> [tracker, kept]
    return dag


def _train_solutions(uc: UseCase, *, run: Any, group: Any, imports: Any, sample: Any, waits: dict) -> tuple:
    """One group per configured solution: solution, version, metrics, batch inference of the sample."""
    trained, scored = [], []
    for spec in uc.training.solutions:
        with TaskGroup(f"train_{spec.name}"):
            solution = PersonalizeCreateSolutionOperator(
                task_id="solution",
                name=run[f"solution__{spec.name}"],
                dataset_group_arn=group.output,
                recipe_arn=spec.recipe_arn,
                event_type=spec.event_type,
                perform_hpo=spec.perform_hpo,
                solution_config=spec.solution_config(),
                **waits,
            )
            version = PersonalizeCreateSolutionVersionOperator(
                task_id="solution_version",
                solution_arn=solution.output,
                training_mode=spec.training_mode,
                **waits,
            )
            trained.append(
                solution_metrics(
                    use_case_name=uc.name,
                    solution=spec.name,
                    solution_arn=solution.output,
                    solution_version_arn=version.output,
                )
            )
            scored.append(
                PersonalizeCreateBatchInferenceJobOperator(
                    task_id="batch_inference",
                    job_name=run[f"batch__{spec.name}"],
                    solution_version_arn=version.output,
                    input_path=sample["input_path"],
                    output_path=run[f"batch_output__{spec.name}"],
                    role_arn=uc.training.role_arn,
                    num_results=uc.evaluation.num_results,
                    **waits,
                )
            )
        imports >> solution
    return trained, scored
