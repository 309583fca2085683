"""Runtime: GetRecommendations and GetPersonalizedRanking, from trained models and the group's filters."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from personalize_local import limits
from personalize_local.errors import InvalidInput, ResourceNotFound
from personalize_local.models import filters as filter_language
from personalize_local.models.context import RequestContext
from personalize_local.models.registry import ModelRegistry
from personalize_local.models.state import ServiceState
from personalize_local.models.trending import InteractionLog
from personalize_local.recipes import recipe_for_arn


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


class RuntimeBackend:
    """GetRecommendations and GetPersonalizedRanking.

    A Trending-Now campaign needs no userId (only a filter that reads the user's interactions does) and
    answers from the dataset group's current interactions, so new imports and events move it without a
    new solution version.
    """

    def __init__(self, *, state: ServiceState, models: ModelRegistry) -> None:
        self.state = state
        self.models = models
        self.interactions = InteractionLog(state)

    def _serving(self, campaign_arn: str) -> tuple[dict, Any, str]:
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
        recipe = recipe_for_arn(version["recipeArn"])
        return version, self.models.get(version_arn), recipe.recipe_type if recipe else ""

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
        **_: Any,
    ) -> dict:
        if recommenderArn:
            raise InvalidInput("Recommenders (domain dataset groups) are not supported by personalize-local")
        if not campaignArn:
            raise InvalidInput("campaignArn is required")
        check_num_results(numResults)
        version, model, recipe_type = self._serving(campaignArn)
        allowed = restriction(
            self.state,
            filter_arn=filterArn,
            filter_values=filterValues,
            dataset_group_arn=version["datasetGroupArn"],
            user_id=userId,
            item_id=itemId,
        )
        recipe = recipe_for_arn(version["recipeArn"])
        if recipe is not None and recipe.algorithm == "trending":
            latest, interactions = self.interactions.current(version["datasetGroupArn"])
            ranked = model.trending(
                numResults,
                latest=latest,
                interactions=interactions,
                exclude_items=allowed.exclude,
                allowed_items=allowed.allowed,
            )
        else:
            ranked = recommend(
                model,
                recipe_type,
                user_id=userId,
                item_id=itemId,
                num_results=numResults,
                restriction=allowed,
            )
        return {
            "itemList": [{"itemId": item, "score": round(float(score), 7)} for item, score in ranked],
            "recommendationId": f"RID-{uuid.uuid4()}",
        }

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
        version, model, recipe_type = self._serving(campaignArn)
        if recipe_type != "PERSONALIZED_RANKING":
            raise InvalidInput(
                f"Campaign {campaignArn} serves a {recipe_type} recipe; GetPersonalizedRanking needs "
                "a personalized-ranking campaign"
            )
        allowed = restriction(
            self.state,
            filter_arn=filterArn,
            filter_values=filterValues,
            dataset_group_arn=version["datasetGroupArn"],
            user_id=userId,
        )
        return {
            "personalizedRanking": [
                {"itemId": item, "score": round(float(score), 7)}
                for item, score in rank(model, user_id=userId, item_ids=inputList, restriction=allowed)
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
