"""Fixtures for the endpoint's tests: boto3 clients, synthetic data, and a trained dataset group."""

from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config

ROLE = "arn:aws:iam::123456789012:role/personalize-local-test"
RECIPE = "arn:aws:personalize:::recipe/"
ITEMS_PER_GROUP = 60
NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})

INTERACTIONS_SCHEMA = {
    "type": "record",
    "name": "Interactions",
    "namespace": "com.amazonaws.personalize.schema",
    "version": "1.0",
    "fields": [
        {"name": "USER_ID", "type": "string"},
        {"name": "ITEM_ID", "type": "string"},
        {"name": "TIMESTAMP", "type": "long"},
        {"name": "EVENT_TYPE", "type": "string"},
        {"name": "EVENT_VALUE", "type": ["null", "float"]},
    ],
}
ITEMS_SCHEMA = {
    "type": "record",
    "name": "Items",
    "namespace": "com.amazonaws.personalize.schema",
    "version": "1.0",
    "fields": [
        {"name": "ITEM_ID", "type": "string"},
        {"name": "GENRE", "type": "string", "categorical": True},
        {"name": "PRICE", "type": "float"},
    ],
}


@dataclass
class Clients:
    url: str
    s3: Any
    personalize: Any
    runtime: Any
    events: Any


def make_clients(url: str, *, config: Config = NO_RETRIES) -> Clients:
    options = {
        "endpoint_url": url,
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
        "config": config,
    }
    return Clients(
        url,
        boto3.client("s3", **options),
        boto3.client("personalize", **options),
        boto3.client("personalize-runtime", **options),
        boto3.client("personalize-events", **options),
    )


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def wait_for(
    describe,
    key: str,
    *,
    until=("ACTIVE", "CREATE FAILED", "CREATE STOPPED"),
    timeout: float = 60,
    **arguments: Any,
) -> dict:
    """Poll a Describe* call until the resource's status is one of ``until``."""
    deadline = time.monotonic() + timeout
    while True:
        resource = describe(**arguments)[key]
        if resource["status"] in until:
            return resource
        if time.monotonic() > deadline:
            raise AssertionError(f"{key} stayed {resource['status']} for {timeout} s: {resource}")
        time.sleep(0.02)


def wait_for_campaign_update(personalize, campaign_arn: str, *, timeout: float = 60) -> dict:
    """Poll DescribeCampaign until its latestCampaignUpdate is ACTIVE or CREATE FAILED."""
    deadline = time.monotonic() + timeout
    while True:
        campaign = personalize.describe_campaign(campaignArn=campaign_arn)["campaign"]
        if campaign["latestCampaignUpdate"]["status"] in ("ACTIVE", "CREATE FAILED"):
            return campaign
        if time.monotonic() > deadline:
            raise AssertionError(f"campaign update did not finish in {timeout} s: {campaign}")
        time.sleep(0.02)


def interactions_csv(*, users: int = 60, per_user: int = 25, seed: int = 7) -> str:
    """Two taste groups: even users mostly touch a-items, odd users b-items; a few popular items."""
    rng = random.Random(seed)
    lines = ["USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE"]
    for user in range(users):
        own = "a" if user % 2 == 0 else "b"
        for step in range(per_user):
            group = own if rng.random() < 0.9 else ("b" if own == "a" else "a")
            item = f"{group}{min(int(rng.expovariate(0.06)), ITEMS_PER_GROUP - 1)}"
            kind = "purchase" if step % 5 == 0 else "click"
            lines.append(f"u{user},{item},{1_700_000_000 + user * 1000 + step},{kind},{rng.randint(1, 5)}.0")
    return "\n".join(lines) + "\n"


def items_csv() -> str:
    lines = ["ITEM_ID,GENRE,PRICE"]
    for group in "ab":
        for index in range(ITEMS_PER_GROUP):
            lines.append(f"{group}{index},{'Action' if group == 'a' else 'Drama'},{index + 0.5}")
    return "\n".join(lines) + "\n"


