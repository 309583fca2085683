"""What the train DAG is before it runs: its trigger, its form, its names, and the config it refuses."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import yaml
from airflow.providers.common.compat.sdk import AirflowFailException

from tests.conftest import DAG_FILE, ROOT


@pytest.fixture(scope="module")
def shop_train():
    from tests.airflow_compat import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    return bag.dags["shop__train"]


def test_it_runs_on_each_export_version_or_by_hand_with_a_version(shop_train):
    from personalize_airflow.use_cases import export_asset, use_case

    assert list(shop_train.timetable.asset_condition.objects) == [export_asset(use_case("shop"))]
    version = shop_train.params.get_param("version")
    assert version.value is None and "latest.json" in version.description
    assert shop_train.max_active_runs == 1


def test_each_configured_solution_trains_in_its_own_group(shop_train):
    ids = set(shop_train.task_ids)
    for name in ("personalized", "popular"):
        assert {
            f"train_{name}.solution",
            f"train_{name}.solution_version",
            f"train_{name}.batch_inference",
        } <= ids
    assert {"import.import_interactions", "import.import_items", "import.import_users"} <= ids
    assert not any("holdout" in task_id and "import" in task_id for task_id in ids)
    assert shop_train.get_task("deploy.campaign").min_provisioned_tps == 1


def test_a_domain_use_case_with_recommenders_switches_them_instead_of_a_campaign(tmp_path):
    from personalize_airflow.flows import train
    from personalize_pipelines.config import load_use_case

    document = yaml.safe_load((ROOT / "include/config/movies.yaml").read_text())
    document["training"]["solutions"] = [{"name": "personalized", "recipe": "aws-user-personalization-v2"}]
    path = tmp_path / "movies.yaml"
    path.write_text(yaml.safe_dump(document))
    dag = train.build(load_use_case(path))
    ids = set(dag.task_ids)
    assert {f"recommender_{r}.recommender" for r in ("top-picks", "because-you-watched", "more-like")} <= ids
    assert not [task_id for task_id in ids if "campaign" in task_id]
    evaluation = dag.get_task("evaluate_recommenders")
    assert "train_personalized.batch_inference" in evaluation.upstream_task_ids  # reported beside them
    assert dag.get_task("recommender_top-picks.recommender").recommender_config == {
        "minRecommendationRequestsPerSecond": 5
    }
    assert dag.get_task("gate").downstream_task_ids == {"deploy.event_tracker", "keep_recommenders"}
    assert "top-picks" in dag.doc_md and "never serves" in dag.doc_md


def triggering_events(*extras: dict):
    """What a run triggered by export events sees as ``triggering_asset_events``."""
    from airflow.sdk.execution_time.comms import AssetEventDagRunReferenceResult
    from airflow.sdk.execution_time.context import TriggeringAssetEventsAccessor

    asset = {"name": "shop__export", "uri": "s3://personalize-demo/exports/shop", "extra": {}}
    return TriggeringAssetEventsAccessor.build(
        AssetEventDagRunReferenceResult(
            asset=asset,
            extra=extra,
            source_dag_id="shop__export",
            source_task_id="publish",
            source_run_id=f"run{index}",
            source_map_index=-1,
            source_aliases=[],
            timestamp=datetime(2026, 11, 1, index, tzinfo=UTC),
        )
        for index, extra in enumerate(extras)
    )


def test_the_version_comes_from_the_param_else_the_latest_export_event():
    from personalize_airflow.train_tasks import requested_version

    events = triggering_events(
        {"version": "v1"}, {"version": "v2", "uri": "s3://personalize-demo/exports/shop/v2/"}
    )
    assert requested_version({"version": None}, events) == "v2"
    assert requested_version({"version": " v0/ "}, events) == "v0"
    with pytest.raises(AirflowFailException, match="no 'version' param"):
        requested_version({"version": None}, triggering_events({}))


def test_names_are_deterministic_per_run_and_shared_by_a_long_lived_group():
    from personalize_airflow.use_cases import use_case
    from personalize_pipelines.training.resources import resource_names

    uc = use_case("shop")
    schemas = {
        kind: json.dumps({"type": "record", "name": kind}) for kind in ("interactions", "items", "users")
    }
    first = resource_names(uc, version="v1", run_id="r1", schemas=schemas)
    assert first == resource_names(uc, version="v1", run_id="r1", schemas=schemas)
    other_run = resource_names(uc, version="v1", run_id="r2", schemas=schemas)
    assert (
        other_run["dataset_group"] != first["dataset_group"]
        and other_run["schema__items"] == first["schema__items"]
    )
    assert all(len(name) <= 63 for name in first.values())

    live = uc.model_copy(update={"training": uc.training.model_copy(update={"dataset_group": "long_lived"})})
    a, b = (
        resource_names(live, version=v, run_id=r, schemas=schemas) for v, r in (("v1", "r1"), ("v2", "r2"))
    )
    assert a["dataset_group"] == b["dataset_group"] and a["solution__popular"] == b["solution__popular"]
    assert a["import__interactions"] != b["import__interactions"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {
                "training": {
                    "solutions": [
                        {"name": "p", "recipe": "aws-user-personalization", "training_mode": "UPDATE"}
                    ]
                }
            },
            "training_mode UPDATE needs an earlier version",
        ),
        (
            {
                "training": {
                    "solutions": [{"name": "p", "recipe": "aws-popularity-count", "event_type": "Click"}]
                }
            },
            "training.solutions.p.event_type: 'Click' is not an EVENT_TYPE",
        ),
        ({"training": {"role_arn": "personalize-role"}}, "training.role_arn"),
        (
            {"training": {"solutions": [{"name": "p", "recipe": "user-personalization"}]}},
            "must be a recipe name",
        ),
        (
            {"training": {"solutions": [{"name": "champion", "recipe": "aws-popularity-count"}]}},
            "'champion' names the serving model",
        ),
        ({"evaluation": {"metric": "accuracy"}}, "evaluation.metric"),
        ({"campaign": {"min_provisioned_tps": 0}}, "campaign.min_provisioned_tps"),
    ],
)
def test_bad_training_config_names_the_file_and_field(tmp_path, change, message):
    from personalize_pipelines.config import ConfigError, load_use_case

    document = yaml.safe_load((ROOT / "include" / "config" / "shop.yaml").read_text())
    for section, values in change.items():
        document[section] = {**document[section], **values}
    path = tmp_path / "shop.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError, match="shop.yaml") as raised:
        load_use_case(path)
    assert message in str(raised.value)
