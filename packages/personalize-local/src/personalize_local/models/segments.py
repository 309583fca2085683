"""User segments: CreateBatchSegmentJob, DescribeBatchSegmentJob and ListBatchSegmentJobs.

A batch segment job reads JSON lines from S3 — ``{"itemId": "105"}`` for aws-item-affinity,
``{"itemAttributes": "ITEMS.GENRES = \\"Comedy\\""}`` for aws-item-attribute-affinity — and writes
``<input name>.out`` beside the output path, one line per input line, in the format the real service
writes: ``{"input": {...}, "output": {"usersList": [...]}, "error": null}``. The developer guide's output
examples show ``recommendedUsers`` instead; AWS's sample notebook
(aws-samples/amazon-personalize-samples, next_steps/core_use_cases/user_segmentation/
user_segmentation_example.ipynb) prints the files a real job wrote and parses ``output.usersList``, so
that is what is written. A line that cannot be answered gets ``"output": null`` and its ``error``, never
dropped; the job logs how many there were.

``filterArn`` names a user filter of the solution version's dataset group (``INCLUDE|EXCLUDE UserID WHERE
Users.<FIELD> ...`` or ``Interactions.EVENT_TYPE IN (...)``, the guide's "User segment filter
expressions"); its placeholders take their values from each line's ``filterValues``. An item filter is
refused when the job is created.

Choices where the guide is silent: a segment leaves out the users who already interacted with the queried
item (item affinity; an attribute's fans stay in its segment); an unknown item is an error line; the
Items and Users data are read as the job runs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from personalize_local import limits
from personalize_local.errors import InvalidInput, LimitExceeded, ServiceError
from personalize_local.models import filters as filter_language
from personalize_local.models import item_attributes
from personalize_local.models.batch import input_locations
from personalize_local.models.context import RequestContext
from personalize_local.models.lifecycle import JobFailed
from personalize_local.models.registry import ModelRegistry
from personalize_local.models.s3 import S3Error, S3Location, read_object, write_object
from personalize_local.models.state import ServiceState
from personalize_local.models.store import IN_FLIGHT
from personalize_local.recipes import recipe_for_arn

log = logging.getLogger("personalize_local.segments")


class BatchSegmentJobs:
    """The batch segment operations of :class:`~personalize_local.models.backend.PersonalizeBackend`.

    A mixin: it uses the backend's ``store``, ``state``, ``models``, ``_create_pending``,
    ``_require_active`` and ``_page``.
    """

    def create_batch_segment_job(
        self,
        request: RequestContext,
        *,
        jobName: str,
        solutionVersionArn: str,
        jobInput: dict,
        jobOutput: dict,
        roleArn: str,
        filterArn: str | None = None,
        numResults: int | None = None,
        tags: list[dict] | None = None,
    ) -> dict:
        version = self.store.snapshot("solution-version", solutionVersionArn)
        if version["status"] != "ACTIVE":
            raise InvalidInput(
                f"Solution version {solutionVersionArn} is {version['status']}; it must be ACTIVE"
            )
        recipe = recipe_for_arn(version["recipeArn"])
        if recipe is None or recipe.recipe_type != "USER_SEGMENTATION":
            raise InvalidInput(
                f"Solution version {solutionVersionArn} was trained with {version['recipeArn']}; batch "
                "segment jobs need a USER_SEGMENTATION recipe (aws-item-affinity or "
                "aws-item-attribute-affinity). For item recommendations use CreateBatchInferenceJob"
            )
        if filterArn:
            record = self._require_active("filter", filterArn)
            if record["datasetGroupArn"] != version["datasetGroupArn"]:
                raise InvalidInput(f"Filter {filterArn} belongs to another dataset group")
            if any(e.target != "USERID" for e in filter_language.parse(record["filterExpression"])):
                raise InvalidInput(
                    f"Filter {filterArn} filters items (ItemID); a batch segment job takes a user filter: "
                    "INCLUDE|EXCLUDE UserID WHERE Users.<FIELD> ... or Interactions.EVENT_TYPE IN (...)"
                )
        if numResults is not None and not 1 <= numResults <= limits.MAX_USERS_PER_SEGMENT:
            raise InvalidInput(
                f"numResults must be between 1 and {limits.MAX_USERS_PER_SEGMENT}, got {numResults}"
            )
        running = [job for job in self.store.find("batch-segment-job") if job["status"] in IN_FLIGHT]
        if len(running) >= limits.MAX_RUNNING_SEGMENT_JOBS:
            raise LimitExceeded(
                f"At most {limits.MAX_RUNNING_SEGMENT_JOBS} batch segment jobs can be pending or in "
                "progress at once; wait for one to finish"
            )
        job_arn = solutionVersionArn.split(":solution/", 1)[0] + f":batch-segment-job/{jobName}"

        def work() -> None:
            try:
                run_batch_segments(state=self.state, models=self.models, job_arn=job_arn)
            finally:
                self.models.release_unused()

        return self._create_pending(
            "batch-segment-job",
            job_arn,
            {
                "jobName": jobName,
                "solutionVersionArn": solutionVersionArn,
                "filterArn": filterArn,
                "numResults": numResults or limits.DEFAULT_USERS_PER_SEGMENT,
                "jobInput": jobInput,
                "jobOutput": jobOutput,
                "roleArn": roleArn,
            },
            tags,
            work=work,
            forced_failure_name=jobName,
        )

    def describe_batch_segment_job(self, request: RequestContext, *, batchSegmentJobArn: str) -> dict:
        return {"batchSegmentJob": self.store.snapshot("batch-segment-job", batchSegmentJobArn)}

    def list_batch_segment_jobs(
        self,
        request: RequestContext,
        *,
        solutionVersionArn: str | None = None,
        nextToken: str | None = None,
        maxResults: int | None = None,
    ) -> dict:
        return self._page(
            "batch-segment-job",
            "batchSegmentJobs",
            nextToken,
            maxResults,
            solutionVersionArn=solutionVersionArn,
        )


def run_batch_segments(*, state: ServiceState, models: ModelRegistry, job_arn: str) -> None:
    """Answer every line of every input file with the job's solution version; write ``.out`` files."""
    job = state.store.snapshot("batch-segment-job", job_arn)
    version = state.store.snapshot("solution-version", job["solutionVersionArn"])
    recipe = recipe_for_arn(version["recipeArn"])
    model = models.get(job["solutionVersionArn"])
    data = state.group_data(version["datasetGroupArn"])
    items = data.items()
    user_filter = None
    if job.get("filterArn"):
        user_filter = UserFilter(
            filter_language.parse(state.store.snapshot("filter", job["filterArn"])["filterExpression"]),
            users=data.users(),
            users_with=data.users_with,
        )
    most = limits.MAX_SEGMENT_QUERIES[recipe.name]
    output = job["jobOutput"]["s3DataDestination"]["path"]
    output = output if output.endswith("/") else output + "/"
    try:
        destination = S3Location.parse(output)
        for source in input_locations(job["jobInput"]["s3DataSource"]["path"]):
            lines = [line for line in read_object(source).decode("utf-8").splitlines() if line.strip()]
            if len(lines) > most:
                raise JobFailed(
                    f"{source} holds {len(lines)} queries; {recipe.name} takes at most {most} per input file"
                )
            answers = [
                answer_segment_line(
                    line,
                    model=model,
                    recipe=recipe.name,
                    items=items,
                    num_results=job["numResults"],
                    user_filter=user_filter,
                )
                for line in lines
            ]
            name = source.key.rsplit("/", 1)[-1] + ".out"
            body = "".join(json.dumps(answer) + "\n" for answer in answers).encode()
            write_object(S3Location(destination.bucket, destination.key + name), body)
            errors = sum(answer["error"] is not None for answer in answers)
            log.info(
                "segments %s: %d line(s) from %s → %s%s, %d with an error",
                job["jobName"],
                len(lines),
                source,
                output,
                name,
                errors,
            )
    except S3Error as exc:
        raise JobFailed(f"Batch segment job cannot read or write S3: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise JobFailed(f"Batch segment input is not UTF-8 JSON lines: {exc}") from exc


class UserFilter:
    """A user filter, evaluated per input line (its ``filterValues``) to the users a segment may hold."""

    def __init__(
        self,
        expressions: list[filter_language.Expression],
        *,
        users: Any,
        users_with: Callable[[Iterable[str] | None], set[str]],
    ) -> None:
        self.expressions = expressions
        self.users = None if users is None else users.rename(columns={"USER_ID": "ITEM_ID"})
        self.users_with = users_with

    def restriction(self, filter_values: Any) -> filter_language.ItemRestriction:
        if filter_values is not None and not isinstance(filter_values, dict):
            raise InvalidInput('"filterValues" must be an object, e.g. {"AGE": "30"}')
        return filter_language.restrict(
            self.expressions,
            values=filter_language.parse_filter_values(filter_values or {}),
            items=self.users,
            user_items=self.users_with,
        )


def answer_segment_line(
    line: str, *, model: Any, recipe: str, items: Any, num_results: int, user_filter: UserFilter | None
) -> dict:
    """One output line for one input line: its segment, or why there is none."""
    try:
        request = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"input": line, "output": None, "error": f"Line is not JSON: {exc}"}
    if not isinstance(request, dict):
        return {"input": request, "output": None, "error": "Line must be a JSON object"}
    if recipe == "aws-item-affinity":
        item = request.get("itemId")
        if not isinstance(item, str | int) or isinstance(item, bool) or str(item) == "":
            return _error(request, 'An aws-item-affinity line needs "itemId", e.g. {"itemId": "105"}')
        queried, leave_out = [str(item)], True
        unknown = f"Item {item} has no interactions in the solution version's training data"
    else:
        query = request.get("itemAttributes")
        if not isinstance(query, str) or not query.strip():
            return _error(
                request,
                'An aws-item-attribute-affinity line needs "itemAttributes", e.g. '
                '{"itemAttributes": "ITEMS.GENRES = \\"Comedy\\""}',
            )
        try:
            queried = item_attributes.matching_items(item_attributes.parse(query), items)
        except item_attributes.QueryError as exc:
            return _error(request, f"itemAttributes: {exc}")
        if not queried:
            return _error(request, f"No item has the attributes {query}")
        leave_out = False
        unknown = f"None of the {len(queried)} item(s) with the attributes {query} has interactions"
    try:
        allowed = user_filter.restriction(request.get("filterValues")) if user_filter else None
    except ServiceError as exc:
        return _error(request, exc.message)
    try:
        users = model.segment(
            queried,
            num_results,
            leave_out_consumers=leave_out,
            exclude_users=allowed.exclude if allowed else frozenset(),
            allowed_users=allowed.allowed if allowed else None,
        )
    except KeyError:
        return _error(request, unknown)
    return {"input": request, "output": {"usersList": [user for user, _ in users]}, "error": None}


def _error(request: dict, message: str) -> dict:
    return {"input": request, "output": None, "error": message}
