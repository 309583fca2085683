"""What serves, and the steps around a deploy: smoke test, rollback target, promotion, the run's cost.

The registry (:mod:`personalize_pipelines.registry`) is the authority on what serves; a model becomes
the champion only after its campaign passed the smoke test.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from personalize_pipelines.cost import estimate_run_cost
from personalize_pipelines.layout import UseCaseLayout
from personalize_pipelines.registry import promote, promotion_id_for, read_champion
from personalize_pipelines.training import TrainRunError

log = logging.getLogger(__name__)

SMOKE_TEST_RESULTS = 10


def serving_champion(s3_client: Any, uc: Any) -> dict[str, Any]:
    """The registry's champion (what serves now) as a dict, empty before the first promotion.

    :param s3_client: a boto3 S3 client.
    :param uc: the :class:`personalize_pipelines.config.UseCase`.
    """
    champion = read_champion(s3_client, location=UseCaseLayout.for_use_case(uc).registry)
    if champion is None:
        log.info("no champion yet: the best challenger will be compared against nothing")
        return {}
    log.info(
        "champion: %s (%s), promoted %s", champion.solution_version_arn, champion.recipe, champion.promoted_at
    )
    return champion.as_dict()


def smoke_test(
    runtime_client: Any,
    *,
    users: Sequence[str],
    campaign_arn: str | None = None,
    recommender_arn: str | None = None,
    filter_arn: str | None = None,
) -> dict[str, list[str]]:
    """GetRecommendations for each user on the deployed campaign (or recommender): every answer must be
    non-empty.

    :param runtime_client: a boto3 Personalize runtime client.
    :param users: the sampled holdout users to ask for.
    :param campaign_arn: the campaign just created or updated.
    :param recommender_arn: or the recommender about to serve.
    :param filter_arn: a filter applied to every request, when configured.
    :return: user → recommended item ids.
    :raises TrainRunError: when any user got an error or no recommendations.
    """
    answers: dict[str, list[str]] = {}
    problems = []
    target = {"recommenderArn": recommender_arn} if recommender_arn else {"campaignArn": campaign_arn}
    for user in users:
        request = {**target, "userId": user, "numResults": SMOKE_TEST_RESULTS}
        if filter_arn:
            request["filterArn"] = filter_arn
        try:
            items = [entry["itemId"] for entry in runtime_client.get_recommendations(**request)["itemList"]]
        except ClientError as error:
            problems.append(f"user {user}: {error.response.get('Error', {}).get('Message', error)}")
            continue
        if not items:
            problems.append(f"user {user}: no recommendations")
        answers[user] = items
    if problems:
        after = (
            "The registry is not changed: applications keep the champion's recommenders"
            if recommender_arn
            else "The campaign is rolled back to the champion (rollback_campaign) when there is one, and the "
            "registry is not changed"
        )
        raise TrainRunError(
            f"SMOKE TEST FAILED on {recommender_arn or f'campaign {campaign_arn}'} for {len(problems)} of "
            f"{len(users)} users: {'; '.join(problems[:5])}. {after}."
        )
    log.info(
        "smoke test passed: %d users got recommendations from %s",
        len(answers),
        recommender_arn or campaign_arn,
    )
    return answers


def rollback_target(champion: Mapping[str, Any]) -> str | None:
    """After a failed deploy: the champion's solution version to put back, None when there is none."""
    if not champion:
        log.error("the deploy failed and there is no champion to roll back to; the campaign is left as it is")
        return None
    log.error("the deploy failed: rolling the campaign back to %s", champion["solution_version_arn"])
    return champion["solution_version_arn"]


def champion_kept(*, evaluation: Mapping[str, Any], champion: Mapping[str, Any]) -> dict[str, Any]:
    """The gate kept the champion: nothing is deployed. Logs why and returns the run's outcome.

    :param evaluation: from :func:`personalize_pipelines.training.evaluate.evaluate_run`.
    :param champion: the registry's champion as a dict, empty when nothing serves.
    """
    reason = evaluation["decision"]["reason"]
    serving = (champion.get("recommender_arn") or champion["solution_version_arn"]) if champion else None
    log.warning("NOT PROMOTED: %s. Still serving: %s", reason, serving or "nothing (no champion yet)")
    return {"promoted": False, "reason": reason, "serving": serving, "report": evaluation["report"]}


