"""The recipes personalize-local trains: one catalogue, read by the control plane and by training.

Each recipe carries two facts AWS documents about it: ``recipe_type``, the ``recipeType`` ListRecipes and
DescribeRecipe answer (which runtime API serves it), and ``use_case``, the developer guide's recipe
family ("Choosing a recipe"), where Popularity-Count is a POPULAR_ITEMS recipe although its recipeType
is USER_PERSONALIZATION.

The recommender recipes (a domain dataset group's use cases, ``RECOMMENDER_RECIPES``) also carry what the
guide's "<domain> use cases" pages state for each: its domain, the event type it needs at least 1000 of,
whether it needs an Items dataset, and which of userId and itemId GetRecommendations requires.
"""

from __future__ import annotations

from dataclasses import dataclass

RECIPE_ARN_PREFIX = "arn:aws:personalize:::recipe/"
CATALOG_TIME = 1_546_300_800.0  # 2019-01-01, when the service recipes were published


@dataclass(frozen=True)
class Recipe:
    """One recipe.

    :param name: short name, as in ``arn:aws:personalize:::recipe/<name>``.
    :param recipe_type: USER_PERSONALIZATION, RELATED_ITEMS, PERSONALIZED_RANKING or USER_SEGMENTATION (the
        API's recipeType).
    :param use_case: the developer guide's family: the recipe type, or POPULAR_ITEMS.
    :param algorithm: what training fits: ``ease``, ``similarity``, ``popularity`` or ``trending``.
    :param item_metadata: whether training reads the Items dataset.
    :param user_metadata: whether training reads the Users dataset.
    :param description: DescribeRecipe's description.
    :param domain: ECOMMERCE or VIDEO_ON_DEMAND for a recommender recipe; None for a custom one.
    :param event_type: the only event type training reads (None: every event).
    :param required_event_type: the event type training needs ``MIN_INTERACTIONS`` of (None: any).
    :param requires_items: whether a recommender needs the group's Items dataset.
    :param needs_user: whether GetRecommendations requires userId.
    :param needs_item: whether GetRecommendations requires itemId.
    :param consumed_event_type: the event type whose items GetRecommendations leaves out for the user
        (the use case's automatic filter: what the user watched, or purchased); None leaves none out.
    :param reasons: whether GetRecommendations gives each item's ``reason`` (User-Personalization-v2 and
        the use cases built like it).
    """

    name: str
    recipe_type: str
    use_case: str
    algorithm: str
    item_metadata: bool
    user_metadata: bool
    description: str
    domain: str | None = None
    event_type: str | None = None
    required_event_type: str | None = None
    requires_items: bool = False
    needs_user: bool = False
    needs_item: bool = False
    consumed_event_type: str | None = None
    reasons: bool = False

    @property
    def arn(self) -> str:
        return RECIPE_ARN_PREFIX + self.name

    def describe(self) -> dict:
        """The Recipe document of ListRecipes and DescribeRecipe."""
        return {
            "name": self.name,
            "recipeArn": self.arn,
            "algorithmArn": f"arn:aws:personalize:::algorithm/{self.name}",
            "featureTransformationArn": "arn:aws:personalize:::feature-transformation/JSON-percentile-filtering",
            "status": "ACTIVE",
            "description": self.description,
            "recipeType": self.recipe_type,
            "creationDateTime": CATALOG_TIME,
            "lastUpdatedDateTime": CATALOG_TIME,
            **({"domain": self.domain} if self.domain else {}),
        }


