"""A domain use case's train run: its recommenders, judged and switched over together.

Batch inference needs a solution version, so a recommender is scored in real time: GetRecommendations for
each sampled holdout user (the same users a solution's batch job gets), paced under the recommender's
``min_recommendation_requests_per_second`` so the evaluation never bills above what it is provisioned for.
The gate judges the champion recommender (:attr:`personalize_pipelines.config.UseCase.champion_recommender`)
against the metrics the registry recorded when the serving model was promoted; the serving recommenders may
be stopped by schedule, so they are not asked again.

When the gate promotes, every recommender of the run serves (the registry records each ARN by name) and
those of the previous champion are stopped; when it keeps the champion, the run's own recommenders are
stopped. Stopped, never deleted: an INACTIVE recommender bills nothing and keeps its model.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from personalize_pipelines.evaluation import Evaluated, evaluate
from personalize_pipelines.events import RateLimiter, call_with_retry
from personalize_pipelines.training.evaluate import judge, scored_solutions, scoring_inputs
from personalize_pipelines.training.resources import CHAMPION_LABEL

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


def score_in_real_time(
    runtime_client: Any,
    *,
    recommender_arn: str,
    users: Sequence[str],
    num_results: int,
    requests_per_second: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[dict[str, list[str]], dict[str, int]]:
    """GetRecommendations for each user, at most ``requests_per_second``, throttling retried with backoff.

    :return: user → recommended items (users whose request failed are left out, and score 0), and the
        counts: requests, users_recommended, error_requests, retries.
    """
    limiter = RateLimiter(requests_per_second, clock=clock, sleep=sleep)
    answers: dict[str, list[str]] = {}
    counts = {"requests": 0, "users_recommended": 0, "error_requests": 0, "retries": 0}
    for user in users:
        limiter.wait()
        answer: dict[str, Any] = {}

        def ask(user: str = user, answer: dict[str, Any] = answer) -> None:
            answer.update(
                runtime_client.get_recommendations(
                    recommenderArn=recommender_arn, userId=user, numResults=num_results
                )
            )

        counts["requests"] += 1
        try:
            counts["retries"] += call_with_retry(
                ask, max_attempts=MAX_ATTEMPTS, sleep=sleep, what="GetRecommendations"
            )
        except ClientError as error:
            counts["error_requests"] += 1
            log.warning("%s for user %s: %s", recommender_arn, user, error)
            continue
        answers[user] = [entry["itemId"] for entry in answer.get("itemList", [])]
        counts["users_recommended"] += bool(answers[user])
    return answers, counts


def recorded_champion(champion: Mapping[str, Any]) -> Evaluated | None:
    """The serving model as the registry recorded it at its promotion, None when nothing serves yet."""
    if not champion:
        return None
    return Evaluated(
        name=CHAMPION_LABEL,
        solution_version_arn=champion.get("recommender_arn") or champion["solution_version_arn"],
        metrics=champion["metrics"],
        recipe=champion["recipe"],
    )


def evaluate_recommenders(
    s3_client: Any,
    runtime_client: Any,
    uc: Any,
    *,
    version: str,
    run_key: str,
    run_id: str,
    sample: Mapping[str, Any],
    recommenders: Mapping[str, str],
    champion: Mapping[str, Any],
    trained: Sequence[Mapping[str, Any]] = (),
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Score the champion recommender on the sampled holdout users, judge it, publish the report.

    :param s3_client: a boto3 S3 client.
    :param runtime_client: a boto3 Personalize runtime client.
    :param uc: the :class:`personalize_pipelines.config.UseCase`.
    :param version: the export version.
    :param run_key: the run's key, naming its evaluation folder.
    :param run_id: the pipeline run, recorded in the report.
    :param sample: from :func:`personalize_pipelines.training.evaluate.sample_holdout`.
    :param recommenders: this run's recommenders, ARN by configured name.
    :param champion: the registry's champion (``Champion.as_dict``), empty when nothing serves yet.
    :param trained: the use case's custom solutions trained beside the recommenders (their batch output on
        the same users), reported for comparison; they never serve in a use case with recommenders.
    :return: the decision, the winner (the judged recommender, None when it is not eligible), this run's
        recommenders, every model's metrics and the report's URIs.
    """
    spec = uc.champion_recommender
    arn = recommenders[spec.name]
    scoring = scoring_inputs(s3_client, uc, version=version, run_key=run_key)
    answers, counts = score_in_real_time(
        runtime_client,
        recommender_arn=arn,
        users=scoring["users"],
        num_results=uc.evaluation.num_results,
        requests_per_second=spec.min_recommendation_requests_per_second,
        sleep=sleep,
    )
    relevant = {user: scoring["holdout"].relevant.get(user, frozenset()) for user in scoring["users"]}
    challenger = Evaluated(
        name=spec.name,
        solution_version_arn=arn,
        metrics=evaluate(answers, relevant, catalog=scoring["catalog"]),
        recipe=spec.recipe_name,
        batch=counts,
    )
    judged = judge(
        s3_client,
        uc,
        version=version,
        run_key=run_key,
        run_id=run_id,
        sample=sample,
        scoring=scoring,
        champion=recorded_champion(champion),
        challengers=[challenger],
        references=scored_solutions(s3_client, trained, scoring=scoring),
    )
    eligible = judged.pop("winner") is not None
    return {
        **judged,
        "winner": {"recommender": spec.name, "recommender_arn": arn, "recipe": spec.recipe_name}
        if eligible
        else None,
        "recommenders": dict(recommenders),
    }


def not_serving(recommenders: Mapping[str, str], *, serving: Mapping[str, str]) -> list[str]:
    """The ARNs of ``recommenders`` that are not among ``serving``'s: the ones to stop.

    After a promotion, the previous champion's recommenders the new ones replace; after a kept champion,
    this run's recommenders (none, when a long-lived group's recommenders are the serving ones).
    """
    staying = set(serving.values())
    return sorted({arn for arn in recommenders.values() if arn not in staying})
