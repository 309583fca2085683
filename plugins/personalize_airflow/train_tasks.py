"""Task callables and resource names of the `<use_case>__train` DAG. Heavy libraries load inside the tasks.

Every Personalize resource the DAG creates is named by :func:`resource_names` from the use case, the
export version and the run, so a retried task finds what an earlier try created instead of making a
second one. The waits themselves are the Personalize operators' (deferrable by default).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from airflow.sdk import task
from airflow.sdk.exceptions import AirflowFailException

from personalize_airflow.hooks.personalize import derive_name

log = logging.getLogger(__name__)

DATASET_TYPES = {"interactions": "Interactions", "items": "Items", "users": "Users"}
CHAMPION_LABEL = "champion"


def dataset_kinds(uc: Any) -> list[str]:
    """The datasets this use case imports: interactions, plus items and users when configured."""
    return ["interactions"] + [kind for kind in ("items", "users") if getattr(uc, kind) is not None]


def poll_seconds(uc: Any) -> int:
    """Seconds between status checks: ``[personalize] poll_seconds`` if set, else the use case's."""
    from airflow.configuration import conf

    return conf.getint("personalize", "poll_seconds", fallback=uc.training.poll_seconds)


def _digest(document: Any) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:16]


def resource_names(uc: Any, *, version: str, run_id: str, schemas: Mapping[str, str]) -> dict[str, str]:
    """The name of every resource one run creates, deterministic in (use case, version, run).

    ``per_run`` groups are named from the run (a new group each run); a ``long_lived`` group and its
    datasets from the use case alone. Schemas are named by content, solutions by their settings (a
    changed setting gives a new solution), import and batch jobs by version and run.

    :param schemas: dataset kind → Avro schema JSON of the export version.
    """
    name = uc.name
    per_run = uc.training.dataset_group == "per_run"
    group = (
        derive_name(f"{name}-run", name, version, run_id) if per_run else derive_name(f"{name}-live", name)
    )
    names = {"dataset_group": group, "campaign": name, "event_tracker": derive_name(f"{name}-events", group)}
    for kind in dataset_kinds(uc):
        names[f"schema__{kind}"] = derive_name(
            f"{name}-{kind}", name, kind, _digest(json.loads(schemas[kind]))
        )
        names[f"dataset__{kind}"] = derive_name(f"{name}-{kind}", group, kind)
        names[f"import__{kind}"] = derive_name(f"{name}-{kind}-import", name, version, run_id, kind)
    for solution in uc.training.solutions:
        settings = solution.model_dump(exclude={"training_mode"})
        names[f"solution__{solution.name}"] = derive_name(f"{name}-{solution.name}", group, _digest(settings))
        names[f"batch__{solution.name}"] = derive_name(f"{name}-{solution.name}-eval", name, version, run_id)
    names["batch__champion"] = derive_name(f"{name}-champion-eval", name, version, run_id)
    if uc.campaign.smoke_test_filter:
        names["smoke_filter"] = derive_name(f"{name}-smoke", group, uc.campaign.smoke_test_filter)
    return names


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


def _use_case(name: str):
    from personalize_airflow.use_cases import use_case

    return use_case(name)


def _s3(uc: Any):
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id=uc.s3.conn_id).get_conn()


def _registry(uc: Any):
    from personalize_pipelines.registry import RegistryLocation

    return RegistryLocation.for_use_case(uc)


@task(multiple_outputs=True)
def plan(use_case_name: str, **context) -> dict[str, Any]:
    """Which export version this run trains on, where its data is, and the name of every resource."""
    from personalize_pipelines.export import run_key
    from personalize_pipelines.layout import MANIFEST
    from personalize_pipelines.publish import read_json

    uc = _use_case(use_case_name)
    version = requested_version(context["params"], context.get("triggering_asset_events"))
    s3, bucket, prefix = _s3(uc), uc.s3.bucket, uc.s3_prefix
    manifest = read_json(s3, bucket, f"{prefix}/{version}/{MANIFEST}")
    if manifest is None:
        raise AirflowFailException(
            f"s3://{bucket}/{prefix}/{version}/{MANIFEST} does not exist: export version {version!r} is "
            "unknown or was never completed"
        )
    schemas = {}
    for kind in dataset_kinds(uc):
        document = read_json(s3, bucket, f"{prefix}/{version}/schemas/{kind}.json")
        if document is None:
            raise AirflowFailException(
                f"export version {version} has no schemas/{kind}.json, but {uc.name} imports {kind}"
            )
        schemas[kind] = json.dumps(document, sort_keys=True)
    key = run_key(uc.name, context["run_id"])
    eval_uri = f"s3://{bucket}/{prefix}/{version}/evaluation/{key}/"
    files = manifest.get("files", [])
    imported = sum(f.get("bytes", 0) for f in files if f["key"].split("/")[0] in DATASET_TYPES)
    log.info(
        "training on export version %s (%s), window %s", version, manifest.get("uri"), manifest.get("window")
    )
    return {
        "version": version,
        "window": manifest.get("window"),
        "rows": {kind: d.get("rows") for kind, d in manifest.get("datasets", {}).items()},
        "run_key": key,
        "eval_uri": eval_uri,
        "ingested_bytes": imported,
        **{f"data__{kind}": f"s3://{bucket}/{prefix}/{version}/{kind}/" for kind in schemas},
        **{f"schema_json__{kind}": body for kind, body in schemas.items()},
        **{f"batch_output__{s.name}": f"{eval_uri}batch/{s.name}/" for s in uc.training.solutions},
        "batch_output__champion": f"{eval_uri}batch/{CHAMPION_LABEL}/",
        **resource_names(uc, version=version, run_id=context["run_id"], schemas=schemas),
    }


