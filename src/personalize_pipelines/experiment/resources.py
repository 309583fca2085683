"""The Personalize resources of one experiment, named deterministically, as the DAG's mapped tasks take
them, and what deleting them all takes.

Each variant gets a dataset group, its datasets and imports; each variant × solution a solution, a version
and a batch inference job on the shared holdout sample. The schemas are the experiment's, one per dataset
kind (every variant publishes the same columns). Entries that need an upstream ARN carry ``upstream``,
the index of the task that made it (:func:`with_arns` fills it in).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from personalize_pipelines.cleanup import inventory
from personalize_pipelines.experiment.grid import ExperimentParams, Variant
from personalize_pipelines.layout import ExperimentLayout
from personalize_pipelines.naming import derive_name
from personalize_pipelines.publish import read_json
from personalize_pipelines.retention import ORDER, describe_plan, plan
from personalize_pipelines.training.resources import dataset_kinds

UPSTREAM = "upstream"


def group_name(use_case: str, experiment: str, variant: str) -> str:
    """The dataset group of one variant of one experiment."""
    return derive_name(f"{use_case}-x-{variant}", use_case, experiment, variant)


def plan_resources(
    s3_client: Any,
    uc: Any,
    *,
    experiment: str,
    layout: ExperimentLayout,
    variants: Sequence[Variant],
    params: ExperimentParams,
) -> dict[str, Any]:
    """Every resource's name and arguments: ``groups``, per kind ``schema__<kind>`` (name),
    ``schema_json__<kind>``, ``datasets__<kind>`` and ``imports__<kind>``, ``cells`` (variant × solution: the solution's
    arguments, the batch job's name and output)."""
    name = uc.name
    first = layout.variant(variants[0].name)
    groups = [{"name": group_name(name, experiment, v.name)} for v in variants]
    planned: dict[str, Any] = {"groups": groups}
    for kind in dataset_kinds(uc):
        document = read_json(s3_client, first.bucket, first.key(first.schema(kind)))
        planned[f"schema__{kind}"] = derive_name(f"{name}-x-{kind}", name, experiment, kind)
        planned[f"schema_json__{kind}"] = json.dumps(document, sort_keys=True)
        planned[f"datasets__{kind}"] = [
            {"name": derive_name(f"{name}-x-{kind}", g["name"], kind), UPSTREAM: i}
            for i, g in enumerate(groups)
        ]
        planned[f"imports__{kind}"] = [
            {
                "job_name": derive_name(f"{name}-x-{kind}-import", name, experiment, v.name, kind),
                "data_location": layout.uri(layout.variant(v.name).data(kind)),
                UPSTREAM: i,
            }
            for i, v in enumerate(variants)
        ]
    specs = {s.name: s for s in uc.training.solutions}
    cells = []
    for index, variant in enumerate(variants):
        for solution in params.solutions:
            spec = specs[solution]
            cells.append(
                {
                    "variant": variant.as_dict(),
                    "solution": solution,
                    "recipe": spec.recipe,
                    "create": {
                        "name": derive_name(
                            f"{name}-x-{variant.name}-{solution}", name, experiment, variant.name, solution
                        ),
                        "recipe_arn": spec.recipe_arn,
                        "event_type": spec.event_type,
                        "perform_hpo": spec.perform_hpo,
                        "solution_config": spec.solution_config(),
                        UPSTREAM: index,
                    },
                    "batch": {
                        "job_name": derive_name(
                            f"{name}-x-{variant.name}-{solution}-eval",
                            name,
                            experiment,
                            variant.name,
                            solution,
                        ),
                        "output_path": layout.uri(layout.batch_output(variant.name, solution)),
                    },
                }
            )
    planned["cells"] = cells
    return planned


def with_arns(
    entries: Sequence[Mapping[str, Any]], arns: Sequence[str], *, field: str
) -> list[dict[str, Any]]:
    """Each entry's operator arguments: its ``upstream`` index replaced by that upstream's ARN as ``field``."""
    arns = list(arns)
    return [{k: v for k, v in e.items() if k != UPSTREAM} | {field: arns[e[UPSTREAM]]} for e in entries]


def batch_jobs(
    cells: Sequence[Mapping[str, Any]], version_arns: Sequence[str], *, input_path: str
) -> list[dict[str, Any]]:
    """The batch inference job of each cell, on the version it trained and the shared holdout sample."""
    return [
        c["batch"] | {"solution_version_arn": arn, "input_path": input_path}
        for c, arn in zip(cells, list(version_arns), strict=True)
    ]


def deletions(personalize_client: Any, *, group_names: Sequence[str], moment: datetime) -> dict[str, Any]:
    """Everything in the experiment's dataset groups (those of ``group_names`` that exist), by kind in the
    cleanup DAG's dependency order: the cleanup's own inventory and retention plan, nothing protected.

    :param moment: the wall clock: everything created before it goes."""
    wanted = set(group_names)
    pages = personalize_client.get_paginator("list_dataset_groups").paginate()
    scope = {g["datasetGroupArn"] for page in pages for g in page["datasetGroups"] if g["name"] in wanted}
    found = inventory(personalize_client, scope_groups=scope, name_prefix=None)
    planned = plan(found, protected=set(), cutoff=moment + timedelta(days=1), scope_groups=scope)
    result: dict[str, Any] = {kind: [d.arn for d in planned[kind]] for kind in ORDER}
    result["plan"] = describe_plan(planned)
    return result
