"""Recommenders: CreateRecommender, DescribeRecommender, ListRecommenders, UpdateRecommender,
DeleteRecommender, StartRecommender and StopRecommender.

A recommender is a domain dataset group's use case, trained and deployed in one resource: created, it
trains its recipe on the group's data (:func:`~personalize_local.models.training_job.train_model`, as a
solution version trains) and serves ``GetRecommendations(recommenderArn=...)`` once ACTIVE. Its statuses
are the API's: CREATE PENDING → CREATE IN_PROGRESS → ACTIVE (or CREATE FAILED); STOP PENDING → STOP
IN_PROGRESS → INACTIVE; START PENDING → START IN_PROGRESS → ACTIVE; DELETE PENDING → DELETE IN_PROGRESS
→ gone. ``modelMetrics`` are its training's holdout metrics (each user's latest 10% held out and scored
with personalize_metrics, as GetSolutionMetrics' are).

UpdateRecommender retrains on the group's current data with the new ``recommenderConfig`` (which replaces
the old one): the recommender is UPDATE PENDING → UPDATE IN_PROGRESS → ACTIVE and serves its previous
model meanwhile, while ``latestRecommenderUpdate`` goes CREATE PENDING → CREATE IN_PROGRESS → ACTIVE, or
CREATE FAILED with the recommender back to ACTIVE on its previous model. ``update:<name>`` in
``fail_jobs`` fails every update of that recommender.

Of ``trainingDataConfig``, ``excludedDatasetColumns`` leaves Interactions, Items and Users columns out of
training; ``includedDatasetColumns`` is refused. ``itemExplorationConfig`` is recorded, not applied: the
local models do not explore.
"""

from __future__ import annotations

import shutil
import time
from typing import Any

from personalize_local import limits
from personalize_local.errors import InternalFailure, InvalidInput, LimitExceeded, ResourceInUse
from personalize_local.models.context import RequestContext
from personalize_local.models.lifecycle import JobFailed
from personalize_local.models.store import StoreClosed
from personalize_local.models.training_job import train_model
from personalize_local.recipes import recipe_for_arn

DELETABLE = frozenset({"ACTIVE", "INACTIVE", "CREATE FAILED"})
DATASET_KEYS = ("INTERACTIONS", "ITEMS", "USERS")
ID_COLUMNS = frozenset({"USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE"})
EXPLORATION_KEYS = frozenset({"explorationWeight", "explorationItemAgeCutOff"})


def recommender_config(config: dict | None) -> dict:
    """The recommenderConfig to record, defaults filled in; InvalidInput for what cannot be honoured."""
    config = dict(config or {})
    config.setdefault("minRecommendationRequestsPerSecond", 1)
    config.setdefault("enableMetadataWithRecommendations", False)
    exploration = config.get("itemExplorationConfig") or {}
    unknown = sorted(set(exploration) - EXPLORATION_KEYS)
    if unknown:
        raise InvalidInput(
            f"itemExplorationConfig takes {', '.join(sorted(EXPLORATION_KEYS))}, not {', '.join(unknown)}"
        )
    training = config.get("trainingDataConfig") or {}
    if training.get("includedDatasetColumns"):
        raise InvalidInput(
            "trainingDataConfig.includedDatasetColumns is not supported by personalize-local; "
            "leave columns out with excludedDatasetColumns"
        )
    for dataset, columns in (training.get("excludedDatasetColumns") or {}).items():
        if dataset not in DATASET_KEYS:
            raise InvalidInput(
                f"excludedDatasetColumns key {dataset!r} is not one of {', '.join(DATASET_KEYS)}"
            )
        required = sorted(ID_COLUMNS & set(columns))
        if required:
            raise InvalidInput(
                f"excludedDatasetColumns cannot leave out {', '.join(required)}: training needs it"
            )
    return config