@task
def serving_champion(use_case_name: str) -> dict[str, Any]:
    """The registry's champion (what serves now), empty before the first promotion."""
    from personalize_pipelines.registry import read_champion

    uc = _use_case(use_case_name)
    champion = read_champion(_s3(uc), location=_registry(uc))
    if champion is None:
        log.info("no champion yet: the best challenger will be compared against nothing")
        return {}
    log.info(
        "champion: %s (%s), promoted %s", champion.solution_version_arn, champion.recipe, champion.promoted_at
    )
    return champion.as_dict()


@task.short_circuit(ignore_downstream_trigger_rules=False)
def champion_to_evaluate(champion: dict[str, Any]) -> bool:
    """Go on to the champion's batch inference only when there is a champion."""
    return bool(champion)


@task
def holdout_sample(use_case_name: str, version: str, eval_uri: str) -> dict[str, Any]:
    """Sample holdout users and write the batch inference input every model is scored on."""
    from personalize_pipelines.evaluation import batch_input_lines, read_holdout, sample_users

    uc = _use_case(use_case_name)
    s3 = _s3(uc)
    holdout = read_holdout(
        s3,
        bucket=uc.s3.bucket,
        use_case_prefix=uc.s3_prefix,
        version=version,
        event_types=uc.evaluation.event_types,
    )
    users = sample_users(holdout.users, max_users=uc.evaluation.max_users, seed=uc.evaluation.seed)
    if not users:
        raise AirflowFailException(
            f"export version {version}: the holdout has no users with relevant events "
            f"({holdout.rows} rows, {holdout.rows_skipped_event_type} of other event types); nothing to evaluate on"
        )
    key = f"{eval_uri.removeprefix(f's3://{uc.s3.bucket}/')}batch/users.json"
    s3.put_object(Bucket=uc.s3.bucket, Key=key, Body=batch_input_lines(users), ContentType="application/json")
    log.info(
        "holdout: %d rows, %d users; %d sampled for evaluation", holdout.rows, len(holdout.users), len(users)
    )
    return {
        "input_path": f"s3://{uc.s3.bucket}/{key}",
        "users": len(users),
        "holdout_users": len(holdout.users),
        "holdout_rows": holdout.rows,
        "smoke_users": users[: uc.campaign.smoke_test_users],
    }


@task
def solution_metrics(use_case_name: str, solution: str, solution_arn: str, solution_version_arn: str) -> dict:
    """GetSolutionMetrics and the training hours of one trained version."""
    from personalize_airflow.hooks.personalize import PersonalizeHook

    uc = _use_case(use_case_name)
    client = PersonalizeHook(aws_conn_id=uc.s3.conn_id).conn
    metrics = client.get_solution_metrics(solutionVersionArn=solution_version_arn)["metrics"]
    described = client.describe_solution_version(solutionVersionArn=solution_version_arn)["solutionVersion"]
    spec = next(s for s in uc.training.solutions if s.name == solution)
    log.info("%s (%s) offline metrics: %s", solution, spec.recipe, json.dumps(metrics, sort_keys=True))
    return {
        "solution": solution,
        "recipe": spec.recipe,
        "solution_arn": solution_arn,
        "solution_version_arn": solution_version_arn,
        "training_hours": described.get("trainingHours"),
        "metrics": metrics,
    }


def _read_users(s3: Any, uri: str) -> list[str]:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    return [json.loads(line)["userId"] for line in body.splitlines() if line.strip()]


