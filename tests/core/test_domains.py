"""A domain use case's items and users fields are checked against the domain when the YAML loads."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from personalize_pipelines.config import UseCase
from tests.conftest import EXAMPLE

VOD_ITEMS = [
    {"name": "GENRES", "type": "string", "categorical": True},
    {"name": "CREATION_TIMESTAMP", "type": "long"},
    {"name": "TITLE", "type": "string"},
]


def shop_as(domain: str, **changes) -> dict:
    document = yaml.safe_load((EXAMPLE.config_dir / "shop.yaml").read_text())
    document.update(name="shop", dataset_group={"domain": domain}, **changes)
    return document


def load(document: dict) -> UseCase:
    return UseCase(**document)


def test_the_shop_as_it_is_is_not_an_ecommerce_use_case_and_the_error_names_the_missing_field():
    with pytest.raises(
        ValidationError, match=r"items\.fields must include CATEGORY_L1 \(categorical string\)"
    ):
        load(shop_as("ECOMMERCE"))


def test_a_domains_required_fields_are_exported_non_null_without_saying_so():
    document = shop_as("VIDEO_ON_DEMAND")
    document["items"]["fields"] = VOD_ITEMS
    document["users"]["fields"] = [{"name": "SUBSCRIPTION_MODEL", "type": "string", "categorical": True}]
    uc = load(document)
    assert {f.name: f.optional for f in uc.items.fields} == {
        "GENRES": False,
        "CREATION_TIMESTAMP": False,
        "TITLE": True,
    }


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ({"name": "GENRES", "type": "string"}, r"GENRES must be categorical string in the VIDEO_ON_DEMAND"),
        ({"name": "GENRES", "type": "string", "categorical": True, "optional": True}, r"cannot be optional"),
        (
            {"name": "GENRES", "type": "int"},
            r"GENRES must be categorical string in the VIDEO_ON_DEMAND domain \(declared int\)",
        ),
    ],
)
def test_a_required_field_of_the_wrong_kind_is_refused(field, message):
    document = shop_as("VIDEO_ON_DEMAND")
    document["items"]["fields"] = [field, VOD_ITEMS[1]]
    document.pop("users")
    with pytest.raises(ValidationError, match=message):
        load(document)


def test_a_reserved_field_must_have_its_reserved_type():
    document = shop_as("VIDEO_ON_DEMAND")
    document["items"]["fields"] = [*VOD_ITEMS, {"name": "DURATION", "type": "string", "categorical": True}]
    document.pop("users")
    with pytest.raises(ValidationError, match=r"DURATION must be float in the VIDEO_ON_DEMAND domain"):
        load(document)


def test_a_users_dataset_needs_one_metadata_field():
    document = shop_as("VIDEO_ON_DEMAND")
    document["items"]["fields"] = VOD_ITEMS
    document["users"]["fields"] = [{"name": "NICKNAME", "type": "string"}]
    with pytest.raises(
        ValidationError, match=r"users\.fields needs at least one categorical string or numeric"
    ):
        load(document)


def test_a_custom_use_case_is_not_held_to_any_domain():
    assert load(shop_as(None)).dataset_group.domain is None


def movies_with(**training) -> dict:
    document = yaml.safe_load((EXAMPLE.config_dir / "movies.yaml").read_text())
    document["name"] = "movies"
    document["training"] = {**document["training"], **training}
    return document


TOP_PICKS = {"name": "top-picks", "recipe": "aws-vod-top-picks"}
MORE_LIKE = {"name": "more-like", "recipe": "aws-vod-more-like-x"}


def test_a_recommender_recipe_of_another_domain_is_refused_naming_the_domains_recipes():
    with pytest.raises(
        ValidationError,
        match=r"training.recommenders.sellers: 'aws-ecomm-popular-items-by-purchases' is not a "
        r"VIDEO_ON_DEMAND recipe \(it is an ECOMMERCE recipe\); the VIDEO_ON_DEMAND recipes: aws-vod-top-picks",
    ):
        load(
            movies_with(recommenders=[{"name": "sellers", "recipe": "aws-ecomm-popular-items-by-purchases"}])
        )


def test_recommenders_need_a_domain_dataset_group():
    document = shop_as("VIDEO_ON_DEMAND")
    document.pop("dataset_group")
    document["training"]["recommenders"] = [TOP_PICKS]
    with pytest.raises(ValidationError, match="needs a domain dataset group"):
        load(document)


def test_the_gate_judges_the_first_recommender_holdout_users_can_score_unless_one_is_named():
    uc = load(movies_with(solutions=[], recommenders=[MORE_LIKE, TOP_PICKS]))
    assert uc.champion_recommender.name == "top-picks"
    assert uc.champion_recommender.recommender_config() == {"minRecommendationRequestsPerSecond": 1}
    document = movies_with(solutions=[], recommenders=[MORE_LIKE, TOP_PICKS])
    document["evaluation"]["champion_recommender"] = "more-like"
    with pytest.raises(ValidationError, match="aws-vod-more-like-x recommends items like an item"):
        load(document)
    with pytest.raises(ValidationError, match="holdout users can score none"):
        load(movies_with(solutions=[], recommenders=[MORE_LIKE]))


def test_a_use_case_with_recommenders_has_no_batch_cache_to_fill():
    document = movies_with(recommenders=[TOP_PICKS])
    document["serving"]["batch"] = {"users_sql": "shop/active_users.sql"}
    with pytest.raises(ValidationError, match="serving.batch scores the champion's solution version"):
        load(document)
