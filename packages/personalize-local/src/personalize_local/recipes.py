"""The recipes personalize-local trains: one catalogue, read by the control plane and by training.

Each recipe carries two facts AWS documents about it: ``recipe_type``, the ``recipeType`` ListRecipes and
DescribeRecipe answer (which runtime API serves it), and ``use_case``, the developer guide's recipe
family ("Choosing a recipe"), where Popularity-Count is a POPULAR_ITEMS recipe although its recipeType
is USER_PERSONALIZATION.
"""

from __future__ import annotations

from dataclasses import dataclass

RECIPE_ARN_PREFIX = "arn:aws:personalize:::recipe/"
CATALOG_TIME = 1_546_300_800.0  # 2019-01-01, when the service recipes were published


@dataclass(frozen=True)
class Recipe:
    """One recipe.

    :param name: short name, as in ``arn:aws:personalize:::recipe/<name>``.
    :param recipe_type: USER_PERSONALIZATION, RELATED_ITEMS or PERSONALIZED_RANKING (the API's recipeType).
    :param use_case: the developer guide's family: the recipe type, or POPULAR_ITEMS.
    :param algorithm: what training fits: ``ease``, ``similarity`` or ``popularity``.
    :param item_metadata: whether training reads the Items dataset.
    :param user_metadata: whether training reads the Users dataset.
    :param description: DescribeRecipe's description.
    """

    name: str
    recipe_type: str
    use_case: str
    algorithm: str
    item_metadata: bool
    user_metadata: bool
    description: str

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
        }


# fmt: off
RECIPES = {
    recipe.name: recipe
    for recipe in (
        #      name                           recipe_type             use_case                algorithm     Items  Users  description
        Recipe("aws-user-personalization-v2", "USER_PERSONALIZATION", "USER_PERSONALIZATION", "ease",       True,  True,  "Recommends items for a user from their interactions, with item and user metadata."),
        Recipe("aws-user-personalization",    "USER_PERSONALIZATION", "USER_PERSONALIZATION", "ease",       True,  True,  "Recommends items for a user from their interactions, with exploration of new items."),
        Recipe("aws-popularity-count",        "USER_PERSONALIZATION", "POPULAR_ITEMS",        "popularity", False, False, "Recommends the items with the most interactions across all users."),
        Recipe("aws-similar-items",           "RELATED_ITEMS",        "RELATED_ITEMS",        "similarity", True,  False, "Recommends items similar to a given item, from co-occurrence and item metadata."),
        Recipe("aws-sims",                    "RELATED_ITEMS",        "RELATED_ITEMS",        "similarity", False, False, "Recommends items similar to a given item, from co-occurrence."),
        Recipe("aws-personalized-ranking-v2", "PERSONALIZED_RANKING", "PERSONALIZED_RANKING", "ease",       True,  True,  "Ranks a list of items for a user, with item and user metadata."),
        Recipe("aws-personalized-ranking",    "PERSONALIZED_RANKING", "PERSONALIZED_RANKING", "ease",       False, True,  "Ranks a list of items for a user."),
    )
}
# fmt: on


def recipe_for_arn(recipe_arn: str) -> Recipe | None:
    """The catalogue's recipe of ``recipe_arn``; None for an ARN it does not hold."""
    if not recipe_arn.startswith(RECIPE_ARN_PREFIX):
        return None
    return RECIPES.get(recipe_arn[len(RECIPE_ARN_PREFIX) :])
