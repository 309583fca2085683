"""Every implemented operation, called by a real boto3 client, answers what botocore's model requires."""

from __future__ import annotations

import datetime as dt
import json
import time

from personalize_local.models.backend import PersonalizeBackend
from personalize_local.models.events import EventsBackend
from personalize_local.models.runtime import RuntimeBackend
from personalize_local.protocol.dispatch import snake_case
from personalize_local.protocol.shapes import service_model
from personalize_local.testing import running_endpoint
from tests.local_endpoint.conftest import (
    ITEMS_SCHEMA,
    RECIPE,
    ROLE,
    active_filter,
    create_domain_group,
    create_group_with_data,
    interactions_csv,
    make_clients,
    unique,
    videos_csv,
    wait_for,
    wait_for_campaign_update,
    watch_csv,
)

BACKENDS = {
    "personalize": PersonalizeBackend,
    "personalize-runtime": RuntimeBackend,
    "personalize-events": EventsBackend,
}
PYTHON_TYPES = {
    "string": str,
    "integer": int,
    "long": int,
    "boolean": bool,
    "timestamp": dt.datetime,
    "float": (float, int),
    "double": (float, int),
    "list": list,
    "map": dict,
    "structure": dict,
}


def implemented_operations() -> set[str]:
    return {
        name
        for service, backend in BACKENDS.items()
        for name in service_model(service).operation_names
        if hasattr(backend, snake_case(name))
    }


def violations(shape, value, path: str = "") -> list[str]:
    """Where ``value`` breaks ``shape``: missing required members or wrong types, recursively."""
    if shape is None:
        return []
    expected = PYTHON_TYPES.get(shape.type_name)
    if expected and not isinstance(value, expected):
        return [f"{path or 'output'}: expected {shape.type_name}, got {type(value).__name__}"]
    problems = []
    if shape.type_name == "structure":
        problems += [
            f"{path}.{name}: required member missing" for name in shape.required_members if name not in value
        ]
        for name, member in shape.members.items():
            if name in value:
                problems += violations(member, value[name], f"{path}.{name}")
    elif shape.type_name == "list":
        for index, item in enumerate(value):
            problems += violations(shape.member, item, f"{path}[{index}]")
    elif shape.type_name == "map":
        for key, item in value.items():
            problems += violations(shape.value, item, f"{path}[{key}]")
    return problems


