"""Runtime: GetRecommendations and GetPersonalizedRanking, from trained models and the group's filters."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Any

from personalize_local import limits
from personalize_local.errors import InvalidInput, ResourceNotFound
from personalize_local.models import filters as filter_language
from personalize_local.models.context import RequestContext
from personalize_local.models.promotions import add_metadata, add_reasons, metadata_columns, promote
from personalize_local.models.registry import RECOMMENDER_SERVING, ModelRegistry
from personalize_local.models.state import ServiceState
from personalize_local.models.trending import InteractionLog
from personalize_local.recipes import Recipe, recipe_for_arn


@functools.lru_cache(maxsize=1024)
def _parsed(filter_expression: str) -> list[filter_language.Expression]:
    return filter_language.parse(filter_expression)


def restriction(
    state: ServiceState,
    *,
    filter_arn: str | None,
    filter_values: dict[str, str] | None,
    dataset_group_arn: str,
    user_id: str | None,
    item_id: str | None = None,
) -> filter_language.ItemRestriction:
    """The items a request may get under the filter ``filter_arn`` (no restriction without one)."""
    if not filter_arn:
        return filter_language.ItemRestriction()
    record = state.store.resources["filter"].get(filter_arn)
    if record is None or record.get("status") != "ACTIVE":
        raise ResourceNotFound(f"Filter {filter_arn} does not exist or is not ACTIVE")
    if record["datasetGroupArn"] != dataset_group_arn:
        raise InvalidInput(f"Filter {filter_arn} belongs to another dataset group")
    expressions = _parsed(record["filterExpression"])
    if any(expression.target == "USERID" for expression in expressions):
        raise InvalidInput(
            f"Filter {filter_arn} filters users (UserID): it applies to batch segment jobs, not to items"
        )
    data = state.group_data(dataset_group_arn)
    needs_items = any(c.dataset == "Items" for e in expressions for clause in e.clauses for c in clause)
    return filter_language.restrict(
        expressions,
        values=filter_language.parse_filter_values(filter_values or {}),
        items=data.items() if needs_items else None,
        user_items=lambda kinds: data.user_items(user_id or "", kinds),
        current_item=item_id,
    )


def check_num_results(num_results: int) -> None:
    if not limits.MIN_NUM_RESULTS <= num_results <= limits.MAX_NUM_RESULTS:
        raise InvalidInput(
            f"numResults must be between {limits.MIN_NUM_RESULTS} and {limits.MAX_NUM_RESULTS}, "
            f"got {num_results}"
        )


@dataclass(frozen=True)
class Serving:
    """What answers a GetRecommendations: a campaign's solution version or a recommender."""

    arn: str
    dataset_group_arn: str
    model: Any
    recipe: Recipe
    config: dict