def create_group_with_data(
    clients: Clients, *, bucket: str, name: str, interactions: str, items: str | None = None
) -> dict:
    """Schema → dataset group → datasets → imports; returns the ARNs."""
    p = clients.personalize
    clients.s3.put_object(Bucket=bucket, Key=f"{name}/interactions/part-0.csv", Body=interactions.encode())
    group = p.create_dataset_group(name=name)["datasetGroupArn"]
    wait_for(p.describe_dataset_group, "datasetGroup", datasetGroupArn=group)
    schema = p.create_schema(name=f"{name}-interactions", schema=json.dumps(INTERACTIONS_SCHEMA))["schemaArn"]
    dataset = p.create_dataset(
        name=f"{name}-interactions", schemaArn=schema, datasetGroupArn=group, datasetType="Interactions"
    )["datasetArn"]
    wait_for(p.describe_dataset, "dataset", datasetArn=dataset)
    job = p.create_dataset_import_job(
        jobName=f"{name}-import",
        datasetArn=dataset,
        roleArn=ROLE,
        dataSource={"dataLocation": f"s3://{bucket}/{name}/interactions/"},
    )
    arns = {"group": group, "schema": schema, "dataset": dataset, "import": job["datasetImportJobArn"]}
    if items is not None:
        clients.s3.put_object(Bucket=bucket, Key=f"{name}/items.csv", Body=items.encode())
        items_schema = p.create_schema(name=f"{name}-items", schema=json.dumps(ITEMS_SCHEMA))["schemaArn"]
        items_dataset = p.create_dataset(
            name=f"{name}-items", schemaArn=items_schema, datasetGroupArn=group, datasetType="Items"
        )["datasetArn"]
        wait_for(p.describe_dataset, "dataset", datasetArn=items_dataset)
        items_job = p.create_dataset_import_job(
            jobName=f"{name}-items-import",
            datasetArn=items_dataset,
            roleArn=ROLE,
            dataSource={"dataLocation": f"s3://{bucket}/{name}/items.csv"},
        )
        arns.update(
            items_schema=items_schema,
            items_dataset=items_dataset,
            items_import=items_job["datasetImportJobArn"],
        )
        assert (
            wait_for(
                p.describe_dataset_import_job, "datasetImportJob", datasetImportJobArn=arns["items_import"]
            )["status"]
            == "ACTIVE"
        )
    imported = wait_for(p.describe_dataset_import_job, "datasetImportJob", datasetImportJobArn=arns["import"])
    assert imported["status"] == "ACTIVE", imported.get("failureReason")
    return arns


def train(clients: Clients, *, group: str, name: str, recipe: str, **solution: Any) -> dict:
    """Solution → ACTIVE solution version → ACTIVE campaign; returns the ARNs."""
    p = clients.personalize
    solution_arn = p.create_solution(name=name, datasetGroupArn=group, recipeArn=RECIPE + recipe, **solution)[
        "solutionArn"
    ]
    wait_for(p.describe_solution, "solution", solutionArn=solution_arn)
    version = p.create_solution_version(solutionArn=solution_arn)["solutionVersionArn"]
    trained = wait_for(p.describe_solution_version, "solutionVersion", solutionVersionArn=version)
    assert trained["status"] == "ACTIVE", trained.get("failureReason")
    campaign = p.create_campaign(name=name, solutionVersionArn=version, minProvisionedTPS=1)["campaignArn"]
    assert wait_for(p.describe_campaign, "campaign", campaignArn=campaign)["status"] == "ACTIVE"
    return {"solution": solution_arn, "version": version, "campaign": campaign}


def group_with_event_tracker(clients, prefix: str) -> tuple[str, str, dict]:
    """An empty dataset group with an Interactions dataset and an ACTIVE event tracker."""
    p = clients.personalize
    name = unique(prefix)
    group = p.create_dataset_group(name=name)["datasetGroupArn"]
    wait_for(p.describe_dataset_group, "datasetGroup", datasetGroupArn=group)
    schema = p.create_schema(name=name, schema=json.dumps(INTERACTIONS_SCHEMA))["schemaArn"]
    dataset = p.create_dataset(
        name=name, schemaArn=schema, datasetGroupArn=group, datasetType="Interactions"
    )["datasetArn"]
    tracker = p.create_event_tracker(name=name, datasetGroupArn=group)
    wait_for(p.describe_dataset, "dataset", datasetArn=dataset)
    wait_for(p.describe_event_tracker, "eventTracker", eventTrackerArn=tracker["eventTrackerArn"])
    return name, group, tracker


