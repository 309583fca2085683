"""The control plane: every AmazonPersonalize operation personalize-local implements.

Methods are named after the operations in snake case and take the operation's input members as
keyword arguments; they return the output document (the protocol layer projects it onto the shape).
"""

from __future__ import annotations

import base64
import logging
import shutil
import time
import uuid
from collections.abc import Callable
from typing import Any

from personalize_local.domains import check_domain_schema, dataset_type_of
from personalize_local.errors import (
    InternalFailure,
    InvalidInput,
    InvalidNextToken,
    LimitExceeded,
    ResourceAlreadyExists,
    ResourceInUse,
    ResourceNotFound,
    TooManyTags,
)
from personalize_local.limits import (
    DEFAULT_NUM_RESULTS,
    MAX_DATASET_GROUPS,
    MAX_FILTERS_PER_GROUP,
    MAX_TAGS,
    MAX_TRAININGS_PER_GROUP,
)
from personalize_local.models import filters as filter_language
from personalize_local.models.batch import run_batch_inference
from personalize_local.models.context import RequestContext
from personalize_local.models.datasets import check_schema_for, csv_to_frame, parse_schema, read_csv_objects
from personalize_local.models.events import EventsBackend
from personalize_local.models.lifecycle import JobFailed, Lifecycle
from personalize_local.models.recommenders import Recommenders
from personalize_local.models.registry import ModelRegistry
from personalize_local.models.runtime import RuntimeBackend, check_num_results
from personalize_local.models.segments import BatchSegmentJobs
from personalize_local.models.state import ServiceState
from personalize_local.models.store import StoreClosed
from personalize_local.models.training_job import train_solution_version
from personalize_local.recipes import RECIPES, RECOMMENDER_RECIPES, recipe_for_arn, trend_discovery_seconds
from personalize_local.settings import Settings

log = logging.getLogger("personalize_local.backend")

ACCOUNT_ID = "123456789012"
TERMINAL = frozenset({"ACTIVE", "CREATE FAILED", "CREATE STOPPED"})
CREATING = frozenset({"CREATE PENDING", "CREATE IN_PROGRESS"})
DATASET_TYPES = {"interactions": "Interactions", "items": "Items", "users": "Users"}


def arn(request: RequestContext, resource: str) -> str:
    return f"arn:aws:personalize:{request.region}:{ACCOUNT_ID}:{resource}"


def arn_key(kind: str) -> str:
    """The member naming a resource's ARN: ``dataset-import-job`` → ``datasetImportJobArn``."""
    first, *rest = kind.split("-")
    return first + "".join(part.title() for part in rest) + "Arn"


def paginate(items: list[dict], key: str, next_token: str | None, max_results: int | None) -> dict:
    """One page of ``items`` (newest first) under ``key``, with a nextToken when more remain."""
    start = 0
    if next_token:
        try:
            start = int(base64.urlsafe_b64decode(next_token.encode()).decode().removeprefix("offset:"))
        except ValueError as exc:
            raise InvalidNextToken(f"nextToken {next_token!r} is not one this endpoint issued") from exc
    size = max_results or 100
    items = sorted(items, key=lambda r: r.get("creationDateTime", 0), reverse=True)
    page: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        page["nextToken"] = base64.urlsafe_b64encode(f"offset:{start + size}".encode()).decode()
    return page


def _lister(kind: str, key: str, *, by: str | None = None) -> Callable[..., dict]:
    """A List* operation: one page of ``kind`` under ``key``, narrowed to the ``by`` member's value if given."""

    def operation(
        self: PersonalizeBackend,
        request: RequestContext,
        *,
        nextToken: str | None = None,
        maxResults: int | None = None,
        **member: str | None,
    ) -> dict:
        return self._page(kind, key, nextToken, maxResults, **({by: member.get(by)} if by else {}))

    return operation


def _describer(kind: str) -> Callable[..., dict]:
    """A Describe* operation: ``{"datasetGroup": ...}`` for ``datasetGroupArn``, and so on."""
    member = arn_key(kind)

    def operation(self: PersonalizeBackend, request: RequestContext, **arns: str) -> dict:
        return {member.removesuffix("Arn"): self.store.snapshot(kind, arns[member])}

    return operation


def _update_in_flight(campaign: dict) -> bool:
    return (campaign.get("latestCampaignUpdate") or {}).get("status") in (
        "CREATE PENDING",
        "CREATE IN_PROGRESS",
    )