def _evaluated(
    s3: Any, uc: Any, *, name: str, arn: str, recipe: str, output_uri: str, users, holdout, catalog
):
    from personalize_pipelines.evaluation import Evaluated, evaluate, read_batch_output

    prefix = output_uri.removeprefix(f"s3://{uc.s3.bucket}/")
    output = read_batch_output(s3, bucket=uc.s3.bucket, prefix=prefix, expected_users=set(users))
    for problem in output.problems:
        log.warning("%s batch output: %s", name, problem)
    metrics = evaluate(
        output.recommendations, {u: holdout.relevant.get(u, frozenset()) for u in users}, catalog=catalog
    )
    return Evaluated(
        name=name, solution_version_arn=arn, metrics=metrics, recipe=recipe, batch=output.counts()
    )


@task(trigger_rule="none_failed")
def evaluate_models(
    use_case_name: str,
    version: str,
    run_key: str,
    batch_outputs: dict[str, str],
    sample: dict[str, Any],
    trained: list[dict[str, Any]],
    champion: dict[str, Any],
    **context,
) -> dict[str, Any]:
    """Score every challenger and the champion on the same holdout users, decide, publish the report."""
    from personalize_pipelines.evaluation import (
        evaluation_html,
        evaluation_report,
        publish_evaluation,
        read_catalog,
        read_holdout,
    )
    from personalize_pipelines.gate import decide
    from personalize_pipelines.registry import evaluation_history, record_evaluation

    uc = _use_case(use_case_name)
    s3, prefix = _s3(uc), uc.s3_prefix
    users = _read_users(s3, sample["input_path"])
    holdout = read_holdout(
        s3,
        bucket=uc.s3.bucket,
        use_case_prefix=prefix,
        version=version,
        event_types=uc.evaluation.event_types,
    )
    catalog = read_catalog(s3, bucket=uc.s3.bucket, use_case_prefix=prefix, version=version)
    scoring = {"users": users, "holdout": holdout, "catalog": catalog}
    challengers = [
        _evaluated(
            s3,
            uc,
            name=t["solution"],
            arn=t["solution_version_arn"],
            recipe=t["recipe"],
            output_uri=batch_outputs[t["solution"]],
            **scoring,
        )
        for t in trained
    ]
    defending = None
    if champion:
        defending = _evaluated(
            s3,
            uc,
            name=CHAMPION_LABEL,
            arn=champion["solution_version_arn"],
            recipe=champion["recipe"],
            output_uri=batch_outputs[CHAMPION_LABEL],
            **scoring,
        )
    decision = decide(
        champion=defending,
        challengers=challengers,
        metric=uc.evaluation.metric,
        min_relative_lift=uc.evaluation.min_relative_lift,
        max_missing_fraction=uc.evaluation.max_missing_fraction,
    )
    report = evaluation_report(
        use_case=uc.name,
        export_version=version,
        champion=defending,
        challengers=challengers,
        decision=decision,
        run_id=context["run_id"],
        holdout={
            "users": len(users),
            "holdout_users": sample["holdout_users"],
            "rows": holdout.rows,
            "event_types": uc.evaluation.event_types,
        },
    )
    location = _registry(uc)
    past = [r for r in evaluation_history(s3, location=location) if r.get("run_id") != context["run_id"]]
    uris = publish_evaluation(
        s3,
        bucket=uc.s3.bucket,
        use_case_prefix=prefix,
        export_version=version,
        run_key=run_key,
        report=report,
        html_page=evaluation_html(report, history=past),
    )
    record_evaluation(s3, location=location, report=report, evaluation_id=run_key)
    for model in ([defending] if defending else []) + challengers:
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
    winner = next((t for t in trained if decision.winner and t["solution"] == decision.winner.name), None)
    return {
        "decision": decision.as_dict(),
        "winner": winner,
        "models": {m.name: dict(m.metrics) for m in ([defending] if defending else []) + challengers},
        "report": uris,
    }


@task.branch
def gate(evaluation: dict[str, Any], deploy_task_id: str, keep_task_id: str) -> str:
    """Deploy the winner when the gate says promote; otherwise keep the champion."""
    return deploy_task_id if evaluation["decision"]["promote"] else keep_task_id


