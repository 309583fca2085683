"""Batch inference: JSON lines in, ``<input name>.out`` JSON lines out, in Personalize's format."""

from __future__ import annotations

import json
import logging
from typing import Any

from personalize_local.errors import ServiceError
from personalize_local.models.lifecycle import JobFailed
from personalize_local.models.registry import ModelRegistry
from personalize_local.models.runtime import rank, recommend, restriction
from personalize_local.models.s3 import S3Error, S3Location, list_keys, read_object, write_object
from personalize_local.models.state import ServiceState
from personalize_local.recipes import recipe_for_arn

log = logging.getLogger("personalize_local.batch")


def input_locations(path: str) -> list[S3Location]:
    """The input objects of a batch job: ``path`` itself, or every object under it (a folder)."""
    location = S3Location.parse(path)
    if location.key == "" or location.key.endswith("/"):
        keys = [k for k in list_keys(location) if not k.endswith(".out")]
        if not keys:
            raise JobFailed(f"No input files under {path}")
        return [S3Location(location.bucket, key) for key in keys]
    return [location]


def _answer(
    line: str,
    *,
    state: ServiceState,
    model: Any,
    recipe_type: str,
    group: str,
    filter_arn: str | None,
    num_results: int,
) -> dict:
    try:
        request = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"input": line, "output": None, "error": f"Line is not JSON: {exc}"}
    if not isinstance(request, dict):
        return {"input": request, "output": None, "error": "Line must be a JSON object"}
    try:
        user_id = request.get("userId")
        allowed = restriction(
            state,
            filter_arn=filter_arn,
            filter_values=request.get("filterValues"),
            dataset_group_arn=group,
            user_id=user_id,
            item_id=str(request["itemId"]) if request.get("itemId") else None,
        )
        if recipe_type == "PERSONALIZED_RANKING":
            if not user_id or not isinstance(request.get("itemList"), list):
                raise JobFailed("a ranking line needs userId and itemList")
            ranked = rank(
                model,
                user_id=str(user_id),
                item_ids=[str(i) for i in request["itemList"]],
                restriction=allowed,
            )
        else:
            ranked = recommend(
                model,
                recipe_type,
                user_id=str(user_id) if user_id else None,
                item_id=str(request["itemId"]) if request.get("itemId") else None,
                num_results=num_results,
                restriction=allowed,
            )
    except (ServiceError, JobFailed) as exc:
        return {"input": request, "output": None, "error": getattr(exc, "message", str(exc))}
    return {
        "input": request,
        "output": {
            "recommendedItems": [item for item, _ in ranked],
            "scores": [round(float(score), 7) for _, score in ranked],
        },
        "error": None,
    }


def run_batch_inference(*, state: ServiceState, models: ModelRegistry, job_arn: str) -> None:
    """Read every input file, answer each line with the job's solution version, write ``.out`` files."""
    job = state.store.snapshot("batch-inference-job", job_arn)
    version = state.store.snapshot("solution-version", job["solutionVersionArn"])
    recipe = recipe_for_arn(version["recipeArn"])
    model = models.get(job["solutionVersionArn"])
    output = job["jobOutput"]["s3DataDestination"]["path"]
    output = output if output.endswith("/") else output + "/"
    try:
        destination = S3Location.parse(output)
        for source in input_locations(job["jobInput"]["s3DataSource"]["path"]):
            lines = [line for line in read_object(source).decode("utf-8").splitlines() if line.strip()]
            answers = [
                _answer(
                    line,
                    state=state,
                    model=model,
                    recipe_type=recipe.recipe_type,
                    group=version["datasetGroupArn"],
                    filter_arn=job.get("filterArn"),
                    num_results=job["numResults"],
                )
                for line in lines
            ]
            name = source.key.rsplit("/", 1)[-1] + ".out"
            body = "".join(json.dumps(answer) + "\n" for answer in answers).encode()
            write_object(S3Location(destination.bucket, destination.key + name), body)
            log.info("batch %s: %d line(s) from %s → %s%s", job["jobName"], len(lines), source, output, name)
    except S3Error as exc:
        raise JobFailed(f"Batch inference cannot read or write S3: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise JobFailed(f"Batch input is not UTF-8 JSON lines: {exc}") from exc
