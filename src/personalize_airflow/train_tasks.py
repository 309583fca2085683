"""Task callables of the `<use_case>__train` DAG. Heavy libraries load inside the tasks.

Each task opens what Airflow provides (the use case, S3 and Personalize clients from the hooks, the
run's context), calls the train workflow of :mod:`personalize_pipelines.training` and returns; what no
retry can fix (:class:`~personalize_pipelines.training.TrainRunError`) fails the task without retrying.
Every Personalize resource the DAG creates is named by
:func:`~personalize_pipelines.training.resources.resource_names`, so a retried task finds what an
earlier try created instead of making a second one. The waits themselves are the Personalize
operators' (deferrable by default).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSkipException
from airflow.sdk import task

from personalize_airflow.xcom_values import without_none

# for flows/train.py, which imports from the Airflow package only
from personalize_pipelines.training.resources import DATASET_TYPES as DATASET_TYPES
from personalize_pipelines.training.resources import dataset_kinds as dataset_kinds


def poll_seconds(uc: Any) -> int:
    """Seconds between status checks: ``[personalize] poll_seconds`` if set, else the use case's."""
    from airflow.configuration import conf

    return conf.getint("personalize", "poll_seconds", fallback=uc.training.poll_seconds)


def operator_waits(uc: Any) -> dict[str, Any]:
    """The Personalize operators' connection and waits: every :func:`poll_seconds`, for up to a day."""
    delay = poll_seconds(uc)
    return {
        "aws_conn_id": uc.s3.conn_id,
        "waiter_delay": delay,
        "waiter_max_attempts": max(10, 24 * 3600 // delay),
    }


def requested_version(params: Mapping[str, Any], asset_events: Mapping[Any, Any] | None) -> str:
    """The export version to train on: the ``version`` param, else the triggering export event's extra."""
    if params.get("version"):
        return str(params["version"]).strip().strip("/")
    asset_events = asset_events or {}
    events = [event for asset in list(asset_events) for event in asset_events[asset]]
    for event in reversed(events):
        version = (event.extra or {}).get("version")
        if version:
            return str(version)
    raise AirflowFailException(
        "No export version to train on: this run was not triggered by an export Asset event carrying "
        "extra.version, and no 'version' param was given. Trigger it with the version to train on."
    )


@contextmanager
def _no_retry() -> Iterator[None]:
    """The same input fails the same way: a :class:`TrainRunError` fails the task without retrying."""
    from personalize_pipelines.training import TrainRunError

    try:
        yield
    except TrainRunError as exc:
        raise AirflowFailException(str(exc)) from exc


def _use_case(name: str):
    from personalize_airflow.use_cases import use_case

    return use_case(name)


def _s3(uc: Any):
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id=uc.s3.conn_id).get_conn()


def _personalize(uc: Any):
    from personalize_airflow.hooks.personalize import PersonalizeHook

    return PersonalizeHook(aws_conn_id=uc.s3.conn_id).conn


@task(multiple_outputs=True)
def plan(*, use_case_name: str, **context) -> dict[str, Any]:
    """Which export version this run trains on, where its data is, and the name of every resource."""
    from personalize_pipelines.training import SameDataAsChampion
    from personalize_pipelines.training.plan import plan_run

    uc = _use_case(use_case_name)
    params = context["params"]
    version = requested_version(params, context.get("triggering_asset_events"))
    try:
        with _no_retry():
            planned = plan_run(
                _s3(uc),
                uc,
                version=version,
                run_id=context["run_id"],
                same_data_trains=bool(params.get("same_data_trains")),
            )
    except SameDataAsChampion as exc:
        raise AirflowSkipException(str(exc)) from exc
    return without_none(planned)


@task(multiple_outputs=False)
def serving_champion(*, use_case_name: str) -> dict[str, Any]:
    """The registry's champion (what serves now), empty before the first promotion."""
    from personalize_pipelines.training.deploy import serving_champion as read_serving_champion

    uc = _use_case(use_case_name)
    return read_serving_champion(_s3(uc), uc)


@task.short_circuit(ignore_downstream_trigger_rules=False)
def champion_to_evaluate(*, champion: dict[str, Any]) -> str | None:
    """The champion's solution version, for its batch inference; None (skip it) when there is no champion."""
    return champion.get("solution_version_arn")


@task(multiple_outputs=True)
def holdout_sample(*, use_case_name: str, version: str, run_key: str) -> dict[str, Any]:
    """Sample holdout users and write the batch inference input every model is scored on."""
    from personalize_pipelines.training.evaluate import sample_holdout

    uc = _use_case(use_case_name)
    with _no_retry():
        return without_none(sample_holdout(_s3(uc), uc, version=version, run_key=run_key))


