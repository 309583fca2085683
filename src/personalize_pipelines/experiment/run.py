"""The experiment's steps around training, as the ``<use_case>__experiment`` tasks call them: the shared
holdout sample, each trained model scored and priced, the report published, the variants removed."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from personalize_pipelines.cost import estimate_run_cost
from personalize_pipelines.evaluation import (
    read_batch_input,
    read_batch_output,
    read_catalog,
    read_holdout,
    sample_users,
    write_batch_input,
)
from personalize_pipelines.experiment.grid import ExperimentParams
from personalize_pipelines.experiment.report import experiment_report, publish_report, table_text
from personalize_pipelines.experiment.scoring import score
from personalize_pipelines.layout import ExperimentLayout
from personalize_pipelines.publish import delete_folder

log = logging.getLogger(__name__)


def sample_holdout(s3_client: Any, uc: Any, *, layout: ExperimentLayout, variant: str) -> dict[str, Any]:
    """Sample the shared holdout's users (any variant's: they are one file) into the batch input."""
    holdout = read_holdout(s3_client, version=layout.variant(variant), event_types=uc.evaluation.event_types)
    users = sample_users(holdout.users, max_users=uc.evaluation.max_users, seed=uc.evaluation.seed)
    if not users:
        raise ValueError(f"{uc.name}: the experiment's holdout has no user with a relevant event")
    return {
        "input_path": write_batch_input(s3_client, evaluation=layout, users=users),  # type: ignore[arg-type]
        "users": len(users),
        "holdout_users": len(holdout.users),
        "holdout_rows": holdout.rows,
    }


def score_cells(
    s3_client: Any,
    personalize_client: Any,
    uc: Any,
    *,
    layout: ExperimentLayout,
    cells: Sequence[Mapping[str, Any]],
    version_arns: Sequence[str],
    exported: Sequence[Mapping[str, Any]],
    params: ExperimentParams,
) -> list[dict[str, Any]]:
    """One row per variant × solution: its data, training hours and estimated training cost (the
    DescribeSolutionVersion figures priced by :mod:`personalize_pipelines.cost`, with the import), and its
    holdout metrics with their bootstrap intervals."""
    first = exported[0]["variant"]["name"]
    holdout = read_holdout(s3_client, version=layout.variant(first), event_types=uc.evaluation.event_types)
    users = read_batch_input(s3_client, evaluation=layout)  # type: ignore[arg-type]
    relevant = {user: holdout.relevant.get(user, frozenset()) for user in users}
    data = {e["variant"]["name"]: e for e in exported}
    catalogs: dict[str, frozenset[str]] = {}
    rows = []
    for cell, arn in zip(cells, list(version_arns), strict=True):
        variant = cell["variant"]["name"]
        if variant not in catalogs:
            catalogs[variant] = read_catalog(s3_client, version=layout.variant(variant))
        output = read_batch_output(
            s3_client,
            bucket=layout.bucket,
            prefix=cell["batch"]["output_path"].removeprefix(f"s3://{layout.bucket}/"),
            expected_users=set(users),
        )
        described = personalize_client.describe_solution_version(solutionVersionArn=arn)
        estimate = estimate_run_cost(solution_versions=[described], ingested_bytes=data[variant]["bytes"])
        scored = score(
            output.recommendations,
            relevant,
            catalog=catalogs[variant],
            samples=params.bootstrap_samples,
            seed=uc.evaluation.seed,
        )
        rows.append(
            {
                "label": f"{variant} {cell['solution']}",
                "variant": cell["variant"],
                "solution": cell["solution"],
                "recipe": cell["recipe"],
                "solution_version_arn": arn,
                **{key: data[variant][key] for key in ("rows", "users", "items", "bytes", "stage_seconds")},
                "training_hours": described["solutionVersion"].get("trainingHours"),
                "cost_usd": round(estimate.exact_usd, 8),
                "batch": output.counts(),
                **scored,
            }
        )
    return rows


def finish(
    s3_client: Any,
    uc: Any,
    *,
    experiment: str,
    layout: ExperimentLayout,
    params: ExperimentParams,
    rows: Sequence[Mapping[str, Any]],
    exported: Sequence[Mapping[str, Any]],
    shared_seconds: float,
    sample: Mapping[str, Any],
    run_id: str | None = None,
) -> dict[str, Any]:
    """The report written beside the variants and logged; what the run returns."""
    seconds = [e["stage_seconds"] for e in exported]
    report = experiment_report(
        use_case=uc.name,
        experiment=experiment,
        params=params.as_dict(),
        rows=rows,
        extraction={
            "shared_seconds": shared_seconds,
            "variants": len(seconds),
            "variant_seconds": {e["variant"]["name"]: e["stage_seconds"] for e in exported},
            "mean_variant_seconds": sum(seconds) / len(seconds),
        },
        holdout=sample,
        schedule=uc.schedule.export,
        run_id=run_id,
    )
    uris = publish_report(s3_client, layout=layout, report=report)
    log.info("%s\nreport: %s", table_text(report), uris["page"])
    return {"recommendation": report["recommendation"], "cadence": report["cadence_statement"], **uris}


def remove_variants(s3_client: Any, *, layout: ExperimentLayout, variants: Sequence[str]) -> int:
    """Delete every variant's folder and the evaluation files; the report stays. Objects deleted."""
    folders = [layout.variant(v).folder for v in variants] + [f"{layout.prefix}/evaluation/"]
    return sum(delete_folder(s3_client, bucket=layout.bucket, prefix=folder) for folder in folders)