def _domain_name(resource: dict) -> str:
    return f"of the {resource['domain']} domain" if resource.get("domain") else "custom (no domain)"


def _tags_dict(tags: list[dict] | None) -> dict[str, str]:
    result = {tag["tagKey"]: tag["tagValue"] for tag in tags or []}
    if len(result) > MAX_TAGS:
        raise TooManyTags(f"A resource can have at most {MAX_TAGS} tags")
    return result


class PersonalizeBackend(BatchSegmentJobs, Recommenders):
    """The control plane, composed over one :class:`ServiceState` with the helpers it shares.

    Batch segment jobs come from :class:`BatchSegmentJobs`, recommenders from :class:`Recommenders`.
    Runtime and events are its ``runtime`` and ``events``. They, the model registry, batch inference and
    training receive the state (and the registry), never the backend.
    """

    def __init__(self, *, settings: Settings) -> None:
        self.settings = settings
        self.state = ServiceState(settings=settings)
        self.store = self.state.store
        self.lifecycle = Lifecycle(store=self.store, settings=settings)
        self.models = ModelRegistry(self.state)
        self.runtime = RuntimeBackend(state=self.state, models=self.models)
        self.events = EventsBackend(state=self.state, models=self.models)

    def close(self) -> None:
        self.lifecycle.close()
        self.store.close()

    def _create(
        self, kind: str, resource_arn: str, resource: dict, tags: list[dict] | None = None
    ) -> dict[str, str]:
        """Record a new resource under its ARN key (``schemaArn``, ...); returns that key and the ARN."""
        key = arn_key(kind)
        resource = {key: resource_arn, **resource}
        tag_map = _tags_dict(tags)
        with self.store.lock:
            if resource_arn in self.store.resources[kind]:
                raise ResourceAlreadyExists(f"The {kind.replace('-', ' ')} {resource_arn} already exists")
            now = time.time()
            resource.setdefault("creationDateTime", now)
            resource.setdefault("lastUpdatedDateTime", now)
            if tag_map:
                self.store.tags[resource_arn] = tag_map
            self.store.put(kind, resource_arn, resource)
        log.info("created %s %s", kind, resource_arn)
        return {key: resource_arn}

    def _create_pending(
        self, kind: str, resource_arn: str, resource: dict, tags: list[dict] | None, **work: Any
    ) -> dict[str, str]:
        """Record the resource CREATE PENDING and start its lifecycle (``work``: Lifecycle.create's options)."""
        created = self._create(kind, resource_arn, {**resource, "status": "CREATE PENDING"}, tags)
        self.lifecycle.create(kind, resource_arn, **work)
        return created

    def _page(
        self, kind: str, key: str, next_token: str | None, max_results: int | None, **equal: str | None
    ) -> dict:
        """One List* page of ``kind``, narrowed by the filters the caller gave."""
        found = self.store.find(kind, **{name: value for name, value in equal.items() if value})
        return paginate(found, key, next_token, max_results)

    def _require_active(self, kind: str, resource_arn: str) -> dict:
        resource = self.store.snapshot(kind, resource_arn)
        if resource.get("status", "ACTIVE") != "ACTIVE":
            raise ResourceInUse(
                f"The {kind.replace('-', ' ')} {resource_arn} is {resource['status']}, not ACTIVE"
            )
        return resource

    def _deletable(self, kind: str, resource_arn: str) -> dict:
        resource = self.store.snapshot(kind, resource_arn)
        status = resource.get("status", "ACTIVE")
        if status not in TERMINAL:
            raise ResourceInUse(
                f"The {kind.replace('-', ' ')} {resource_arn} is {status}; "
                "wait until it is ACTIVE or failed before deleting it"
            )
        return resource

    # ---- schemas
    def create_schema(
        self, request: RequestContext, *, name: str, schema: str, domain: str | None = None
    ) -> dict:
        fields = parse_schema(schema)
        if domain:
            check_domain_schema(domain, dataset_type_of(fields), fields)
        schema_arn = arn(request, f"schema/{name}")
        return self._create(
            "schema", schema_arn, {"name": name, "schema": schema, **({"domain": domain} if domain else {})}
        )

    describe_schema = _describer("schema")

    list_schemas = _lister("schema", "schemas")

    def delete_schema(self, request: RequestContext, *, schemaArn: str) -> dict:
        self.store.get("schema", schemaArn)
        users = self.store.find("dataset", schemaArn=schemaArn)
        if users:
            raise ResourceInUse(
                f"Schema {schemaArn} is used by dataset(s) {', '.join(d['datasetArn'] for d in users)}"
            )
        self.store.remove("schema", schemaArn)
        return {}

    # ---- dataset groups
    def create_dataset_group(
        self,
        request: RequestContext,
        *,
        name: str,
        roleArn: str | None = None,
        kmsKeyArn: str | None = None,
        domain: str | None = None,
        tags: list[dict] | None = None,
    ) -> dict:
        if len(self.store.resources["dataset-group"]) >= MAX_DATASET_GROUPS:
            raise LimitExceeded(f"An account can have at most {MAX_DATASET_GROUPS} dataset groups")
        group_arn = arn(request, f"dataset-group/{name}")
        return self._create_pending(
            "dataset-group",
            group_arn,
            {
                "name": name,
                "roleArn": roleArn,
                "kmsKeyArn": kmsKeyArn,
                **({"domain": domain} if domain else {}),
            },
            tags,
        )

    describe_dataset_group = _describer("dataset-group")

    list_dataset_groups = _lister("dataset-group", "datasetGroups")

    def delete_dataset_group(self, request: RequestContext, *, datasetGroupArn: str) -> dict:
        self._deletable("dataset-group", datasetGroupArn)
        children = [
            r.get(arn_key(kind))
            for kind in ("dataset", "solution", "event-tracker", "filter", "recommender")
            for r in self.store.find(kind, datasetGroupArn=datasetGroupArn)
        ]
        if children:
            raise ResourceInUse(
                f"Dataset group {datasetGroupArn} still has {', '.join(children)}; delete them first"
            )
        self.lifecycle.delete("dataset-group", datasetGroupArn)
        return {}

    # ---- datasets
    def create_dataset(
        self,
        request: RequestContext,
        *,
        name: str,
        schemaArn: str,
        datasetGroupArn: str,
        datasetType: str,
        tags: list[dict] | None = None,
    ) -> dict:
        dataset_type = DATASET_TYPES.get(datasetType.lower())
        if dataset_type is None:
            raise InvalidInput(
                f"datasetType {datasetType!r} is not supported; use Interactions, Items or Users"
            )
        group = self.store.snapshot("dataset-group", datasetGroupArn)
        schema = self.store.snapshot("schema", schemaArn)
        if group["status"] != "ACTIVE":
            raise ResourceInUse(f"Dataset group {datasetGroupArn} is {group['status']}, not ACTIVE")
        fields = parse_schema(schema["schema"])
        check_schema_for(dataset_type, fields)
        if schema.get("domain") != group.get("domain"):
            raise InvalidInput(
                f"Schema {schemaArn} is {_domain_name(schema)} and dataset group {datasetGroupArn} is "
                f"{_domain_name(group)}: a dataset takes a schema of its dataset group's domain"
            )
        if group.get("domain"):
            check_domain_schema(group["domain"], dataset_type, fields)
        if dataset_type in self.state.datasets_of(datasetGroupArn):
            raise ResourceAlreadyExists(
                f"Dataset group {datasetGroupArn} already has a {dataset_type} dataset"
            )
        dataset_arn = arn(request, f"dataset/{group['name']}/{dataset_type.upper()}")
        return self._create_pending(
            "dataset",
            dataset_arn,
            {
                "name": name,
                "datasetGroupArn": datasetGroupArn,
                "datasetType": dataset_type,
                "schemaArn": schemaArn,
            },
            tags,
        )

    describe_dataset = _describer("dataset")

    list_datasets = _lister("dataset", "datasets", by="datasetGroupArn")

    def delete_dataset(self, request: RequestContext, *, datasetArn: str) -> dict:
        self._deletable("dataset", datasetArn)
        running = [
            j["jobName"]
            for j in self.store.find("dataset-import-job", datasetArn=datasetArn)
            if j["status"] not in TERMINAL
        ]
        if running:
            raise ResourceInUse(f"Dataset {datasetArn} has import job(s) in progress: {', '.join(running)}")
        self.lifecycle.delete("dataset", datasetArn, cleanup=lambda: self.state.forget_dataset(datasetArn))
        return {}

    # ---- dataset import jobs
    def create_dataset_import_job(
        self,
        request: RequestContext,
        *,
        jobName: str,
        datasetArn: str,
        dataSource: dict,
        roleArn: str | None = None,
        tags: list[dict] | None = None,
        importMode: str = "FULL",
        publishAttributionMetricsToS3: bool | None = None,
    ) -> dict:
        dataset = self._require_active("dataset", datasetArn)
        location = dataSource.get("dataLocation")
        if not location or not location.startswith("s3://"):
            raise InvalidInput("dataSource.dataLocation must be an s3:// location")
        running = [
            j["jobName"]
            for j in self.store.find("dataset-import-job", datasetArn=datasetArn)
            if j["status"] not in TERMINAL
        ]
        if running:
            raise ResourceInUse(f"Dataset {datasetArn} already has an import job in progress: {running[0]}")
        job_arn = arn(request, f"dataset-import-job/{jobName}")
        fields = parse_schema(self.store.snapshot("schema", dataset["schemaArn"])["schema"])

        def work() -> None:
            frames = [csv_to_frame(uri, data, fields) for uri, data in read_csv_objects(location)]
            import pandas as pd

            frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
            rows = self.state.dataset_data(datasetArn).write_bulk(frame, append=importMode == "INCREMENTAL")
            self.state.invalidate(dataset["datasetGroupArn"])
            log.info(
                "import %s: %d row(s) from %s into %s (%d bulk rows now)",
                jobName,
                len(frame),
                location,
                datasetArn,
                rows,
            )

        return self._create_pending(
            "dataset-import-job",
            job_arn,
            {
                "jobName": jobName,
                "datasetArn": datasetArn,
                "dataSource": {"dataLocation": location},
                "roleArn": roleArn,
                "importMode": importMode,
                "publishAttributionMetricsToS3": bool(publishAttributionMetricsToS3),
            },
            tags,
            work=work,
            forced_failure_name=jobName,
        )

    describe_dataset_import_job = _describer("dataset-import-job")

    list_dataset_import_jobs = _lister("dataset-import-job", "datasetImportJobs", by="datasetArn")

    # ---- solutions
    def create_solution(
        self,
        request: RequestContext,
        *,
        name: str,
        datasetGroupArn: str,
        recipeArn: str | None = None,
        eventType: str | None = None,
        solutionConfig: dict | None = None,
        performHPO: bool = False,
        performAutoML: bool = False,
        performAutoTraining: bool = False,
        performIncrementalUpdate: bool = False,
        tags: list[dict] | None = None,
    ) -> dict:
        if not recipeArn:
            raise InvalidInput("recipeArn is required (personalize-local does not run AutoML)")
        recipe = recipe_for_arn(recipeArn)
        if recipe is not None and recipe.domain:
            raise InvalidInput(
                f"Recipe {recipeArn} is a {recipe.domain} use case: create a recommender with it "
                "(CreateRecommender), not a solution"
            )
        if recipe is None:
            raise InvalidInput(
                f"Recipe {recipeArn} is not supported by personalize-local; use one of "
                + ", ".join(r.arn for r in RECIPES.values())
            )
        if recipe.algorithm == "trending":
            try:
                trend_discovery_seconds(solutionConfig)
            except ValueError as exc:
                raise InvalidInput(f"solutionConfig: {exc}") from None
        self._require_active("dataset-group", datasetGroupArn)
        solution_arn = arn(request, f"solution/{name}")
        return self._create_pending(
            "solution",
            solution_arn,
            {
                "name": name,
                "datasetGroupArn": datasetGroupArn,
                "recipeArn": recipeArn,
                "eventType": eventType,
                "solutionConfig": solutionConfig or {},
                "performHPO": performHPO,
                "performAutoML": performAutoML,
                "performAutoTraining": performAutoTraining,
                "performIncrementalUpdate": performIncrementalUpdate,
            },
            tags,
        )

    def describe_solution(self, request: RequestContext, *, solutionArn: str) -> dict:
        solution = self.store.snapshot("solution", solutionArn)
        versions = self.store.find("solution-version", solutionArn=solutionArn)
        if versions:
            solution["latestSolutionVersion"] = max(versions, key=lambda v: v["creationDateTime"])
        return {"solution": solution}

    list_solutions = _lister("solution", "solutions", by="datasetGroupArn")

    def update_solution(self, request: RequestContext, *, solutionArn: str, **changes: Any) -> dict:
        self._require_active("solution", solutionArn)
        allowed = {
            k: v for k, v in changes.items() if k in ("performAutoTraining", "performIncrementalUpdate")
        }
        self.store.update("solution", solutionArn, **allowed)
        return {"solutionArn": solutionArn}

    def delete_solution(self, request: RequestContext, *, solutionArn: str) -> dict:
        self._deletable("solution", solutionArn)
        versions = self.store.find("solution-version", solutionArn=solutionArn)
        training = [v["solutionVersionArn"] for v in versions if v["status"] not in TERMINAL]
        if training:
            raise ResourceInUse(
                f"Solution {solutionArn} has version(s) still training: {', '.join(training)}"
            )
        version_arns = {v["solutionVersionArn"] for v in versions}
        campaigns = [
            c["campaignArn"] for c in self.store.find("campaign") if c["solutionVersionArn"] in version_arns
        ]
        if campaigns:
            raise ResourceInUse(f"Solution {solutionArn} is deployed by campaign(s) {', '.join(campaigns)}")

        def cleanup() -> None:
            for version_arn in version_arns:
                self.store.remove("solution-version", version_arn)
                self.models.forget(version_arn)
                shutil.rmtree(self.state.model_dir(version_arn), ignore_errors=True)

        self.lifecycle.delete("solution", solutionArn, cleanup=cleanup)
        return {}

    # ---- solution versions
    def create_solution_version(
        self,
        request: RequestContext,
        *,
        solutionArn: str,
        name: str | None = None,
        trainingMode: str = "FULL",
        tags: list[dict] | None = None,
    ) -> dict:
        """As on AWS, where the getting-started notebook calls it straight after CreateSolution, a solution
        still being created takes a version: the version stays CREATE PENDING until its solution is ACTIVE,
        then trains."""
        solution = self.store.snapshot("solution", solutionArn)
        if solution["status"] not in ("ACTIVE", *CREATING):
            raise ResourceInUse(
                f"The solution {solutionArn} is {solution['status']}; "
                "only an ACTIVE solution (or one still being created) takes a new version"
            )
        versions = self.store.find("solution-version", solutionArn=solutionArn)
        if trainingMode == "UPDATE":
            recipe = recipe_for_arn(solution["recipeArn"])
            if recipe is None or not recipe.name.startswith("aws-user-personalization"):
                raise InvalidInput("trainingMode UPDATE is only for aws-user-personalization solutions")
            if not any(v["status"] == "ACTIVE" for v in versions):
                raise InvalidInput(
                    f"trainingMode UPDATE needs an ACTIVE solution version of {solutionArn}; "
                    "train one with trainingMode FULL first"
                )
        in_progress = [
            v
            for v in self.store.find("solution-version", datasetGroupArn=solution["datasetGroupArn"])
            if v["status"] not in TERMINAL
        ]
        if len(in_progress) >= MAX_TRAININGS_PER_GROUP:
            raise LimitExceeded(
                f"At most {MAX_TRAININGS_PER_GROUP} solution versions can train at once in a dataset group"
            )
        if name and any(v.get("name") == name for v in versions):
            raise ResourceAlreadyExists(f"Solution {solutionArn} already has a version named {name!r}")
        version_arn = f"{solutionArn}/{uuid.uuid4().hex[:8]}"
        keys = (
            "solutionArn",
            "recipeArn",
            "eventType",
            "datasetGroupArn",
            "solutionConfig",
            "performHPO",
            "performAutoML",
            "performIncrementalUpdate",
        )

        def work() -> dict:
            return train_solution_version(
                state=self.state, models=self.models, solution_version_arn=version_arn
            )

        return self._create_pending(
            "solution-version",
            version_arn,
            {
                "name": name,
                **{k: solution.get(k) for k in keys},
                "trainingMode": trainingMode,
                "trainingType": "MANUAL",
            },
            tags,
            work=work,
            minimum_seconds=self.settings.train_seconds,
            forced_failure_name=name if name in self.settings.fail_jobs else solution["name"],
            pending_until=lambda: self._until_solution_active(solutionArn, version_arn),
        )

    def _until_solution_active(self, solution_arn: str, version_arn: str) -> None:
        """Wait until the solution is ACTIVE or the version is being stopped; JobFailed if the solution fails."""
        while self.store.get("solution-version", version_arn)["status"] != "CREATE STOPPING":
            status = self.store.get("solution", solution_arn)["status"]
            if status == "ACTIVE":
                return
            if status not in CREATING:
                raise JobFailed(f"The solution {solution_arn} is {status}; this version cannot train")
            self.lifecycle.sleep(0.05)

    describe_solution_version = _describer("solution-version")

    def list_solution_versions(
        self,
        request: RequestContext,
        *,
        solutionArn: str | None = None,
        nextToken: str | None = None,
        maxResults: int | None = None,
    ) -> dict:
        if solutionArn:
            self.store.get("solution", solutionArn)
        return self._page(
            "solution-version", "solutionVersions", nextToken, maxResults, solutionArn=solutionArn
        )

    def stop_solution_version_creation(self, request: RequestContext, *, solutionVersionArn: str) -> dict:
        with self.store.lock:
            version = self.store.get("solution-version", solutionVersionArn)
            if version["status"] not in ("CREATE PENDING", "CREATE IN_PROGRESS"):
                raise ResourceInUse(
                    f"Solution version {solutionVersionArn} is {version['status']}; "
                    "only a version still training can be stopped"
                )
            self.store.update("solution-version", solutionVersionArn, status="CREATE STOPPING")
        return {}

    def get_solution_metrics(self, request: RequestContext, *, solutionVersionArn: str) -> dict:
        version = self._require_active("solution-version", solutionVersionArn)
        return {"solutionVersionArn": solutionVersionArn, "metrics": version.get("_metrics", {})}

    # ---- campaigns
    def create_campaign(
        self,
        request: RequestContext,
        *,
        name: str,
        solutionVersionArn: str,
        minProvisionedTPS: int = 1,
        campaignConfig: dict | None = None,
        tags: list[dict] | None = None,
    ) -> dict:
        version = self.store.snapshot("solution-version", solutionVersionArn)
        if version["status"] != "ACTIVE":
            raise InvalidInput(
                f"Solution version {solutionVersionArn} is {version['status']}; "
                "a campaign needs an ACTIVE solution version"
            )
        recipe = recipe_for_arn(version["recipeArn"])
        if recipe is not None and recipe.recipe_type == "USER_SEGMENTATION":
            raise InvalidInput(
                f"Solution version {solutionVersionArn} segments users and cannot be deployed in a "
                "campaign; get its segments with CreateBatchSegmentJob"
            )
        campaign_arn = arn(request, f"campaign/{name}")
        return self._create_pending(
            "campaign",
            campaign_arn,
            {
                "name": name,
                "solutionVersionArn": solutionVersionArn,
                "minProvisionedTPS": minProvisionedTPS,
                "campaignConfig": campaignConfig or {},
                "_datasetGroupArn": version["datasetGroupArn"],
            },
            tags,
            work=lambda: self._warm(solutionVersionArn),
            forced_failure_name=name,
        )

    def _warm(self, solution_version_arn: str) -> None:
        try:
            self.models.get(solution_version_arn)
        except InternalFailure as exc:
            raise JobFailed(exc.message) from exc

    describe_campaign = _describer("campaign")

    def list_campaigns(
        self,
        request: RequestContext,
        *,
        solutionArn: str | None = None,
        nextToken: str | None = None,
        maxResults: int | None = None,
    ) -> dict:
        found = self.store.find("campaign")
        if solutionArn:
            found = [c for c in found if c["solutionVersionArn"].startswith(solutionArn + "/")]
        return paginate(found, "campaigns", nextToken, maxResults)

    def update_campaign(
        self,
        request: RequestContext,
        *,
        campaignArn: str,
        solutionVersionArn: str | None = None,
        minProvisionedTPS: int | None = None,
        campaignConfig: dict | None = None,
    ) -> dict:
        """As the service documents it: the campaign stays ACTIVE, serving the old version, while
        ``latestCampaignUpdate`` goes CREATE PENDING → CREATE IN_PROGRESS → ACTIVE (or CREATE FAILED)."""
        with self.store.lock:
            campaign = self._require_active("campaign", campaignArn)
            if _update_in_flight(campaign):
                raise ResourceInUse(f"Campaign {campaignArn} already has an update in progress")
            target = solutionVersionArn or campaign["solutionVersionArn"]
            version = self.store.snapshot("solution-version", target)
            if version["status"] != "ACTIVE":
                raise InvalidInput(f"Solution version {target} is {version['status']}; it must be ACTIVE")
            now = time.time()
            update = {
                "solutionVersionArn": target,
                "minProvisionedTPS": minProvisionedTPS or campaign["minProvisionedTPS"],
                "campaignConfig": campaignConfig or campaign.get("campaignConfig", {}),
                "status": "CREATE PENDING",
                "creationDateTime": now,
                "lastUpdatedDateTime": now,
            }
            self.store.update("campaign", campaignArn, latestCampaignUpdate=update)

        def progress(**changes: Any) -> None:
            update.update(changes, lastUpdatedDateTime=time.time())
            self.store.update("campaign", campaignArn, latestCampaignUpdate=dict(update))

        def flow() -> None:
            phase = self.settings.phase_seconds
            self.lifecycle.sleep(phase)
            progress(status="CREATE IN_PROGRESS")
            try:
                forced = {
                    update["solutionVersionArn"],
                    f"update:{campaign['name']}",
                } & self.settings.fail_jobs
                if forced:
                    raise JobFailed(
                        f"Forced failure: {min(forced)!r} is in personalize-local's fail_jobs "
                        "(fault injection)"
                    )
                self._warm(target)
            except StoreClosed:
                raise
            except Exception as failure:  # JobFailed, or a bug: the update fails visibly either way
                progress(status="CREATE FAILED", failureReason=str(failure))
                return
            self.lifecycle.sleep(phase)
            with self.store.lock:
                self.store.update(
                    "campaign",
                    campaignArn,
                    solutionVersionArn=target,
                    minProvisionedTPS=update["minProvisionedTPS"],
                    campaignConfig=update["campaignConfig"],
                )
                progress(status="ACTIVE")
            self.models.release_unused()
            log.info("campaign %s now serves %s", campaignArn, target)

        self.lifecycle.run(f"update {campaignArn}", flow)
        return {"campaignArn": campaignArn}

    def delete_campaign(self, request: RequestContext, *, campaignArn: str) -> dict:
        if _update_in_flight(self._deletable("campaign", campaignArn)):
            raise ResourceInUse(f"Campaign {campaignArn} has an update in progress; wait for it to finish")
        self.lifecycle.delete("campaign", campaignArn, cleanup=self.models.release_unused)
        return {}

    # ---- batch inference
    def create_batch_inference_job(
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
        batchInferenceJobConfig: dict | None = None,
        batchInferenceJobMode: str | None = None,
        tags: list[dict] | None = None,
        **_: Any,
    ) -> dict:
        version = self.store.snapshot("solution-version", solutionVersionArn)
        if version["status"] != "ACTIVE":
            raise InvalidInput(
                f"Solution version {solutionVersionArn} is {version['status']}; it must be ACTIVE"
            )
        recipe = recipe_for_arn(version["recipeArn"])
        if recipe is not None and recipe.recipe_type == "USER_SEGMENTATION":
            raise InvalidInput(
                f"Solution version {solutionVersionArn} segments users; use CreateBatchSegmentJob, "
                "batch inference needs an item recommendation recipe"
            )
        if recipe is not None and recipe.algorithm == "trending":
            raise InvalidInput(
                "You can't get batch recommendations with the Trending-Now recipe: deploy "
                f"{solutionVersionArn} in a campaign and call GetRecommendations"
            )
        if filterArn:
            self._require_active("filter", filterArn)
        if numResults is not None:
            check_num_results(numResults)
        job_arn = arn(request, f"batch-inference-job/{jobName}")

        def work() -> None:
            try:
                run_batch_inference(state=self.state, models=self.models, job_arn=job_arn)
            finally:
                self.models.release_unused()

        return self._create_pending(
            "batch-inference-job",
            job_arn,
            {
                "jobName": jobName,
                "solutionVersionArn": solutionVersionArn,
                "filterArn": filterArn,
                "numResults": numResults or DEFAULT_NUM_RESULTS,
                "jobInput": jobInput,
                "jobOutput": jobOutput,
                "roleArn": roleArn,
                "batchInferenceJobConfig": batchInferenceJobConfig or {},
                "batchInferenceJobMode": batchInferenceJobMode or "STANDARD",
            },
            tags,
            work=work,
            forced_failure_name=jobName,
        )

    describe_batch_inference_job = _describer("batch-inference-job")

    list_batch_inference_jobs = _lister("batch-inference-job", "batchInferenceJobs", by="solutionVersionArn")

    # ---- event trackers
    def create_event_tracker(
        self, request: RequestContext, *, name: str, datasetGroupArn: str, tags: list[dict] | None = None
    ) -> dict:
        self._require_active("dataset-group", datasetGroupArn)
        if self.store.find("event-tracker", datasetGroupArn=datasetGroupArn):
            raise LimitExceeded(
                f"Dataset group {datasetGroupArn} already has an event tracker (the limit is one)"
            )
        tracker_arn = arn(request, f"event-tracker/{uuid.uuid4().hex[:8]}")
        if any(t["name"] == name for t in self.store.find("event-tracker")):
            raise ResourceAlreadyExists(f"An event tracker named {name!r} already exists")
        tracking_id = str(uuid.uuid4())
        created = self._create_pending(
            "event-tracker",
            tracker_arn,
            {
                "name": name,
                "accountId": ACCOUNT_ID,
                "trackingId": tracking_id,
                "datasetGroupArn": datasetGroupArn,
            },
            tags,
        )
        return {**created, "trackingId": tracking_id}

    describe_event_tracker = _describer("event-tracker")

    list_event_trackers = _lister("event-tracker", "eventTrackers", by="datasetGroupArn")

    def delete_event_tracker(self, request: RequestContext, *, eventTrackerArn: str) -> dict:
        self._deletable("event-tracker", eventTrackerArn)
        ids = self.state.event_ids_dir(eventTrackerArn)
        self.lifecycle.delete(
            "event-tracker", eventTrackerArn, cleanup=lambda: shutil.rmtree(ids, ignore_errors=True)
        )
        return {}

    # ---- filters
    def create_filter(
        self,
        request: RequestContext,
        *,
        name: str,
        datasetGroupArn: str,
        filterExpression: str,
        tags: list[dict] | None = None,
    ) -> dict:
        self._require_active("dataset-group", datasetGroupArn)
        filter_language.parse(filterExpression)
        if len(self.store.find("filter", datasetGroupArn=datasetGroupArn)) >= MAX_FILTERS_PER_GROUP:
            raise LimitExceeded(f"A dataset group can have at most {MAX_FILTERS_PER_GROUP} filters")
        filter_arn = arn(request, f"filter/{name}")
        return self._create_pending(
            "filter",
            filter_arn,
            {
                "name": name,
                "datasetGroupArn": datasetGroupArn,
                "filterExpression": filterExpression,
            },
            tags,
        )

    describe_filter = _describer("filter")

    list_filters = _lister("filter", "Filters", by="datasetGroupArn")

    def delete_filter(self, request: RequestContext, *, filterArn: str) -> dict:
        self._deletable("filter", filterArn)
        self.lifecycle.delete("filter", filterArn)
        return {}

    # ---- recipes
    def list_recipes(
        self,
        request: RequestContext,
        *,
        recipeProvider: str | None = None,
        nextToken: str | None = None,
        maxResults: int | None = None,
        domain: str | None = None,
    ) -> dict:
        catalogue = RECOMMENDER_RECIPES if domain else RECIPES
        recipes = [r.describe() for r in catalogue.values() if r.domain == domain]
        return paginate(recipes, "recipes", nextToken, maxResults)

    def describe_recipe(self, request: RequestContext, *, recipeArn: str) -> dict:
        recipe = recipe_for_arn(recipeArn)
        if recipe is None:
            raise ResourceNotFound(f"Recipe {recipeArn} does not exist in personalize-local")
        return {"recipe": recipe.describe()}

    # ---- tags
    def _tagged(self, resource_arn: str) -> None:
        self.store.kind_of(resource_arn)

    def tag_resource(self, request: RequestContext, *, resourceArn: str, tags: list[dict]) -> dict:
        with self.store.lock:
            self._tagged(resourceArn)
            merged = {**self.store.tags.get(resourceArn, {}), **_tags_dict(tags)}
            if len(merged) > MAX_TAGS:
                raise TooManyTags(f"A resource can have at most {MAX_TAGS} tags")
            self.store.tags[resourceArn] = merged
            self.store.save()
        return {}

    def untag_resource(self, request: RequestContext, *, resourceArn: str, tagKeys: list[str]) -> dict:
        with self.store.lock:
            self._tagged(resourceArn)
            current = self.store.tags.get(resourceArn, {})
            self.store.tags[resourceArn] = {k: v for k, v in current.items() if k not in set(tagKeys)}
            self.store.save()
        return {}

    def list_tags_for_resource(self, request: RequestContext, *, resourceArn: str) -> dict:
        self._tagged(resourceArn)
        return {
            "tags": [{"tagKey": k, "tagValue": v} for k, v in self.store.tags.get(resourceArn, {}).items()]
        }