@task(multiple_outputs=False)
def solution_metrics(
    *, use_case_name: str, solution: str, solution_arn: str, solution_version_arn: str
) -> dict:
    """GetSolutionMetrics and the training hours of one trained version."""
    from personalize_pipelines.training.evaluate import trained_version

    uc = _use_case(use_case_name)
    return trained_version(
        _personalize(uc),
        uc,
        solution=solution,
        solution_arn=solution_arn,
        solution_version_arn=solution_version_arn,
    )


@task(trigger_rule="none_failed_min_one_success", multiple_outputs=True)
def evaluate_models(
    *,
    use_case_name: str,
    version: str,
    run_key: str,
    sample: dict[str, Any],
    trained: list[dict[str, Any]],
    champion: dict[str, Any],
    **context,
) -> dict[str, Any]:
    """Score every challenger and the champion on the same holdout users, decide, publish the report."""
    from personalize_pipelines.training.evaluate import evaluate_run

    uc = _use_case(use_case_name)
    evaluation = evaluate_run(
        _s3(uc),
        uc,
        version=version,
        run_key=run_key,
        run_id=context["run_id"],
        sample=sample,
        trained=trained,
        champion=champion,
    )
    return without_none(evaluation)  # no winner: winner and winner_solution_version_arn left out


@task.branch
def gate(*, evaluation: dict[str, Any], deploy_task_id: str, keep_task_id: str) -> str:
    """Deploy the winner when the gate says promote; otherwise keep the champion."""
    return deploy_task_id if evaluation["decision"]["promote"] else keep_task_id


@task(multiple_outputs=False)
def keep_champion(
    *,
    use_case_name: str,
    evaluation: dict[str, Any],
    champion: dict[str, Any],
    trained: list[dict[str, Any]],
    sample: dict[str, Any],
    ingested_bytes: int,
    **context,
) -> dict[str, Any]:
    """The gate kept the champion: nothing is deployed; say why (log, alert, XCom). The run succeeds."""
    from personalize_airflow.alerts import notify_not_promoted
    from personalize_pipelines.training.deploy import champion_kept, run_cost

    uc = _use_case(use_case_name)
    outcome = champion_kept(evaluation=evaluation, champion=champion)
    notify_not_promoted(uc, context, reason=outcome["reason"], champion=outcome["serving"])
    cost = run_cost(
        _personalize(uc), trained=trained, champion=champion, sample=sample, ingested_bytes=ingested_bytes
    )
    return {**outcome, "cost": cost}


@task
def smoke_test(
    *, use_case_name: str, campaign_arn: str, sample: dict[str, Any], filter_arn: str | None = None
):
    """GetRecommendations for sample holdout users on the deployed campaign: every answer non-empty."""
    from personalize_airflow.hooks.personalize import PersonalizeRuntimeHook
    from personalize_pipelines.training.deploy import smoke_test as check_campaign

    uc = _use_case(use_case_name)
    runtime = PersonalizeRuntimeHook(aws_conn_id=uc.s3.conn_id).conn
    with _no_retry():
        return check_campaign(
            runtime, campaign_arn=campaign_arn, users=sample["smoke_users"], filter_arn=filter_arn
        )


@task.short_circuit(trigger_rule="one_failed")
def rollback_target(*, champion: dict[str, Any]) -> str | None:
    """After a failed deploy: the champion's solution version to put back, None when there is none."""
    from personalize_pipelines.training.deploy import rollback_target as champion_to_restore

    return champion_to_restore(champion)


@task(multiple_outputs=False)
def promote_champion(
    *,
    use_case_name: str,
    version: str,
    evaluation: dict[str, Any],
    dataset_group_arn: str,
    campaign_arn: str,
    event_tracker_arn: str,
    tracking_id: str | None,
    recommendations: dict[str, list[str]],
    champion: dict[str, Any],
    trained: list[dict[str, Any]],
    sample: dict[str, Any],
    ingested_bytes: int,
    **context,
) -> dict[str, Any]:
    """Record the new champion in the registry (champion.json + history), idempotent per run."""
    from personalize_pipelines.training.deploy import promote_winner, run_cost

    uc = _use_case(use_case_name)
    outcome = promote_winner(
        _s3(uc),
        uc,
        run_id=context["run_id"],
        export_version=version,
        evaluation=evaluation,
        dataset_group_arn=dataset_group_arn,
        campaign_arn=campaign_arn,
        event_tracker_arn=event_tracker_arn,
        tracking_id=tracking_id,
        recommendations=recommendations,
    )
    cost = run_cost(
        _personalize(uc),
        trained=trained,
        champion=champion,
        sample=sample,
        ingested_bytes=ingested_bytes,
        campaign_arn=campaign_arn,
    )
    return {**outcome, "cost": cost}


