"""The recipes personalize-local trains, as ListRecipes/DescribeRecipe describe them."""

from __future__ import annotations

from dataclasses import dataclass

RECIPE_ARN_PREFIX = "arn:aws:personalize:::recipe/"
CATALOG_TIME = 1_546_300_800.0  # 2019-01-01, when the service recipes were published


@dataclass(frozen=True)
class Recipe:
    name: str
    recipe_type: str  # USER_PERSONALIZATION, RELATED_ITEMS or PERSONALIZED_RANKING
    description: str

    @property
    def arn(self) -> str:
        return RECIPE_ARN_PREFIX + self.name

    def describe(self) -> dict:
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


RECIPES = {
    recipe.name: recipe
    for recipe in (
        Recipe(
            "aws-user-personalization-v2",
            "USER_PERSONALIZATION",
            "Recommends items for a user from their interactions, with item and user metadata.",
        ),
        Recipe(
            "aws-user-personalization",
            "USER_PERSONALIZATION",
            "Recommends items for a user from their interactions, with exploration of new items.",
        ),
        Recipe(
            "aws-popularity-count",
            "USER_PERSONALIZATION",
            "Recommends the items with the most interactions across all users.",
        ),
        Recipe(
            "aws-similar-items",
            "RELATED_ITEMS",
            "Recommends items similar to a given item, from co-occurrence and item metadata.",
        ),
        Recipe("aws-sims", "RELATED_ITEMS", "Recommends items similar to a given item, from co-occurrence."),
        Recipe(
            "aws-personalized-ranking-v2",
            "PERSONALIZED_RANKING",
            "Ranks a list of items for a user, with item and user metadata.",
        ),
        Recipe("aws-personalized-ranking", "PERSONALIZED_RANKING", "Ranks a list of items for a user."),
    )
}


def recipe_for_arn(recipe_arn: str) -> Recipe | None:
    if not recipe_arn.startswith(RECIPE_ARN_PREFIX):
        return None
    return RECIPES.get(recipe_arn[len(RECIPE_ARN_PREFIX) :])