class Recommenders:
    """The recommender operations of :class:`~personalize_local.models.backend.PersonalizeBackend`.

    A mixin: it uses the backend's ``store``, ``state``, ``models``, ``lifecycle``, ``settings``,
    ``_create_pending`` and ``_page``.
    """

    def create_recommender(
        self,
        request: RequestContext,
        *,
        name: str,
        datasetGroupArn: str,
        recipeArn: str,
        recommenderConfig: dict | None = None,
        tags: list[dict] | None = None,
    ) -> dict:
        group = self.store.snapshot("dataset-group", datasetGroupArn)
        if group["status"] != "ACTIVE":
            raise ResourceInUse(f"Dataset group {datasetGroupArn} is {group['status']}, not ACTIVE")
        if not group.get("domain"):
            raise InvalidInput(
                f"Dataset group {datasetGroupArn} is a custom dataset group: recommenders need a domain "
                "dataset group (CreateDatasetGroup with domain); here, train a solution and deploy a campaign"
            )
        recipe = recipe_for_arn(recipeArn)
        if recipe is None or recipe.domain is None:
            raise InvalidInput(
                f"Recipe {recipeArn} is not a recommender use case; ListRecipes(domain=...) lists them"
            )
        if recipe.domain != group["domain"]:
            raise InvalidInput(
                f"Recipe {recipeArn} is a {recipe.domain} use case; dataset group {datasetGroupArn} is "
                f"{group['domain']}"
            )
        datasets = self.state.datasets_of(datasetGroupArn)
        needed = ("Interactions", "Items") if recipe.requires_items else ("Interactions",)
        missing = [kind for kind in needed if datasets.get(kind, {}).get("status") != "ACTIVE"]
        if missing:
            raise InvalidInput(
                f"{recipe.name} needs an ACTIVE {' and an ACTIVE '.join(missing)} dataset in {datasetGroupArn}"
            )
        config = recommender_config(recommenderConfig)
        if (
            len(self.store.find("recommender", datasetGroupArn=datasetGroupArn))
            >= limits.MAX_RECOMMENDERS_PER_GROUP
        ):
            raise LimitExceeded(
                f"A dataset group can have at most {limits.MAX_RECOMMENDERS_PER_GROUP} recommenders"
            )
        recommender_arn = datasetGroupArn.split(":dataset-group/", 1)[0] + f":recommender/{name}"
        return self._create_pending(
            "recommender",
            recommender_arn,
            {
                "name": name,
                "datasetGroupArn": datasetGroupArn,
                "recipeArn": recipeArn,
                "recommenderConfig": config,
            },
            tags,
            work=lambda: self._train_recommender(recommender_arn, config),
            minimum_seconds=self.settings.train_seconds,
            forced_failure_name=name,
        )

    def _train_recommender(self, recommender_arn: str, config: dict) -> dict:
        recommender = self.store.snapshot("recommender", recommender_arn)
        trained = train_model(
            state=self.state,
            models=self.models,
            model_arn=recommender_arn,
            group=recommender["datasetGroupArn"],
            recipe=recipe_for_arn(recommender["recipeArn"]),
            params={},
            event_type=None,
            excluded_columns=(config.get("trainingDataConfig") or {}).get("excludedDatasetColumns"),
        )
        return {"modelMetrics": trained["metrics"], "_recordsOffset": trained["_recordsOffset"]}

    def describe_recommender(self, request: RequestContext, *, recommenderArn: str) -> dict:
        return {"recommender": self.store.snapshot("recommender", recommenderArn)}

    def list_recommenders(
        self,
        request: RequestContext,
        *,
        datasetGroupArn: str | None = None,
        nextToken: str | None = None,
        maxResults: int | None = None,
    ) -> dict:
        return self._page(
            "recommender", "recommenders", nextToken, maxResults, datasetGroupArn=datasetGroupArn
        )

    def update_recommender(
        self, request: RequestContext, *, recommenderArn: str, recommenderConfig: dict
    ) -> dict:
        config = recommender_config(recommenderConfig)
        with self.store.lock:
            recommender = self.store.snapshot("recommender", recommenderArn)
            if recommender["status"] != "ACTIVE":
                raise ResourceInUse(
                    f"Recommender {recommenderArn} is {recommender['status']}; only an ACTIVE one can be updated"
                )
            now = time.time()
            update = {
                "recommenderConfig": config,
                "status": "CREATE PENDING",
                "creationDateTime": now,
                "lastUpdatedDateTime": now,
            }
            self.store.update(
                "recommender", recommenderArn, status="UPDATE PENDING", latestRecommenderUpdate=update
            )

        def progress(status: str, **changes: Any) -> None:
            update.update(changes, lastUpdatedDateTime=time.time())
            self.store.update(
                "recommender", recommenderArn, status=status, latestRecommenderUpdate=dict(update)
            )

        def flow() -> None:
            phase = self.settings.phase_seconds
            self.lifecycle.sleep(phase)
            update["status"] = "CREATE IN_PROGRESS"
            progress("UPDATE IN_PROGRESS")
            started = time.monotonic()
            try:
                if f"update:{recommender['name']}" in self.settings.fail_jobs:
                    raise JobFailed(
                        f"Forced failure: 'update:{recommender['name']}' is in personalize-local's fail_jobs "
                        "(fault injection)"
                    )
                changes = self._train_recommender(recommenderArn, config)
                self.lifecycle.sleep(max(phase, self.settings.train_seconds) - (time.monotonic() - started))
            except StoreClosed:
                raise
            except Exception as failure:  # JobFailed, or a bug: the update fails visibly either way
                update["status"] = "CREATE FAILED"
                progress("ACTIVE", failureReason=str(failure))
                return
            with self.store.lock:
                self.store.update("recommender", recommenderArn, recommenderConfig=config, **changes)
                update["status"] = "ACTIVE"
                progress("ACTIVE")

        self.lifecycle.run(f"update {recommenderArn}", flow)
        return {"recommenderArn": recommenderArn}

    def stop_recommender(self, request: RequestContext, *, recommenderArn: str) -> dict:
        self._transition(
            recommenderArn, "ACTIVE", "STOP", "INACTIVE", then=lambda: self.models.forget(recommenderArn)
        )
        return {"recommenderArn": recommenderArn}

    def start_recommender(self, request: RequestContext, *, recommenderArn: str) -> dict:
        self._transition(
            recommenderArn, "INACTIVE", "START", "ACTIVE", then=lambda: self._load(recommenderArn)
        )
        return {"recommenderArn": recommenderArn}

    def _load(self, recommender_arn: str) -> None:
        try:
            self.models.get(recommender_arn)
        except InternalFailure as exc:
            raise JobFailed(exc.message) from exc

    def _transition(self, recommender_arn: str, source: str, verb: str, target: str, *, then: Any) -> None:
        """``source`` → ``<verb> PENDING`` → ``<verb> IN_PROGRESS`` → ``target``, a phase each; ``then`` runs
        before ``target`` is reached (its JobFailed leaves the recommender ``source`` with the reason)."""
        with self.store.lock:
            status = self.store.get("recommender", recommender_arn)["status"]
            if status != source:
                raise ResourceInUse(
                    f"Recommender {recommender_arn} is {status}; {verb.lower()} needs it {source}"
                )
            self.store.update("recommender", recommender_arn, status=f"{verb} PENDING")

        def flow() -> None:
            self.lifecycle.sleep(self.settings.phase_seconds)
            self.store.update("recommender", recommender_arn, status=f"{verb} IN_PROGRESS")
            self.lifecycle.sleep(self.settings.phase_seconds)
            try:
                then()
            except JobFailed as failure:
                self.store.update("recommender", recommender_arn, status=source, failureReason=str(failure))
                return
            self.store.update("recommender", recommender_arn, status=target)

        self.lifecycle.run(f"{verb.lower()} {recommender_arn}", flow)

    def delete_recommender(self, request: RequestContext, *, recommenderArn: str) -> dict:
        status = self.store.get("recommender", recommenderArn)["status"]
        if status not in DELETABLE:
            raise ResourceInUse(
                f"Recommender {recommenderArn} is {status}; wait until it is ACTIVE, INACTIVE or failed"
            )

        def cleanup() -> None:
            self.models.forget(recommenderArn)
            shutil.rmtree(self.state.model_dir(recommenderArn), ignore_errors=True)

        self.lifecycle.delete("recommender", recommenderArn, cleanup=cleanup)
        return {}