@task(trigger_rule="none_failed_min_one_success", multiple_outputs=False)
def evaluate_recommenders(
    *,
    use_case_name: str,
    version: str,
    run_key: str,
    sample: dict[str, Any],
    recommenders: dict[str, str],
    champion: dict[str, Any],
    trained: list[dict[str, Any]],
    **context,
) -> dict[str, Any]:
    """Score the champion recommender in real time on the holdout users, judge it, publish the report."""
    from personalize_airflow.hooks.personalize import PersonalizeRuntimeHook
    from personalize_pipelines.training.recommenders import evaluate_recommenders as evaluate

    uc = _use_case(use_case_name)
    evaluation = evaluate(
        _s3(uc),
        PersonalizeRuntimeHook(aws_conn_id=uc.s3.conn_id).conn,
        uc,
        version=version,
        run_key=run_key,
        run_id=context["run_id"],
        sample=sample,
        recommenders=recommenders,
        champion=champion,
        trained=trained,
    )
    return without_none(evaluation)  # no winner: winner left out


@task(multiple_outputs=False)
def keep_recommenders(
    *, use_case_name: str, evaluation: dict[str, Any], champion: dict[str, Any], **context
) -> dict[str, Any]:
    """The gate kept the champion: applications stay on its recommenders; this run's are to be stopped."""
    from personalize_airflow.alerts import notify_not_promoted
    from personalize_pipelines.training.deploy import champion_kept
    from personalize_pipelines.training.recommenders import not_serving

    uc = _use_case(use_case_name)
    outcome = champion_kept(evaluation=evaluation, champion=champion)
    notify_not_promoted(uc, context, reason=outcome["reason"], champion=outcome["serving"])
    stop = not_serving(evaluation["recommenders"], serving=champion.get("recommenders") or {})
    return without_none({**outcome, "stop": stop})


@task
def smoke_test_recommender(*, use_case_name: str, evaluation: dict[str, Any], users: list[str]):
    """GetRecommendations for sample holdout users on the judged recommender: every answer non-empty."""
    from personalize_airflow.hooks.personalize import PersonalizeRuntimeHook
    from personalize_pipelines.training.deploy import smoke_test as check_recommender

    uc = _use_case(use_case_name)
    runtime = PersonalizeRuntimeHook(aws_conn_id=uc.s3.conn_id).conn
    with _no_retry():
        return check_recommender(
            runtime, recommender_arn=evaluation["winner"]["recommender_arn"], users=users
        )


@task(multiple_outputs=False)
def promote_recommenders(
    *,
    use_case_name: str,
    version: str,
    evaluation: dict[str, Any],
    dataset_group_arn: str,
    event_tracker_arn: str,
    tracking_id: str | None,
    recommendations: dict[str, list[str]],
    champion: dict[str, Any],
    filters: dict[str, dict[str, str]],
    **context,
) -> dict[str, Any]:
    """Record this run's recommenders as what serves (champion.json + history); the superseded are to be
    stopped."""
    from personalize_pipelines.training.deploy import promote_winner
    from personalize_pipelines.training.recommenders import not_serving

    uc = _use_case(use_case_name)
    outcome = promote_winner(
        _s3(uc),
        uc,
        run_id=context["run_id"],
        export_version=version,
        evaluation=evaluation,
        dataset_group_arn=dataset_group_arn,
        event_tracker_arn=event_tracker_arn,
        tracking_id=tracking_id,
        recommendations=recommendations,
        recommenders=evaluation["recommenders"],
        recommender_filters=filters,
    )
    stop = not_serving(champion.get("recommenders") or {}, serving=evaluation["recommenders"])
    return {**outcome, "stop": stop}


@task
def to_stop(*, outcome: dict[str, Any]) -> list[str]:
    """The recommenders an outcome (kept or promoted) no longer serves through, for one stop each."""
    return outcome["stop"]


@task(trigger_rule="one_failed")
def unpromoted_to_stop(*, evaluation: dict[str, Any], champion: dict[str, Any]) -> list[str]:
    """After a failed deploy (smoke test, promotion): this run's recommenders, which serve nobody."""
    from personalize_pipelines.training.recommenders import not_serving

    return not_serving(evaluation["recommenders"], serving=champion.get("recommenders") or {})
