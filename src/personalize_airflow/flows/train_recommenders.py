"""The part of ``<use_case>__train`` a domain use case with ``training.recommenders`` runs after the import:
recommenders instead of a campaign (the dataset group, the import and the holdout sample are
:mod:`personalize_airflow.flows.train`'s)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import TaskGroup

from personalize_airflow.operators.personalize import (
    PersonalizeCreateEventTrackerOperator,
    PersonalizeCreateFilterOperator,
    PersonalizeCreateRecommenderOperator,
    PersonalizeStopRecommenderOperator,
)
from personalize_airflow.train_tasks import (
    evaluate_recommenders,
    gate,
    keep_recommenders,
    promote_recommenders,
    smoke_test_recommender,
    to_stop,
    unpromoted_to_stop,
)

if TYPE_CHECKING:
    from personalize_pipelines.config import UseCase

DOC = """
### {name}: train, evaluate, switch recommenders
Runs on every export version of `{name}` (the `{name}__export` Asset), or by hand with a `version`.

1. **plan** — the export version, its manifest and schemas, and the deterministic name of every resource;
   a version with the champion's data skips the run unless `same_data_trains` is set.
2. **dataset_group → import** — a `{domain}` dataset group (`{mode}`), its domain schemas, datasets and
   imports.
3. **`recommender_<name>`** — one per configured recommender ({recommenders}): created, or (a long-lived
   group) updated when its requests per second changed; each trains on creation (deferred wait); its
   `filters` created in the group.{solutions}
4. **evaluate_recommenders** — `{champion}` scored in real time on the sampled holdout users
   (GetRecommendations, at most {tps}/s: its provisioned requests per second), against the metrics the
   registry recorded for the serving model; the gate ({metric}, min lift {lift:.0%}); `evaluation.json` +
   `.html` beside the export version.
5. **gate** → **keep_recommenders** (applications stay on the champion's recommenders; this run's are
   stopped: `stop_challengers`) or **deploy**: event tracker, smoke test on `{champion}`, registry promotion
   (every recommender's ARN by name, and its filters': what applications call), and the superseded recommenders stopped
   (`stop_superseded`), not deleted. A failed smoke test leaves the registry as it is and stops this
   run's recommenders (`stop_unpromoted`); the run fails.
"""


def doc(uc: UseCase) -> str:
    """The train DAG's documentation for a use case with recommenders."""
    champion = uc.champion_recommender
    solutions = uc.training.solutions
    return DOC.format(
        name=uc.name,
        domain=uc.dataset_group.domain,
        mode=uc.training.dataset_group,
        recommenders=", ".join(f"{r.name} ({r.recipe_name})" for r in uc.training.recommenders),
        solutions=f"\n   **`train_<solution>`** ({', '.join(s.name for s in solutions)}): trained and scored "
        "beside them for the report; a custom solution never serves in a use case with recommenders."
        if solutions
        else "",
        champion=champion.name,
        tps=champion.min_recommendation_requests_per_second,
        metric=uc.evaluation.metric,
        lift=uc.evaluation.min_relative_lift,
    )


def wire(
    uc: UseCase,
    *,
    run: Any,
    group: Any,
    imports: Any,
    sample: Any,
    champion: Any,
    trained: list,
    scored: list,
    waits: dict[str, Any],
) -> None:
    """Recommenders → real-time evaluation → gate → keep (stop this run's) or deploy (stop the superseded)."""
    created, filters = {}, {}
    for spec in uc.training.recommenders:
        with TaskGroup(f"recommender_{spec.name}"):
            created[spec.name] = PersonalizeCreateRecommenderOperator(
                task_id="recommender",
                name=run[f"recommender__{spec.name}"],
                dataset_group_arn=group.output,
                recipe_arn=spec.recipe_arn,
                recommender_config=spec.recommender_config(),
                **waits,
            )
            made = {
                name: PersonalizeCreateFilterOperator(
                    task_id=f"filter_{name}",
                    name=run[f"filter__{spec.name}__{name}"],
                    dataset_group_arn=group.output,
                    filter_expression=expression,
                    **waits,
                )
                for name, expression in spec.filters.items()
            }
        filters[spec.name] = {name: task.output for name, task in made.items()}
        imports >> [created[spec.name], *made.values()]
    evaluation = evaluate_recommenders(
        use_case_name=uc.name,
        version=run["version"],
        run_key=run["run_key"],
        sample=sample,
        recommenders={name: task.output for name, task in created.items()},
        champion=champion,
        trained=trained,
    )
    scored >> evaluation
    kept = keep_recommenders(use_case_name=uc.name, evaluation=evaluation, champion=champion)
    PersonalizeStopRecommenderOperator.partial(task_id="stop_challengers", **waits).expand(
        recommender_arn=to_stop.override(task_id="challengers_to_stop")(outcome=kept)
    )
    with TaskGroup("deploy"):
        tracker = PersonalizeCreateEventTrackerOperator(
            task_id="event_tracker", name=run["event_tracker"], dataset_group_arn=group.output, **waits
        )
        checked = smoke_test_recommender(
            use_case_name=uc.name, evaluation=evaluation, users=sample["smoke_users"]
        )
        tracker >> checked
        promoted = promote_recommenders(
            use_case_name=uc.name,
            version=run["version"],
            evaluation=evaluation,
            dataset_group_arn=group.output,
            event_tracker_arn=tracker.output,
            tracking_id=tracker.output["tracking_id"],
            recommendations=checked,
            champion=champion,
            filters=filters,
        )
        PersonalizeStopRecommenderOperator.partial(task_id="stop_superseded", **waits).expand(
            recommender_arn=to_stop.override(task_id="superseded_to_stop")(outcome=promoted)
        )
        unpromoted = unpromoted_to_stop(evaluation=evaluation, champion=champion)
        [checked, promoted] >> unpromoted
        PersonalizeStopRecommenderOperator.partial(task_id="stop_unpromoted", **waits).expand(
            recommender_arn=unpromoted
        )
    branch = gate(evaluation=evaluation, deploy_task_id=tracker.task_id, keep_task_id=kept.operator.task_id)
    branch >> [tracker, kept]