def train_popularity(clients, name: str, group: str) -> dict:
    """Train aws-popularity-count on what the group holds; the finished solution version."""
    p = clients.personalize
    solution = p.create_solution(name=name, datasetGroupArn=group, recipeArn=RECIPE + "aws-popularity-count")[
        "solutionArn"
    ]
    wait_for(p.describe_solution, "solution", solutionArn=solution)
    version = p.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    return wait_for(p.describe_solution_version, "solutionVersion", solutionVersionArn=version)


@pytest.fixture(scope="session")
def clients(local_endpoint: str) -> Clients:
    return make_clients(local_endpoint)


@pytest.fixture(scope="session")
def bucket(clients: Clients) -> str:
    name = unique("personalize-local-test")
    clients.s3.create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="session")
def trained_group(clients: Clients, bucket: str) -> dict:
    """A dataset group with interactions and items, and one ACTIVE campaign per recipe family."""
    arns = create_group_with_data(
        clients, bucket=bucket, name=unique("shop"), interactions=interactions_csv(), items=items_csv()
    )
    arns["personalization"] = train(
        clients, group=arns["group"], name=unique("up"), recipe="aws-user-personalization-v2"
    )
    arns["sims"] = train(clients, group=arns["group"], name=unique("sims"), recipe="aws-sims")
    arns["ranking"] = train(
        clients, group=arns["group"], name=unique("rank"), recipe="aws-personalized-ranking-v2"
    )
    return arns


DOMAIN_INTERACTIONS_SCHEMA = {
    **INTERACTIONS_SCHEMA,
    "fields": [field for field in INTERACTIONS_SCHEMA["fields"] if field["name"] != "EVENT_VALUE"],
}
DOMAIN_ITEMS_SCHEMAS = {
    "VIDEO_ON_DEMAND": [
        {"name": "ITEM_ID", "type": "string"},
        {"name": "GENRES", "type": "string", "categorical": True},
        {"name": "CREATION_TIMESTAMP", "type": "long"},
    ],
    "ECOMMERCE": [
        {"name": "ITEM_ID", "type": "string"},
        {"name": "PRICE", "type": "float"},
        {"name": "CATEGORY_L1", "type": "string", "categorical": True},
    ],
}


def watch_csv() -> str:
    """:func:`interactions_csv`'s two taste groups, every event a Watch, as a VIDEO_ON_DEMAND group holds them."""
    lines = interactions_csv().splitlines()
    rows = [line.split(",") for line in lines[1:]]
    return "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n" + "".join(f"{u},{i},{t},Watch\n" for u, i, t, *_ in rows)


def videos_csv() -> str:
    lines = ["ITEM_ID,GENRES,CREATION_TIMESTAMP"]
    for group in "ab":
        for index in range(ITEMS_PER_GROUP):
            lines.append(
                f"{group}{index},{'Action' if group == 'a' else 'Drama|Romance'},{1_600_000_000 + index}"
            )
    return "\n".join(lines) + "\n"


BASKET_PAIRS = 20


def baskets_csv(*, users: int = 80, visits: int = 10, seed: int = 11) -> str:
    """ECOMMERCE shoppers: each visit views three items of the shopper's taste group, then buys a planted
    pair (p<k> with q<k>) within minutes; visits are a day apart."""
    rng = random.Random(seed)
    lines = ["USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE"]
    for user in range(users):
        own = "a" if user % 2 == 0 else "b"
        for visit in range(visits):
            moment = 1_700_000_000 + user * 100 + visit * 86_400
            for step in range(3):
                item = f"{own}{min(int(rng.expovariate(0.06)), ITEMS_PER_GROUP - 1)}"
                lines.append(f"u{user},{item},{moment + step * 60},View")
            pair = rng.randrange(BASKET_PAIRS)
            lines.append(f"u{user},p{pair},{moment + 300},Purchase")
            lines.append(f"u{user},q{pair},{moment + 420},Purchase")
    return "\n".join(lines) + "\n"