# fmt: off
RECIPES = {
    recipe.name: recipe
    for recipe in (
        #      name                           recipe_type             use_case                algorithm     Items  Users  description
        Recipe("aws-user-personalization-v2", "USER_PERSONALIZATION", "USER_PERSONALIZATION", "ease",       True,  True,  "Recommends items for a user from their interactions, with item and user metadata.", reasons=True),
        Recipe("aws-user-personalization",    "USER_PERSONALIZATION", "USER_PERSONALIZATION", "ease",       True,  True,  "Recommends items for a user from their interactions, with exploration of new items."),
        Recipe("aws-popularity-count",        "USER_PERSONALIZATION", "POPULAR_ITEMS",        "popularity", False, False, "Recommends the items with the most interactions across all users."),
        Recipe("aws-similar-items",           "RELATED_ITEMS",        "RELATED_ITEMS",        "similarity", True,  False, "Recommends items similar to a given item, from co-occurrence and item metadata."),
        Recipe("aws-sims",                    "RELATED_ITEMS",        "RELATED_ITEMS",        "similarity", False, False, "Recommends items similar to a given item, from co-occurrence."),
        Recipe("aws-personalized-ranking-v2", "PERSONALIZED_RANKING", "PERSONALIZED_RANKING", "ease",       True,  True,  "Ranks a list of items for a user, with item and user metadata."),
        Recipe("aws-personalized-ranking",    "PERSONALIZED_RANKING", "PERSONALIZED_RANKING", "ease",       False, True,  "Ranks a list of items for a user."),
        Recipe("aws-trending-now",            "USER_PERSONALIZATION", "POPULAR_ITEMS",        "trending",   False, False, "Recommends the items whose interactions grow fastest, recomputed as new interactions arrive."),
        Recipe("aws-item-affinity",           "USER_SEGMENTATION",    "USER_SEGMENTATION",    "ease",       True,  False, "Finds the users most likely to interact with each given item."),
        Recipe("aws-item-attribute-affinity", "USER_SEGMENTATION",    "USER_SEGMENTATION",    "ease",       True,  False, "Finds the users most likely to interact with items having the given attributes."),
    )
}
RECOMMENDER_RECIPES = {
    recipe.name: recipe
    for recipe in (
        #      name                                           recipe_type             use_case                algorithm        Items  Users  description
        Recipe("aws-ecomm-customers-who-viewed-x-also-viewed", "RELATED_ITEMS",        "RELATED_ITEMS",        "similarity",    False, False, "Customers who viewed X also viewed: items viewed by the customers who viewed the given item.", "ECOMMERCE", "View", "View", needs_user=True, needs_item=True, consumed_event_type="Purchase"),
        Recipe("aws-ecomm-frequently-bought-together",         "RELATED_ITEMS",        "RELATED_ITEMS",        "cooccurrence",  False, False, "Frequently bought together: items bought in the same basket as the given item.", "ECOMMERCE", "Purchase", "Purchase", needs_item=True),
        Recipe("aws-ecomm-popular-items-by-purchases",         "USER_PERSONALIZATION", "POPULAR_ITEMS",        "popularity",    False, False, "Best sellers: the items purchased most often.", "ECOMMERCE", "Purchase", "Purchase", needs_user=True),
        Recipe("aws-ecomm-popular-items-by-views",             "USER_PERSONALIZATION", "POPULAR_ITEMS",        "popularity",    False, False, "Most viewed: the items viewed most often.", "ECOMMERCE", "View", "View", needs_user=True),
        Recipe("aws-ecomm-recommended-for-you",                "USER_PERSONALIZATION", "USER_PERSONALIZATION", "ease",          True,  True,  "Recommended for you: items for a customer from their views and purchases.", "ECOMMERCE", None, "View", needs_user=True, consumed_event_type="Purchase", reasons=True),
        Recipe("aws-vod-because-you-watched-x",                "RELATED_ITEMS",        "RELATED_ITEMS",        "similarity",    False, False, "Because you watched X: videos watched by the users who watched the given video.", "VIDEO_ON_DEMAND", "Watch", "Watch", needs_user=True, needs_item=True, consumed_event_type="Watch"),
        Recipe("aws-vod-more-like-x",                          "RELATED_ITEMS",        "RELATED_ITEMS",        "similarity",    True,  False, "More like X: videos similar to the given video, from interactions and item metadata.", "VIDEO_ON_DEMAND", None, None, requires_items=True, needs_user=True, needs_item=True, consumed_event_type="Watch"),
        Recipe("aws-vod-most-popular",                         "USER_PERSONALIZATION", "POPULAR_ITEMS",        "popularity",    False, False, "Most popular: the videos watched most often.", "VIDEO_ON_DEMAND", "Watch", "Watch", needs_user=True),
        Recipe("aws-vod-top-picks",                            "USER_PERSONALIZATION", "USER_PERSONALIZATION", "ease",          True,  True,  "Top picks for you: videos for a user from what they watched.", "VIDEO_ON_DEMAND", None, "Watch", needs_user=True, consumed_event_type="Watch", reasons=True),
        Recipe("aws-vod-trending-now",                         "USER_PERSONALIZATION", "POPULAR_ITEMS",        "trending",      False, False, "Trending now: the videos whose interactions grow fastest, recomputed as new interactions arrive.", "VIDEO_ON_DEMAND", None, None, needs_user=True),
    )
}
# fmt: on


TREND_DISCOVERY_FREQUENCIES = {
    "30 minutes": 1800,
    "1 hour": 3600,
    "2 hours": 7200,
    "3 hours": 10800,
    "1 day": 86400,
}
"""aws-trending-now's ``solutionConfig.featureTransformationParameters.trend_discovery_frequency`` values, in
seconds: the length of the intervals whose growth is measured."""
DEFAULT_TREND_DISCOVERY_FREQUENCY = "2 hours"
MAX_TREND_REFRESH_SECONDS = 7200
"""Longer frequencies still refresh the trending items every 2 hours, as the recipe's page says."""


def trend_discovery_seconds(solution_config: dict | None) -> int:
    """The trend discovery frequency a solutionConfig sets, in seconds; ValueError names the allowed values."""
    parameters = (solution_config or {}).get("featureTransformationParameters") or {}
    frequency = parameters.get("trend_discovery_frequency", DEFAULT_TREND_DISCOVERY_FREQUENCY)
    if frequency not in TREND_DISCOVERY_FREQUENCIES:
        raise ValueError(
            f"featureTransformationParameters.trend_discovery_frequency {frequency!r} is not one of "
            + ", ".join(repr(value) for value in TREND_DISCOVERY_FREQUENCIES)
        )
    return TREND_DISCOVERY_FREQUENCIES[frequency]


def recipe_for_arn(recipe_arn: str) -> Recipe | None:
    """The catalogue's recipe of ``recipe_arn``, custom or recommender; None for an ARN it does not hold."""
    if not recipe_arn.startswith(RECIPE_ARN_PREFIX):
        return None
    name = recipe_arn[len(RECIPE_ARN_PREFIX) :]
    return RECIPES.get(name) or RECOMMENDER_RECIPES.get(name)
