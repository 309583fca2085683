"""What every model of a train run scored, and what the gate decided.

:func:`sample_holdout` writes the batch inference input every model is scored on;
:func:`trained_version` reads one trained version's offline metrics; :func:`evaluate_run` scores every
challenger and the champion on the holdout, asks :func:`personalize_pipelines.gate.decide` and publishes
the report beside the export version and in the registry.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from personalize_pipelines.evaluation import (
    Evaluated,
    evaluate_batch_output,
    evaluation_html,
    evaluation_report,
    publish_evaluation,
    read_batch_input,
    read_catalog,
    read_holdout,
    sample_users,
    write_batch_input,
)
from personalize_pipelines.gate import decide
from personalize_pipelines.layout import UseCaseLayout
from personalize_pipelines.registry import evaluation_history, record_evaluation
from personalize_pipelines.training import TrainRunError
from personalize_pipelines.training.resources import CHAMPION_LABEL

log = logging.getLogger(__name__)


def sample_holdout(s3_client: Any, uc: Any, *, version: str, run_key: str) -> dict[str, Any]:
    """Sample holdout users and write the batch inference input every model is scored on.

    :param s3_client: a boto3 S3 client.
    :param uc: the :class:`personalize_pipelines.config.UseCase`.
    :param version: the export version.
    :param run_key: the run's key (``plan_run``'s ``run_key``), naming its evaluation folder.
    :return: the input's URI, the number of users sampled and in the holdout, the holdout's rows and
        the users the smoke test asks for recommendations.
    :raises TrainRunError: when no holdout user has a relevant event.
    """
    export = UseCaseLayout.for_use_case(uc).version(version)
    holdout = read_holdout(s3_client, version=export, event_types=uc.evaluation.event_types)
    users = sample_users(holdout.users, max_users=uc.evaluation.max_users, seed=uc.evaluation.seed)
    if not users:
        raise TrainRunError(
            f"export version {version}: the holdout has no users with relevant events "
            f"({holdout.rows} rows, {holdout.rows_skipped_event_type} of other event types); nothing to evaluate on"
        )
    input_path = write_batch_input(s3_client, evaluation=export.evaluation(run_key), users=users)
    log.info(
        "holdout: %d rows, %d users; %d sampled for evaluation", holdout.rows, len(holdout.users), len(users)
    )
    return {
        "input_path": input_path,
        "users": len(users),
        "holdout_users": len(holdout.users),
        "holdout_rows": holdout.rows,
        "smoke_users": users[: uc.campaign.smoke_test_users],
    }


def trained_version(
    personalize_client: Any, uc: Any, *, solution: str, solution_arn: str, solution_version_arn: str
) -> dict[str, Any]:
    """GetSolutionMetrics and the training hours of one trained version.

    :param personalize_client: a boto3 Personalize client.
    :param uc: the :class:`personalize_pipelines.config.UseCase`.
    :param solution: the configured solution's name.
    :param solution_arn: its solution.
    :param solution_version_arn: the version this run trained.
    """
    metrics = personalize_client.get_solution_metrics(solutionVersionArn=solution_version_arn)["metrics"]
    described = personalize_client.describe_solution_version(solutionVersionArn=solution_version_arn)
    spec = next(s for s in uc.training.solutions if s.name == solution)
    log.info("%s (%s) offline metrics: %s", solution, spec.recipe, json.dumps(metrics, sort_keys=True))
    return {
        "solution": solution,
        "recipe": spec.recipe,
        "solution_arn": solution_arn,
        "solution_version_arn": solution_version_arn,
        "training_hours": described["solutionVersion"].get("trainingHours"),
        "metrics": metrics,
    }


def scoring_inputs(s3_client: Any, uc: Any, *, version: str, run_key: str) -> dict[str, Any]:
    """What every model of a run is scored against: the evaluation's folder, its sampled users, the
    holdout and the catalog of the export version."""
    export = UseCaseLayout.for_use_case(uc).version(version)
    evaluation = export.evaluation(run_key)
    return {
        "evaluation": evaluation,
        "users": read_batch_input(s3_client, evaluation=evaluation),
        "holdout": read_holdout(s3_client, version=export, event_types=uc.evaluation.event_types),
        "catalog": read_catalog(s3_client, version=export),
    }


def evaluate_run(
    s3_client: Any,
    uc: Any,
    *,
    version: str,
    run_key: str,
    run_id: str,
    sample: Mapping[str, Any],
    trained: Sequence[Mapping[str, Any]],
    champion: Mapping[str, Any],
) -> dict[str, Any]:
    """Score every challenger and the champion on the same holdout users, decide, publish the report.

    :param s3_client: a boto3 S3 client.
    :param uc: the :class:`personalize_pipelines.config.UseCase`.
    :param version: the export version.
    :param run_key: the run's key, naming its evaluation folder.
    :param run_id: the pipeline run, recorded in the report.
    :param sample: from :func:`sample_holdout`.
    :param trained: :func:`trained_version` of every challenger.
    :param champion: the registry's champion (``Champion.as_dict``), empty when nothing serves yet.
    :return: the decision, the winner (one of ``trained``, None when none is eligible) and its solution
        version, every model's metrics and the report's URIs.
    """
    scoring = scoring_inputs(s3_client, uc, version=version, run_key=run_key)
    challengers = scored_solutions(s3_client, trained, scoring=scoring)
    defending = None
    if champion:
        (defending,) = scored_solutions(
            s3_client, [{**champion, "solution": CHAMPION_LABEL}], scoring=scoring
        )
    judged = judge(
        s3_client,
        uc,
        version=version,
        run_key=run_key,
        run_id=run_id,
        sample=sample,
        scoring=scoring,
        champion=defending,
        challengers=challengers,
    )
    decision = judged.pop("winner")
    winner = next((t for t in trained if decision and t["solution"] == decision.name), None)
    return {
        **judged,
        "winner": winner,
        "winner_solution_version_arn": winner["solution_version_arn"] if winner else None,
    }


def scored_solutions(
    s3_client: Any, trained: Sequence[Mapping[str, Any]], *, scoring: Mapping[str, Any]
) -> list[Evaluated]:
    """Each trained version's batch output (:func:`trained_version` of each, or the champion labelled
    ``champion``) scored on the holdout."""
    return [
        evaluate_batch_output(
            s3_client,
            model=t["solution"],
            solution_version_arn=t["solution_version_arn"],
            recipe=t["recipe"],
            **scoring,
        )
        for t in trained
    ]


def judge(
    s3_client: Any,
    uc: Any,
    *,
    version: str,
    run_key: str,
    run_id: str,
    sample: Mapping[str, Any],
    scoring: Mapping[str, Any],
    champion: Evaluated | None,
    challengers: Sequence[Evaluated],
    references: Sequence[Evaluated] = (),
) -> dict[str, Any]:
    """Ask the gate, publish the report (beside the export version and in the registry), log every model.

    :param scoring: from :func:`scoring_inputs`.
    :param champion: the serving model's evaluation, None when nothing serves yet.
    :param challengers: the models the gate may promote.
    :param references: models scored on the same users and reported, never promoted.
    :return: the decision, the winner (an :class:`Evaluated`, None when none is eligible), every model's
        metrics and the report's URIs.
    """
    decision = decide(
        champion=champion,
        challengers=challengers,
        metric=uc.evaluation.metric,
        min_relative_lift=uc.evaluation.min_relative_lift,
        max_missing_fraction=uc.evaluation.max_missing_fraction,
    )
    report = evaluation_report(
        use_case=uc.name,
        export_version=version,
        champion=champion,
        challengers=[*challengers, *references],
        decision=decision,
        run_id=run_id,
        holdout={
            "users": len(scoring["users"]),
            "holdout_users": sample["holdout_users"],
            "rows": scoring["holdout"].rows,
            "event_types": uc.evaluation.event_types,
        },
    )
    registry = UseCaseLayout.for_use_case(uc).registry
    past = [r for r in evaluation_history(s3_client, location=registry) if r.get("run_id") != run_id]
    uris = publish_evaluation(
        s3_client,
        version=UseCaseLayout.for_use_case(uc).version(version),
        run_key=run_key,
        report=report,
        html_page=evaluation_html(report, history=past),
    )
    record_evaluation(s3_client, location=registry, report=report, evaluation_id=run_key)
    models = ([champion] if champion else []) + [*challengers, *references]
    for model in models:
        log.info(
            "%s: %s=%s users_missing=%s",
            model.name,
            uc.evaluation.metric,
            model.metrics.get(uc.evaluation.metric),
            model.metrics.get("users_missing"),
        )
    log.info(
        "decision: %s — %s (report %s)",
        "PROMOTE" if decision.promote else "KEEP CHAMPION",
        decision.reason,
        uris["html"],
    )
    return {
        "decision": decision.as_dict(),
        "winner": decision.winner,
        "models": {m.name: dict(m.metrics) for m in models},
        "report": uris,
    }