class RuntimeBackend:
    """GetRecommendations and GetPersonalizedRanking.

    A Trending-Now campaign or recommender needs no userId (only a filter that reads the user's
    interactions does) and answers from the dataset group's current interactions, so new imports and
    events move it without a new solution version. A recommender (``recommenderArn``) answers while ACTIVE
    (and while an update trains); its recipe says whether userId and itemId are required, as the
    developer guide's use case pages do. Promotions and ``metadataColumns`` are
    :mod:`~personalize_local.models.promotions`'.
    """

    def __init__(self, *, state: ServiceState, models: ModelRegistry) -> None:
        self.state = state
        self.models = models
        self.interactions = InteractionLog(state)

    def _serving(self, campaign_arn: str) -> Serving:
        campaign = self.state.store.resources["campaign"].get(campaign_arn)
        if campaign is None:
            raise ResourceNotFound(f"Campaign {campaign_arn} does not exist")
        if campaign.get("status") != "ACTIVE":
            raise ResourceNotFound(f"Campaign {campaign_arn} is {campaign.get('status')}, not ACTIVE")
        version_arn = campaign["solutionVersionArn"]
        version = self.state.store.resources["solution-version"].get(version_arn)
        if version is None:
            raise ResourceNotFound(
                f"Solution version {version_arn} of campaign {campaign_arn} no longer exists"
            )
        return Serving(
            campaign_arn,
            version["datasetGroupArn"],
            self.models.get(version_arn),
            recipe_for_arn(version["recipeArn"]),
            campaign.get("campaignConfig") or {},
        )

    def _recommender(self, recommender_arn: str, *, user_id: str | None, item_id: str | None) -> Serving:
        recommender = self.state.store.resources["recommender"].get(recommender_arn)
        if recommender is None:
            raise ResourceNotFound(f"Recommender {recommender_arn} does not exist")
        if recommender["status"] not in RECOMMENDER_SERVING:
            raise ResourceNotFound(
                f"Recommender {recommender_arn} is {recommender['status']}, not ACTIVE"
                + ("; start it with StartRecommender" if recommender["status"] == "INACTIVE" else "")
            )
        recipe = recipe_for_arn(recommender["recipeArn"])
        if recipe.needs_item and not item_id:
            raise InvalidInput(f"{recipe.name} recommends items related to one: give itemId")
        if recipe.needs_user and not user_id:
            raise InvalidInput(f"{recipe.name} recommends items for a user: give userId")
        return Serving(
            recommender_arn,
            recommender["datasetGroupArn"],
            self.models.get(recommender_arn),
            recipe,
            recommender["recommenderConfig"],
        )

    def get_recommendations(
        self,
        request: RequestContext,
        *,
        campaignArn: str | None = None,
        recommenderArn: str | None = None,
        itemId: str | None = None,
        userId: str | None = None,
        numResults: int = limits.DEFAULT_NUM_RESULTS,
        filterArn: str | None = None,
        filterValues: dict[str, str] | None = None,
        promotions: list[dict] | None = None,
        metadataColumns: dict[str, list[str]] | None = None,
        **_: Any,
    ) -> dict:
        if bool(campaignArn) == bool(recommenderArn):
            raise InvalidInput("Give either campaignArn or recommenderArn")
        check_num_results(numResults)
        if recommenderArn:
            serving = self._recommender(recommenderArn, user_id=userId, item_id=itemId)
        else:
            serving = self._serving(campaignArn)
        columns = metadata_columns(serving, metadataColumns)
        allowed = self._restriction(serving, filterArn, filterValues, user_id=userId, item_id=itemId)

        def ranked(count: int, restriction_: filter_language.ItemRestriction) -> list[tuple[str, float]]:
            return self._rank(
                serving, user_id=userId, item_id=itemId, num_results=count, restriction=restriction_
            )

        if promotions:
            promotion = promotions[0]
            promoted_allowed = allowed.also(
                self._restriction(
                    serving,
                    promotion.get("filterArn"),
                    promotion.get("filterValues"),
                    user_id=userId,
                    item_id=itemId,
                )
            )
            entries = promote(
                ranked, promotion, num_results=numResults, restriction=allowed, promoted=promoted_allowed
            )
        else:
            entries = [{"itemId": item, "score": score} for item, score in ranked(numResults, allowed)]
        if serving.recipe.reasons:
            add_reasons(entries, cold_user=not serving.model.seen_items(userId))
        if columns:
            add_metadata(entries, self.state.group_data(serving.dataset_group_arn).items(), columns)
        for entry in entries:
            entry["score"] = round(float(entry["score"]), 7)
        return {"itemList": entries, "recommendationId": f"RID-{uuid.uuid4()}"}

    def _restriction(
        self, serving: Serving, filter_arn: str | None, filter_values: dict | None, *, user_id, item_id
    ) -> filter_language.ItemRestriction:
        return restriction(
            self.state,
            filter_arn=filter_arn,
            filter_values=filter_values,
            dataset_group_arn=serving.dataset_group_arn,
            user_id=user_id,
            item_id=item_id,
        )

    def _rank(
        self,
        serving: Serving,
        *,
        user_id: str | None,
        item_id: str | None,
        num_results: int,
        restriction: filter_language.ItemRestriction,
    ) -> list[tuple[str, float]]:
        """Best first: a trend, a recommender's use case, or what a campaign's recipe recommends."""
        if serving.recipe.algorithm == "trending":
            latest, interactions = self.interactions.current(serving.dataset_group_arn)
            return serving.model.trending(
                num_results,
                latest=latest,
                interactions=interactions,
                exclude_items=restriction.exclude,
                allowed_items=restriction.allowed,
            )
        if serving.recipe.domain:  # what the use case's automatic filter leaves out, nothing else
            consumed: set[str] = set()
            if user_id and serving.recipe.consumed_event_type:
                consumed = self.state.group_data(serving.dataset_group_arn).user_items_of_type(
                    user_id, serving.recipe.consumed_event_type
                )
            exclude = restriction.exclude | consumed
            if serving.recipe.recipe_type == "RELATED_ITEMS":
                return serving.model.related(
                    item_id, num_results, exclude_items=exclude | {item_id}, allowed_items=restriction.allowed
                )
            return serving.model.recommend(
                user_id,
                num_results,
                exclude_items=exclude,
                allowed_items=restriction.allowed,
                leave_out_history=False,
            )
        return recommend(
            serving.model,
            serving.recipe.recipe_type,
            user_id=user_id,
            item_id=item_id,
            num_results=num_results,
            restriction=restriction,
        )

    def get_personalized_ranking(
        self,
        request: RequestContext,
        *,
        campaignArn: str,
        inputList: list[str],
        userId: str,
        filterArn: str | None = None,
        filterValues: dict[str, str] | None = None,
        **_: Any,
    ) -> dict:
        if len(inputList) > limits.MAX_RANKING_INPUT:
            raise InvalidInput(f"inputList can hold at most {limits.MAX_RANKING_INPUT} items")
        serving = self._serving(campaignArn)
        if serving.recipe.recipe_type != "PERSONALIZED_RANKING":
            raise InvalidInput(
                f"Campaign {campaignArn} serves a {serving.recipe.recipe_type} recipe; GetPersonalizedRanking "
                "needs a personalized-ranking campaign"
            )
        allowed = self._restriction(serving, filterArn, filterValues, user_id=userId, item_id=None)
        return {
            "personalizedRanking": [
                {"itemId": item, "score": round(float(score), 7)}
                for item, score in rank(
                    serving.model, user_id=userId, item_ids=inputList, restriction=allowed
                )
            ],
            "recommendationId": f"RID-{uuid.uuid4()}",
        }


