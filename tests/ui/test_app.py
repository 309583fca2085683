"""The Personalize page's FastAPI app, with FastAPI's TestClient, over a real S3 API."""

from __future__ import annotations

import pytest
import yaml
from airflow.api_fastapi.core_api.security import get_user
from fastapi.testclient import TestClient

from personalize_airflow.ui import PersonalizePageApp, page_url
from personalize_airflow.ui.app import create_app
from personalize_pipelines.config import load_use_case
from tests.conftest import EXAMPLE
from tests.ui.seed import seed


@pytest.fixture
def shop(tmp_path, bucket):
    document = yaml.safe_load((EXAMPLE.config_dir / "shop.yaml").read_text())
    document["s3"]["bucket"] = bucket
    path = tmp_path / "shop.yaml"
    path.write_text(yaml.safe_dump(document))
    return load_use_case(path, sql_root=EXAMPLE.sql_dir)


def client_for(shop, s3, *, readable=lambda user, dag_id: True, user="alice") -> TestClient:
    app = create_app(use_cases=lambda: [shop], s3_client=lambda uc: s3, authorize=readable)
    if user is not None:
        app.dependency_overrides[get_user] = lambda: user
    return TestClient(app)


def test_the_index_lists_the_use_cases(shop, s3):
    response = client_for(shop, s3).get("/")
    assert response.status_code == 200
    assert 'href="use-cases/shop"' in response.text
    assert "shop__train" in response.text


def test_the_use_case_page_shows_versions_champion_and_history(shop, s3, bucket):
    seeded = seed(s3, bucket=bucket, prefix=shop.s3_prefix)
    page = client_for(shop, s3).get("/use-cases/shop").text

    assert page.index(seeded.new) < page.index(seeded.old)
    assert seeded.champion_arn in page
    assert "bot_user 120" in page and "items.blank_id 3" in page
    assert "passed" in page and "failed" in page
    assert f'href="shop/versions/{seeded.new}/evaluations/{seeded.run_key}"' in page
    assert page.count("<tr>") >= 1 + 2 + 1 + 2  # versions, history and their headers


def test_the_evaluation_page_is_served_from_s3(shop, s3, bucket):
    seeded = seed(s3, bucket=bucket, prefix=shop.s3_prefix)
    client = client_for(shop, s3)
    response = client.get(f"/use-cases/shop/versions/{seeded.new}/evaluations/{seeded.run_key}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<svg" in response.text
    assert (
        client.get(f"/use-cases/shop/versions/{seeded.old}/evaluations/{seeded.run_key}").status_code == 404
    )
    assert client.get("/use-cases/shop/versions/../evaluations/x").status_code == 404


def test_a_page_without_champion_or_versions(shop, s3):
    page = client_for(shop, s3).get("/use-cases/shop").text
    assert "No champion yet" in page and "no published version yet" in page


def test_without_airflow_credentials_nothing_is_shown(shop, s3):
    client = client_for(shop, s3, user=None)
    assert client.get("/").status_code == 401
    assert client.get("/use-cases/shop").status_code == 401


def test_a_user_who_may_not_read_the_use_case_dags_does_not_see_it(shop, s3):
    client = client_for(shop, s3, readable=lambda user, dag_id: dag_id != "shop__export")
    assert "use-cases/shop" not in client.get("/").text
    assert client.get("/use-cases/shop").status_code == 404
    assert client.get("/use-cases/nope").status_code == 404


def test_the_page_url_under_the_api_base_url():
    assert page_url("shop") == "/personalize/use-cases/shop"
    assert page_url("shop", base_url="https://airflow.example.com/") == (
        "https://airflow.example.com/personalize/use-cases/shop"
    )


def test_the_plugin_builds_the_app_on_its_first_request(shop, s3):
    built = []

    def factory():
        built.append(client_for(shop, s3).app)
        return built[-1]

    mounted = PersonalizePageApp(factory)
    assert built == []
    client = TestClient(mounted)
    assert client.get("/").status_code == 200
    assert client.get("/use-cases/shop").status_code == 200
    assert len(built) == 1


def test_a_champion_serving_through_recommenders_lists_each_of_them(shop, s3, bucket):
    from personalize_pipelines.layout import UseCaseLayout
    from personalize_pipelines.registry import promote

    recommenders = {
        name: f"arn:aws:personalize:us-east-1:123456789012:recommender/shop-{name}-0123456789ab"
        for name in ("top-picks", "most-popular")
    }
    promote(
        s3,
        location=UseCaseLayout.for_use_case(shop).registry,
        recipe="aws-vod-top-picks",
        metrics={"ndcg_at_10": 0.08},
        export_version="v1",
        dataset_group_arn="arn:aws:personalize:us-east-1:123456789012:dataset-group/shop-run-1",
        recommender_arn=recommenders["top-picks"],
        recommenders=recommenders,
    )
    page = client_for(shop, s3).get("/use-cases/shop").text
    for name, arn in recommenders.items():
        assert f"recommender {name}" in page and arn in page
    assert "<th>campaign</th>" not in page
