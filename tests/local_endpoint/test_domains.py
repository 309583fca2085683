"""Domain dataset groups and schemas: CreateDatasetGroup and CreateSchema with ``domain``, checked against
the developer guide's required and reserved fields, and ListRecipes by domain."""

from __future__ import annotations

import json
import re

import pytest

from tests.local_endpoint.conftest import (
    DOMAIN_INTERACTIONS_SCHEMA,
    DOMAIN_ITEMS_SCHEMAS,
    INTERACTIONS_SCHEMA,
    unique,
    wait_for,
)

VOD_ITEMS = {"type": "record", "name": "Items", "fields": DOMAIN_ITEMS_SCHEMAS["VIDEO_ON_DEMAND"]}


def schema(fields: list[dict], name: str = "Items") -> str:
    return json.dumps({"type": "record", "name": name, "fields": fields})


def test_domain_schemas_are_checked_against_the_domains_required_and_reserved_fields(clients):
    p = clients.personalize
    vod = p.create_schema(name=unique("vod-items"), schema=json.dumps(VOD_ITEMS), domain="VIDEO_ON_DEMAND")
    described = p.describe_schema(schemaArn=vod["schemaArn"])["schema"]
    assert described["domain"] == "VIDEO_ON_DEMAND"
    assert (
        "domain"
        not in p.describe_schema(
            schemaArn=p.create_schema(name=unique("custom"), schema=json.dumps(INTERACTIONS_SCHEMA))[
                "schemaArn"
            ]
        )["schema"]
    )
    refused = {
        "ECOMMERCE": [
            (json.dumps(VOD_ITEMS), "must have PRICE (float)"),
            (
                schema(
                    [
                        {"name": "ITEM_ID", "type": "string"},
                        {"name": "PRICE", "type": "float"},
                        {"name": "CATEGORY_L1", "type": "string"},
                    ]
                ),
                "CATEGORY_L1 must be categorical string",
            ),
            (
                schema([{"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"}]),
                "must have TIMESTAMP (long)",
            ),
        ],
        "VIDEO_ON_DEMAND": [
            (
                schema(
                    [
                        {"name": "ITEM_ID", "type": "string"},
                        {"name": "GENRES", "type": ["null", "string"], "categorical": True},
                        {"name": "CREATION_TIMESTAMP", "type": "long"},
                    ]
                ),
                "GENRES is required in the VIDEO_ON_DEMAND domain: it cannot be null",
            ),
            (
                schema(
                    [
                        {"name": "ITEM_ID", "type": "string"},
                        {"name": "GENRES", "type": "string", "categorical": True},
                        {"name": "CREATION_TIMESTAMP", "type": "long"},
                        {"name": "DURATION", "type": "string"},
                    ]
                ),
                "DURATION must be float",
            ),
            (
                schema(
                    [{"name": "USER_ID", "type": "string"}, {"name": "NICKNAME", "type": "string"}], "Users"
                ),
                "at least one categorical string or numeric metadata field",
            ),
        ],
    }
    for domain, cases in refused.items():
        for text, message in cases:
            with pytest.raises(p.exceptions.InvalidInputException, match=re.escape(message)):
                p.create_schema(name=unique("bad"), schema=text, domain=domain)
    with pytest.raises(p.exceptions.InvalidInputException, match="enum value set"):
        p.create_schema(name=unique("bad"), schema=json.dumps(VOD_ITEMS), domain="RETAIL")


def test_a_domain_group_takes_only_schemas_of_its_domain_and_says_its_domain(clients):
    p = clients.personalize
    group = p.create_dataset_group(name=unique("vod"), domain="VIDEO_ON_DEMAND")["datasetGroupArn"]
    assert wait_for(p.describe_dataset_group, "datasetGroup", datasetGroupArn=group)["domain"] == (
        "VIDEO_ON_DEMAND"
    )
    custom = p.create_schema(name=unique("custom"), schema=json.dumps(INTERACTIONS_SCHEMA))["schemaArn"]
    shop = p.create_schema(
        name=unique("shop"), schema=json.dumps(DOMAIN_INTERACTIONS_SCHEMA), domain="ECOMMERCE"
    )["schemaArn"]
    for other in (custom, shop):
        with pytest.raises(p.exceptions.InvalidInputException, match="of its dataset group's domain"):
            p.create_dataset(
                name=unique("d"), schemaArn=other, datasetGroupArn=group, datasetType="Interactions"
            )
    items = p.create_schema(name=unique("vod"), schema=json.dumps(VOD_ITEMS), domain="VIDEO_ON_DEMAND")
    with pytest.raises(p.exceptions.InvalidInputException, match="schema must have field"):
        p.create_dataset(
            name=unique("d"), schemaArn=items["schemaArn"], datasetGroupArn=group, datasetType="Interactions"
        )
    dataset = p.create_dataset(
        name=unique("d"), schemaArn=items["schemaArn"], datasetGroupArn=group, datasetType="Items"
    )["datasetArn"]
    assert wait_for(p.describe_dataset, "dataset", datasetArn=dataset)["status"] == "ACTIVE"
    plain = p.create_dataset_group(name=unique("custom"))["datasetGroupArn"]
    wait_for(p.describe_dataset_group, "datasetGroup", datasetGroupArn=plain)
    with pytest.raises(p.exceptions.InvalidInputException, match="is of the VIDEO_ON_DEMAND domain"):
        p.create_dataset(
            name=unique("d"), schemaArn=items["schemaArn"], datasetGroupArn=plain, datasetType="Items"
        )


def test_list_recipes_by_domain_lists_that_domains_use_cases_and_solutions_refuse_them(clients):
    p = clients.personalize
    vod = p.list_recipes(domain="VIDEO_ON_DEMAND")["recipes"]
    assert {r["recipeArn"] for r in vod} == {
        f"arn:aws:personalize:::recipe/aws-vod-{name}"
        for name in ("because-you-watched-x", "more-like-x", "most-popular", "top-picks", "trending-now")
    }
    assert {r["domain"] for r in vod} == {"VIDEO_ON_DEMAND"}
    shop = {r["name"] for r in p.list_recipes(domain="ECOMMERCE")["recipes"]}
    assert shop == {
        "aws-ecomm-customers-who-viewed-x-also-viewed",
        "aws-ecomm-frequently-bought-together",
        "aws-ecomm-popular-items-by-purchases",
        "aws-ecomm-popular-items-by-views",
        "aws-ecomm-recommended-for-you",
    }
    custom = p.list_recipes()["recipes"]
    assert len(custom) == 10 and not any("domain" in r for r in custom)
    described = p.describe_recipe(recipeArn="arn:aws:personalize:::recipe/aws-vod-top-picks")["recipe"]
    assert described["recipeType"] == "USER_PERSONALIZATION"
    group = p.create_dataset_group(name=unique("vod"), domain="VIDEO_ON_DEMAND")["datasetGroupArn"]
    wait_for(p.describe_dataset_group, "datasetGroup", datasetGroupArn=group)
    with pytest.raises(p.exceptions.InvalidInputException, match="create a recommender"):
        p.create_solution(
            name=unique("s"),
            datasetGroupArn=group,
            recipeArn="arn:aws:personalize:::recipe/aws-vod-top-picks",
        )