def rank(
    model: Any, *, user_id: str, item_ids: list[str], restriction: filter_language.ItemRestriction
) -> list[tuple[str, float]]:
    """``item_ids`` ordered for the user, best first, less what the restriction leaves out."""
    return [(item, score) for item, score in model.rank(user_id, list(item_ids)) if restriction.admits(item)]


def recommend(
    model: Any,
    recipe_type: str,
    *,
    user_id: str | None,
    item_id: str | None,
    num_results: int,
    restriction: filter_language.ItemRestriction,
) -> list[tuple[str, float]]:
    """What a campaign (or batch job) returns for one request, by recipe type."""
    if recipe_type == "RELATED_ITEMS":
        if not item_id:
            raise InvalidInput("This campaign recommends related items: give itemId")
        return model.related(
            item_id,
            num_results,
            exclude_items=restriction.exclude | {item_id},
            allowed_items=restriction.allowed,
        )
    if recipe_type == "USER_PERSONALIZATION":
        if not user_id:
            raise InvalidInput("This campaign recommends items for a user: give userId")
        exclude = model.seen_items(user_id) | restriction.exclude
        return model.recommend(user_id, num_results, exclude_items=exclude, allowed_items=restriction.allowed)
    if recipe_type == "USER_SEGMENTATION":
        raise InvalidInput(
            "This solution version segments users: get its segments with CreateBatchSegmentJob"
        )
    raise InvalidInput("This campaign ranks items: call GetPersonalizedRanking with userId and inputList")