def _cost(uc: Any, *, trained: list[dict], batch_users: int, ingested_bytes: int, campaign_arn: str | None):
    from personalize_airflow.hooks.personalize import PersonalizeHook
    from personalize_pipelines.cost import estimate_run_cost

    client = PersonalizeHook(aws_conn_id=uc.s3.conn_id).conn
    versions = [
        client.describe_solution_version(solutionVersionArn=t["solution_version_arn"]) for t in trained
    ]
    campaigns = [client.describe_campaign(campaignArn=campaign_arn)] if campaign_arn else []
    estimate = estimate_run_cost(
        solution_versions=versions,
        campaigns=campaigns,
        batch_users=batch_users,
        ingested_bytes=ingested_bytes,
    )
    log.info("%s", estimate.summary())
    return estimate.as_dict()


@task
def keep_champion(
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

    uc = _use_case(use_case_name)
    reason = evaluation["decision"]["reason"]
    serving = champion["solution_version_arn"] if champion else None
    log.warning("NOT PROMOTED: %s. Still serving: %s", reason, serving or "nothing (no champion yet)")
    notify_not_promoted(uc, context, reason=reason, champion=serving)
    cost = _cost(
        uc,
        trained=trained,
        batch_users=sample["users"] * (len(trained) + bool(champion)),
        ingested_bytes=ingested_bytes,
        campaign_arn=None,
    )
    return {
        "promoted": False,
        "reason": reason,
        "serving": serving,
        "report": evaluation["report"],
        "cost": cost,
    }


@task
def smoke_test(use_case_name: str, campaign_arn: str, sample: dict[str, Any], filter_arn: str | None = None):
    """GetRecommendations for sample holdout users on the deployed campaign: every answer non-empty."""
    from botocore.exceptions import ClientError

    from personalize_airflow.hooks.personalize import PersonalizeRuntimeHook

    uc = _use_case(use_case_name)
    runtime = PersonalizeRuntimeHook(aws_conn_id=uc.s3.conn_id).conn
    answers: dict[str, list[str]] = {}
    problems = []
    for user in sample["smoke_users"]:
        request = {"campaignArn": campaign_arn, "userId": user, "numResults": 10}
        if filter_arn:
            request["filterArn"] = filter_arn
        try:
            items = [entry["itemId"] for entry in runtime.get_recommendations(**request)["itemList"]]
        except ClientError as error:
            problems.append(f"user {user}: {error.response.get('Error', {}).get('Message', error)}")
            continue
        if not items:
            problems.append(f"user {user}: no recommendations")
        answers[user] = items
    if problems:
        raise AirflowFailException(
            f"SMOKE TEST FAILED on campaign {campaign_arn} for {len(problems)} of {len(sample['smoke_users'])} "
            f"users: {'; '.join(problems[:5])}. The campaign is rolled back to the champion (rollback_campaign) "
            "when there is one, and the registry is not changed."
        )
    log.info("smoke test passed: %d users got recommendations from %s", len(answers), campaign_arn)
    return answers


@task.short_circuit(trigger_rule="one_failed")
def rollback_target(champion: dict[str, Any]) -> str | None:
    """After a failed deploy: the champion's solution version to put back, None when there is none."""
    if not champion:
        log.error("the deploy failed and there is no champion to roll back to; the campaign is left as it is")
        return None
    log.error("the deploy failed: rolling the campaign back to %s", champion["solution_version_arn"])
    return champion["solution_version_arn"]


@task
def promote_champion(
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
    from personalize_pipelines.registry import promote, promotion_id_for

    uc = _use_case(use_case_name)
    winner = evaluation["winner"]
    metrics = evaluation["models"][winner["solution"]]
    entry = promote(
        _s3(uc),
        location=_registry(uc),
        solution_version_arn=winner["solution_version_arn"],
        solution_arn=winner["solution_arn"],
        campaign_arn=campaign_arn,
        recipe=winner["recipe"],
        metrics=metrics,
        export_version=version,
        dataset_group_arn=dataset_group_arn,
        event_tracker_arn=event_tracker_arn,
        tracking_id=tracking_id,
        promotion_id=promotion_id_for(use_case=uc.name, run_id=context["run_id"]),
        run_id=context["run_id"],
    )
    log.info(
        "PROMOTED %s (%s) on %s: %s",
        winner["solution"],
        winner["solution_version_arn"],
        campaign_arn,
        evaluation["decision"]["reason"],
    )
    cost = _cost(
        uc,
        trained=trained,
        batch_users=sample["users"] * (len(trained) + bool(champion)),
        ingested_bytes=ingested_bytes,
        campaign_arn=campaign_arn,
    )
    return {
        "promoted": True,
        "reason": evaluation["decision"]["reason"],
        "champion": entry.as_dict(),
        "sample_recommendations": recommendations,
        "report": evaluation["report"],
        "cost": cost,
    }
