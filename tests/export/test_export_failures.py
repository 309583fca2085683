"""The export's failures a new user meets first: wrong SQL fails once, before any work, naming the use case,
the source and its file; a failed extraction leaves no staging behind."""

from __future__ import annotations

import json
import shutil

import pytest

from personalize_pipelines.cleaning import StagingNames
from personalize_pipelines.engines import DuckDBEngine
from personalize_pipelines.export import ExportContext, ExportQueryError, stage
from personalize_pipelines.project import Project
from personalize_pipelines.windows import sliding_window
from tests.conftest import DAG_FILE, EXAMPLE
from tests.export import shop_fixture

WRONG_COLUMN = "SELECT customer_id AS customer, product_id AS item_id, event_ts, event_type FROM clickstream"
UNKNOWN_COLUMN = "SELECT customer_id AS user_id, product AS item_id, event_ts, event_type FROM clickstream"


def items_failing_on_rows() -> str:
    """The shop's items query with a cast that compiles and then fails on the rows: items are staged after
    the interactions, so the failure comes when staged tables exist."""
    sql = (EXAMPLE.sql_dir / "shop" / "items.sql").read_text()
    assert "category                                     AS category" in sql
    return sql.replace(
        "category                                     AS category", "CAST(category AS INTEGER) AS category"
    )


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the example project the DAGs read, its SQL editable."""
    root = tmp_path / "project"
    shutil.copytree(EXAMPLE.include, root / "include")
    monkeypatch.setenv("AIRFLOW__PERSONALIZE__PROJECT_DIR", str(root))
    monkeypatch.setenv("AIRFLOW__PERSONALIZE__RETRY_DELAY_SECONDS", "1")
    return Project(root)


def staged_error(project, warehouse, tmp_path) -> str:
    uc = project.use_case("shop")
    engine = DuckDBEngine(database=warehouse, staging_path=tmp_path / "staging" / "run.duckdb")
    ctx = ExportContext(
        use_case=uc,
        window=sliding_window(shop_fixture.WINDOW_END, months=6),
        names=StagingNames(engine.qualifier, "t"),
    )
    try:
        with pytest.raises(ExportQueryError) as err:
            stage(engine, ctx)
    finally:
        engine.close()
    return str(err.value)


def test_a_wrong_column_name_names_source_file_and_both_column_lists(project, tiny_warehouse, tmp_path):
    (project.sql_dir / "shop" / "clickstream.sql").write_text(WRONG_COLUMN)
    message = staged_error(project, tiny_warehouse, tmp_path)
    assert message == (
        f"shop: source 'clickstream' ({project.sql_dir / 'shop' / 'clickstream.sql'}) returns no user_id: "
        "expected columns user_id, item_id, event_ts, event_type; "
        "the query returns customer, item_id, event_ts, event_type"
    )


def test_a_binder_error_names_source_and_file(project, tiny_warehouse, tmp_path):
    (project.sql_dir / "shop" / "clickstream.sql").write_text(UNKNOWN_COLUMN)
    message = staged_error(project, tiny_warehouse, tmp_path)
    assert message.startswith(
        f"shop: source 'clickstream' ({project.sql_dir / 'shop' / 'clickstream.sql'}): the warehouse refuses"
    )
    assert '"product"' in message


def run_export(tiny_warehouse, s3_endpoint, monkeypatch):
    from tests.airflow_compat import DagBag

    monkeypatch.setenv(
        "AIRFLOW_CONN_WAREHOUSE", json.dumps({"conn_type": "duckdb", "host": str(tiny_warehouse)})
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT",
        json.dumps({"conn_type": "aws", "extra": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"}}),
    )
    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    run = bag.dags["shop__export"].test(logical_date=shop_fixture.WINDOW_END)
    return {ti.task_id: (ti.state, ti.try_number) for ti in run.get_task_instances()}


def staging_files(tiny_warehouse) -> list[str]:
    return sorted(p.name for p in (tiny_warehouse.parent / ".personalize-staging").glob("*.duckdb"))


def test_wrong_sql_fails_the_run_on_its_first_try_and_stages_nothing(
    airflow_db, project, tiny_warehouse, s3_endpoint, s3, monkeypatch
):
    (project.sql_dir / "shop" / "clickstream.sql").write_text(WRONG_COLUMN)
    states = run_export(tiny_warehouse, s3_endpoint, monkeypatch)
    assert states["extract_and_clean"] == ("failed", 1)
    assert staging_files(tiny_warehouse) == []


def test_a_failure_after_staging_began_leaves_no_staging(
    airflow_db, project, tiny_warehouse, s3_endpoint, s3, monkeypatch
):
    (project.sql_dir / "shop" / "items.sql").write_text(items_failing_on_rows())
    assert staged_error(project, tiny_warehouse, tiny_warehouse.parent / "core").startswith(
        f"shop: items ({project.sql_dir / 'shop' / 'items.sql'}) failed: Conversion Error"
    )
    states = run_export(tiny_warehouse, s3_endpoint, monkeypatch)
    assert states["extract_and_clean"] == ("failed", 1)
    assert states["publish"][0] == "upstream_failed"
    assert staging_files(tiny_warehouse) == []


def test_a_missing_bucket_fails_before_extraction_naming_bucket_and_connection(
    airflow_db, project, tiny_warehouse, s3_endpoint, s3, monkeypatch
):
    import boto3

    from personalize_pipelines.layout import UseCaseLayout
    from personalize_pipelines.publish import BucketNotWritableError, check_writable

    config = project.config_dir / "shop.yaml"
    config.write_text(config.read_text().replace("bucket: personalize-demo", "bucket: no-such-bucket-here"))
    layout = UseCaseLayout.for_use_case(project.use_case("shop"))
    with pytest.raises(BucketNotWritableError) as err:
        check_writable(
            boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1"),
            layout,
            run_key="r1",
            conn_id="aws_default",
        )
    assert err.value.final
    assert str(err.value).startswith(
        "bucket 'no-such-bucket-here' does not take the export's writes through connection 'aws_default': "
        "NoSuchBucket"
    )

    states = run_export(tiny_warehouse, s3_endpoint, monkeypatch)
    assert states["extract_and_clean"] == ("failed", 1)
    assert staging_files(tiny_warehouse) == []


def test_the_write_check_leaves_nothing_in_the_bucket(exported_prefix_objects):
    assert not [key for key in exported_prefix_objects if ".write-check" in key]


@pytest.fixture
def exported_prefix_objects(airflow_db, project, tiny_warehouse, s3_endpoint, s3, monkeypatch):
    states = run_export(tiny_warehouse, s3_endpoint, monkeypatch)
    assert states["publish"][0] == "success", states
    listed = s3.get_paginator("list_objects_v2").paginate(Bucket="personalize-demo", Prefix="exports/shop/")
    return [obj["Key"] for page in listed for obj in page.get("Contents", [])]


def test_an_int32_overflow_names_the_source_whose_rows_overflow(project, tiny_warehouse, tmp_path):
    """`start_epoch * 1000` compiles, then overflows DuckDB's INTEGER on the rows: the error names the source
    that overflows, not just the step (window.start_epoch_ms is the fix)."""
    clicks = project.sql_dir / "shop" / "clickstream.sql"
    clicks.write_text(
        clicks.read_text().replace(
            "{{ window.start_epoch }}", "CAST({{ window.start_epoch }} AS INTEGER) * 1000"
        )
    )
    message = staged_error(project, tiny_warehouse, tmp_path)
    assert message.startswith(
        f"shop: extract and classify sources failed on the rows of source 'clickstream' ({clicks}): "
    )
    assert "Overflow" in message