def promote_winner(
    s3_client: Any,
    uc: Any,
    *,
    run_id: str,
    export_version: str,
    evaluation: Mapping[str, Any],
    dataset_group_arn: str,
    event_tracker_arn: str,
    tracking_id: str | None,
    recommendations: Mapping[str, list[str]],
    campaign_arn: str | None = None,
    recommenders: Mapping[str, str] | None = None,
    recommender_filters: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    """Record the evaluation's winner as the champion (champion.json + history), idempotent per run.

    :param s3_client: a boto3 S3 client.
    :param uc: the :class:`personalize_pipelines.config.UseCase`.
    :param run_id: the pipeline run; a retry of it finds its own promotion.
    :param export_version: the version the winner trained on.
    :param evaluation: from :func:`personalize_pipelines.training.evaluate.evaluate_run` (or
        :func:`personalize_pipelines.training.recommenders.evaluate_recommenders`).
    :param dataset_group_arn: the winner's dataset group.
    :param event_tracker_arn: the dataset group's event tracker.
    :param tracking_id: the event tracker's tracking id.
    :param recommendations: the smoke test's answers, kept in the outcome.
    :param campaign_arn: the campaign now serving the winning solution version;
    :param recommenders: or, for a domain use case, every recommender of the run by name, which serve
        from now on (the winner is the one the gate judged), and ``recommender_filters``: their filters' ARNs.
    :return: the run's outcome: the reason, the new champion, the smoke test's answers, the report.
    """
    winner = evaluation["winner"]
    if recommenders is not None:
        label, serving = winner["recommender"], winner["recommender_arn"]
        through = {
            "recommender_arn": serving,
            "recommenders": recommenders,
            "recommender_filters": recommender_filters,
        }
    else:
        label, serving = winner["solution"], winner["solution_version_arn"]
        through = {
            "solution_version_arn": serving,
            "solution_arn": winner["solution_arn"],
            "campaign_arn": campaign_arn,
        }
    entry = promote(
        s3_client,
        location=UseCaseLayout.for_use_case(uc).registry,
        recipe=winner["recipe"],
        metrics=evaluation["models"][label],
        export_version=export_version,
        dataset_group_arn=dataset_group_arn,
        event_tracker_arn=event_tracker_arn,
        tracking_id=tracking_id,
        promotion_id=promotion_id_for(use_case=uc.name, run_id=run_id),
        run_id=run_id,
        **through,
    )
    reason = evaluation["decision"]["reason"]
    log.info("PROMOTED %s (%s) on %s: %s", label, serving, campaign_arn or "its recommenders", reason)
    return {
        "promoted": True,
        "reason": reason,
        "champion": entry.as_dict(),
        "sample_recommendations": dict(recommendations),
        "report": evaluation["report"],
    }


def run_cost(
    personalize_client: Any,
    *,
    trained: Sequence[Mapping[str, Any]],
    champion: Mapping[str, Any],
    sample: Mapping[str, Any],
    ingested_bytes: int,
    campaign_arn: str | None = None,
) -> dict[str, Any]:
    """The run's estimated cost (:func:`personalize_pipelines.cost.estimate_run_cost`), logged.

    Every trained version's training hours, the deployed campaign (when one was), a batch inference of
    the sampled users per scored model (the challengers, and the champion when there is one) and the
    bytes imported.

    :param personalize_client: a boto3 Personalize client.
    :param trained: the challengers trained by this run.
    :param champion: the registry's champion as a dict, empty when nothing serves.
    :param sample: the holdout sample (its ``users`` count).
    :param ingested_bytes: bytes of the version's imported files.
    :param campaign_arn: the campaign this run created or updated, None when it deployed nothing.
    """
    versions = [
        personalize_client.describe_solution_version(solutionVersionArn=t["solution_version_arn"])
        for t in trained
    ]
    campaigns = [personalize_client.describe_campaign(campaignArn=campaign_arn)] if campaign_arn else []
    estimate = estimate_run_cost(
        solution_versions=versions,
        campaigns=campaigns,
        batch_users=sample["users"] * (len(trained) + bool(champion)),
        ingested_bytes=ingested_bytes,
    )
    log.info("%s", estimate.summary())
    return estimate.as_dict()