def test_every_implemented_operation_answers_its_output_shape(
    local_endpoint, trained_group, bucket, tmp_path
):
    clients = make_clients(local_endpoint)
    p, runtime, events = clients.personalize, clients.runtime, clients.events
    responses: list[tuple[str, object, dict]] = []

    def record(http_response, parsed, model, **_):
        if http_response.status_code == 200:
            responses.append((model.name, model.output_shape, parsed))

    for client in (p, runtime, events):
        client.meta.events.register("after-call", record)

    group, campaign = trained_group["group"], trained_group["personalization"]["campaign"]
    version = trained_group["personalization"]["version"]
    name = unique("conform")
    p.list_schemas(maxResults=1)
    p.describe_schema(schemaArn=trained_group["schema"])
    p.list_dataset_groups()
    p.describe_dataset_group(datasetGroupArn=group)
    p.list_datasets(datasetGroupArn=group)
    p.describe_dataset(datasetArn=trained_group["dataset"])
    p.list_dataset_import_jobs(datasetArn=trained_group["dataset"])
    p.describe_dataset_import_job(datasetImportJobArn=trained_group["import"])
    p.list_solutions(datasetGroupArn=group)
    p.describe_solution(solutionArn=trained_group["personalization"]["solution"])
    p.update_solution(
        solutionArn=trained_group["personalization"]["solution"], performIncrementalUpdate=False
    )
    p.list_solution_versions(solutionArn=trained_group["personalization"]["solution"])
    p.describe_solution_version(solutionVersionArn=version)
    p.get_solution_metrics(solutionVersionArn=version)
    p.list_campaigns(solutionArn=trained_group["personalization"]["solution"])
    p.describe_campaign(campaignArn=campaign)
    p.update_campaign(campaignArn=campaign, minProvisionedTPS=3)
    assert wait_for_campaign_update(p, campaign)["minProvisionedTPS"] == 3
    p.list_recipes()
    p.describe_recipe(recipeArn=RECIPE + "aws-sims")
    p.tag_resource(resourceArn=campaign, tags=[{"tagKey": "team", "tagValue": "data"}])
    assert p.list_tags_for_resource(resourceArn=campaign)["tags"] == [{"tagKey": "team", "tagValue": "data"}]
    p.untag_resource(resourceArn=campaign, tagKeys=["team"])
    runtime.get_recommendations(campaignArn=campaign, userId="u3", numResults=3)
    runtime.get_recommendations(campaignArn=trained_group["sims"]["campaign"], itemId="a1", numResults=3)
    runtime.get_personalized_ranking(
        campaignArn=trained_group["ranking"]["campaign"], userId="u3", inputList=["a1", "b1", "a2"]
    )

    schema = p.create_schema(name=name, schema=json.dumps(ITEMS_SCHEMA))["schemaArn"]
    other = p.create_dataset_group(name=name)["datasetGroupArn"]
    wait_for(p.describe_dataset_group, "datasetGroup", datasetGroupArn=other)
    dataset = p.create_dataset(name=name, schemaArn=schema, datasetGroupArn=other, datasetType="Items")[
        "datasetArn"
    ]
    wait_for(p.describe_dataset, "dataset", datasetArn=dataset)
    job = p.create_dataset_import_job(
        jobName=name,
        datasetArn=dataset,
        roleArn=ROLE,
        importMode="INCREMENTAL",
        dataSource={"dataLocation": f"s3://{bucket}/nothing/here.csv"},
    )
    assert (
        "does not exist"
        in wait_for(
            p.describe_dataset_import_job, "datasetImportJob", datasetImportJobArn=job["datasetImportJobArn"]
        )["failureReason"]
    )
    events.put_items(
        datasetArn=dataset, items=[{"itemId": "x1", "properties": json.dumps({"genre": "Drama"})}]
    )
    tracker = p.create_event_tracker(name=name, datasetGroupArn=other)
    p.list_event_trackers(datasetGroupArn=other)
    wait_for(p.describe_event_tracker, "eventTracker", eventTrackerArn=tracker["eventTrackerArn"])
    filter_arn = p.create_filter(
        name=name,
        datasetGroupArn=other,
        filterExpression='EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("buy")',
    )["filterArn"]
    p.list_filters(datasetGroupArn=other)
    wait_for(p.describe_filter, "filter", filterArn=filter_arn)
    solution = p.create_solution(name=name, datasetGroupArn=group, recipeArn=RECIPE + "aws-popularity-count")
    wait_for(p.describe_solution, "solution", solutionArn=solution["solutionArn"])
    with running_endpoint(state_dir=tmp_path, phase_seconds=0.02, train_seconds=60) as slow_url:
        slow = make_clients(slow_url)  # training lasts a minute here, so the stop lands mid-training
        slow.personalize.meta.events.register("after-call", record)
        slow_arns = create_group_with_data(
            slow, bucket=bucket, name=unique("stop"), interactions=interactions_csv()
        )
        slow_solution = slow.personalize.create_solution(
            name=unique("stop"), datasetGroupArn=slow_arns["group"], recipeArn=RECIPE + "aws-popularity-count"
        )["solutionArn"]
        wait_for(slow.personalize.describe_solution, "solution", solutionArn=slow_solution)
        stopped = slow.personalize.create_solution_version(solutionArn=slow_solution, name=name)[
            "solutionVersionArn"
        ]
        wait_for(
            slow.personalize.describe_solution_version,
            "solutionVersion",
            until=("CREATE IN_PROGRESS",),
            solutionVersionArn=stopped,
        )
        slow.personalize.stop_solution_version_creation(solutionVersionArn=stopped)
        assert (
            wait_for(
                slow.personalize.describe_solution_version,
                "solutionVersion",
                timeout=20,
                solutionVersionArn=stopped,
            )["status"]
            == "CREATE STOPPED"
        )
    batch = p.create_batch_inference_job(
        jobName=name,
        solutionVersionArn=version,
        roleArn=ROLE,
        jobInput={"s3DataSource": {"path": f"s3://{bucket}/{name}/in.json"}},
        jobOutput={"s3DataDestination": {"path": f"s3://{bucket}/{name}/out/"}},
    )["batchInferenceJobArn"]
    p.list_batch_inference_jobs(solutionVersionArn=version)
    wait_for(p.describe_batch_inference_job, "batchInferenceJob", batchInferenceJobArn=batch)
    segmenter = p.create_solution(
        name=unique("conform-affinity"), datasetGroupArn=group, recipeArn=RECIPE + "aws-item-affinity"
    )["solutionArn"]
    wait_for(p.describe_solution, "solution", solutionArn=segmenter)
    affinity = p.create_solution_version(solutionArn=segmenter)["solutionVersionArn"]
    wait_for(p.describe_solution_version, "solutionVersion", solutionVersionArn=affinity)
    clients.s3.put_object(Bucket=bucket, Key=f"{name}/items.json", Body=b'{"itemId": "a1"}\n')
    segments = p.create_batch_segment_job(
        jobName=name,
        solutionVersionArn=affinity,
        roleArn=ROLE,
        numResults=5,
        jobInput={"s3DataSource": {"path": f"s3://{bucket}/{name}/items.json"}},
        jobOutput={"s3DataDestination": {"path": f"s3://{bucket}/{name}/segments/"}},
    )["batchSegmentJobArn"]
    p.list_batch_segment_jobs(solutionVersionArn=affinity)
    assert wait_for(p.describe_batch_segment_job, "batchSegmentJob", batchSegmentJobArn=segments)[
        "status"
    ] == ("ACTIVE")
    vod = create_domain_group(
        clients,
        bucket=bucket,
        name=unique("conform-vod"),
        domain="VIDEO_ON_DEMAND",
        interactions=watch_csv(),
        items=videos_csv(),
    )
    recommender = p.create_recommender(
        name=name,
        datasetGroupArn=vod["group"],
        recipeArn=RECIPE + "aws-vod-top-picks",
        recommenderConfig={"enableMetadataWithRecommendations": True},
    )["recommenderArn"]
    p.list_recommenders(datasetGroupArn=vod["group"])
    drama = active_filter(p, group=vod["group"], expression='INCLUDE ItemID WHERE Items.GENRES IN ("Drama")')
    assert wait_for(p.describe_recommender, "recommender", recommenderArn=recommender)["status"] == "ACTIVE"
    runtime.get_recommendations(
        recommenderArn=recommender,
        userId="someone-new",
        numResults=5,
        promotions=[{"name": "drama", "percentPromotedItems": 40, "filterArn": drama}],
        metadataColumns={"ITEMS": ["GENRES"]},
    )
    p.update_recommender(
        recommenderArn=recommender, recommenderConfig={"minRecommendationRequestsPerSecond": 2}
    )
    wait_for(p.describe_recommender, "recommender", until=("ACTIVE",), recommenderArn=recommender)
    p.stop_recommender(recommenderArn=recommender)
    wait_for(p.describe_recommender, "recommender", until=("INACTIVE",), recommenderArn=recommender)
    p.start_recommender(recommenderArn=recommender)
    wait_for(p.describe_recommender, "recommender", until=("ACTIVE",), recommenderArn=recommender)
    p.delete_recommender(recommenderArn=recommender)
    second = p.create_campaign(name=name, solutionVersionArn=version)["campaignArn"]
    wait_for(p.describe_campaign, "campaign", campaignArn=second)
    p.delete_campaign(campaignArn=second)
    p.delete_filter(filterArn=filter_arn)
    p.delete_event_tracker(eventTrackerArn=tracker["eventTrackerArn"])
    p.delete_solution(solutionArn=solution["solutionArn"])
    p.delete_dataset(datasetArn=dataset)
    deadline = time.monotonic() + 10
    while (
        p.list_datasets(datasetGroupArn=other)["datasets"]
        or p.list_event_trackers(datasetGroupArn=other)["eventTrackers"]
        or p.list_filters(datasetGroupArn=other)["Filters"]
    ):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    p.delete_dataset_group(datasetGroupArn=other)
    p.delete_schema(schemaArn=schema)

    other_tracker = p.list_event_trackers(datasetGroupArn=group)["eventTrackers"]
    tracking = (
        p.create_event_tracker(name=unique("conform-events"), datasetGroupArn=group)
        if not other_tracker
        else None
    )
    if tracking:
        wait_for(p.describe_event_tracker, "eventTracker", eventTrackerArn=tracking["eventTrackerArn"])
        events.put_events(
            trackingId=tracking["trackingId"],
            userId="u5",
            sessionId="s",
            eventList=[{"eventType": "click", "itemId": "a9", "sentAt": time.time()}],
        )
        p.delete_event_tracker(eventTrackerArn=tracking["eventTrackerArn"])
    users_schema = p.create_schema(
        name=unique("users"),
        schema=json.dumps(
            {
                "type": "record",
                "name": "Users",
                "fields": [{"name": "USER_ID", "type": "string"}, {"name": "AGE", "type": ["null", "long"]}],
            }
        ),
    )["schemaArn"]
    users = p.create_dataset(
        name=unique("users"), schemaArn=users_schema, datasetGroupArn=group, datasetType="Users"
    )["datasetArn"]
    wait_for(p.describe_dataset, "dataset", datasetArn=users)
    events.put_users(datasetArn=users, users=[{"userId": "u1", "properties": json.dumps({"age": 33})}])

    problems = [
        f"{name}{problem}" for name, shape, parsed in responses for problem in violations(shape, parsed)
    ]
    assert problems == []
    missing = implemented_operations() - {name for name, _, _ in responses}
    assert missing == set(), f"no conformance call for {sorted(missing)}"