def products_csv() -> str:
    lines = ["ITEM_ID,PRICE,CATEGORY_L1"]
    for group in "ab":
        for index in range(ITEMS_PER_GROUP):
            lines.append(f"{group}{index},{index + 0.5},{'shoes' if group == 'a' else 'books'}")
    for index in range(BASKET_PAIRS):
        lines += [f"p{index},9.99,kitchen", f"q{index},4.99,kitchen"]
    return "\n".join(lines) + "\n"


def active_filter(personalize, *, group: str, expression: str) -> str:
    """A new filter of the group, waited for until ACTIVE; its ARN."""
    filter_arn = personalize.create_filter(
        name=unique("filter"), datasetGroupArn=group, filterExpression=expression
    )["filterArn"]
    wait_for(personalize.describe_filter, "filter", filterArn=filter_arn)
    return filter_arn


def create_domain_group(
    clients: Clients, *, bucket: str, name: str, domain: str, interactions: str, items: str | None = None
) -> dict:
    """A domain dataset group with its domain schemas, datasets and imports (ACTIVE); returns the ARNs."""
    p = clients.personalize
    group = p.create_dataset_group(name=name, domain=domain)["datasetGroupArn"]
    wait_for(p.describe_dataset_group, "datasetGroup", datasetGroupArn=group)
    arns = {"group": group}
    sources = {"Interactions": (DOMAIN_INTERACTIONS_SCHEMA, interactions)}
    if items is not None:
        sources["Items"] = (
            {"type": "record", "name": "Items", "fields": DOMAIN_ITEMS_SCHEMAS[domain]},
            items,
        )
    jobs = []
    for kind, (schema, body) in sources.items():
        key = f"{name}/{kind.lower()}.csv"
        clients.s3.put_object(Bucket=bucket, Key=key, Body=body.encode())
        schema_arn = p.create_schema(name=f"{name}-{kind}", schema=json.dumps(schema), domain=domain)[
            "schemaArn"
        ]
        dataset = p.create_dataset(
            name=f"{name}-{kind}", schemaArn=schema_arn, datasetGroupArn=group, datasetType=kind
        )["datasetArn"]
        wait_for(p.describe_dataset, "dataset", datasetArn=dataset)
        jobs.append(
            p.create_dataset_import_job(
                jobName=f"{name}-{kind}",
                datasetArn=dataset,
                roleArn=ROLE,
                dataSource={"dataLocation": f"s3://{bucket}/{key}"},
            )["datasetImportJobArn"]
        )
        arns[kind] = dataset
    for job in jobs:
        imported = wait_for(p.describe_dataset_import_job, "datasetImportJob", datasetImportJobArn=job)
        assert imported["status"] == "ACTIVE", imported.get("failureReason")
    return arns


def domain_group_with_recommenders(
    clients: Clients,
    *,
    bucket: str,
    domain: str,
    interactions: str,
    items: str,
    recipes: list[str],
    **options: Any,
) -> dict[str, str]:
    """:func:`create_domain_group`, then :func:`create_recommenders` in it; every ARN, by kind and recipe."""
    arns = create_domain_group(
        clients,
        bucket=bucket,
        name=unique(domain.lower()),
        domain=domain,
        interactions=interactions,
        items=items,
    )
    return {**arns, **create_recommenders(clients, group=arns["group"], recipes=recipes, **options)}


def create_recommenders(
    clients: Clients, *, group: str, recipes: list[str], **options: Any
) -> dict[str, str]:
    """One recommender per recipe, created at once, each waited for until ACTIVE; ARNs by recipe."""
    p = clients.personalize
    arns = {
        recipe: p.create_recommender(
            name=unique(recipe.removeprefix("aws-")),
            datasetGroupArn=group,
            recipeArn=RECIPE + recipe,
            **options,
        )["recommenderArn"]
        for recipe in recipes
    }
    for arn in arns.values():
        recommender = wait_for(p.describe_recommender, "recommender", recommenderArn=arn)
        assert recommender["status"] == "ACTIVE", recommender.get("failureReason")
    return arns
