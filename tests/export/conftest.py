from __future__ import annotations

import shutil
from pathlib import Path

import boto3
import pytest

from tests.conftest import EXAMPLE, emptied_bucket, free_port
from tests.export import shop_fixture

UNFILTERED_CLICKSTREAM = """
SELECT customer_id AS user_id, product_id AS item_id, event_ts, event_type FROM clickstream
"""


@pytest.fixture
def sql_root(tmp_path) -> Path:
    """The shop SQL, with the clickstream unfiltered so every timestamp rule sees its rows."""
    root = tmp_path / "sql"
    shutil.copytree(EXAMPLE.sql_dir, root)
    (root / "shop" / "clickstream.sql").write_text(UNFILTERED_CLICKSTREAM)
    return root


@pytest.fixture
def tiny_warehouse(tmp_path) -> Path:
    return shop_fixture.build(tmp_path / "tiny.duckdb")


@pytest.fixture
def shop_use_case():
    return EXAMPLE.use_case("shop")


@pytest.fixture(scope="session")
def s3_endpoint(local_endpoint):
    """The S3 API of personalize-local, the project's offline endpoint, on loopback."""
    return local_endpoint


@pytest.fixture
def s3(s3_endpoint, shop_use_case):
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    return emptied_bucket(client, shop_use_case.s3.bucket)


@pytest.fixture
def pg_warehouse(pg_server, tiny_warehouse):
    """The tiny shop copied into a fresh Postgres database; yields Airflow connection fields."""
    import psycopg2

    from personalize_pipelines.warehouse.postgres_copy import copy_to_postgres

    name = f"personalize_test_{free_port()}"
    admin = psycopg2.connect(
        host=pg_server["host"], port=pg_server["port"], user=pg_server["user"], dbname="postgres"
    )
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
    dsn = f"host={pg_server['host']} port={pg_server['port']} user={pg_server['user']} dbname={name}"
    copy_to_postgres(duckdb_path=tiny_warehouse, dsn=dsn)
    yield {"host": pg_server["host"], "port": pg_server["port"], "login": pg_server["user"], "schema": name}
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.close()
