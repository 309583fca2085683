from __future__ import annotations

import boto3
import pytest

from personalize_pipelines.project import Project
from tests.conftest import emptied_bucket
from tests.experiment import taste_warehouse


@pytest.fixture
def taste_project(tmp_path) -> Project:
    return Project(taste_warehouse.project(tmp_path / "project"))


@pytest.fixture
def taste_use_case(taste_project):
    return taste_project.use_case("taste")


@pytest.fixture(scope="session")
def stationary_warehouse(tmp_path_factory):
    return taste_warehouse.build(tmp_path_factory.mktemp("taste") / "stationary.duckdb")


@pytest.fixture
def s3(local_endpoint, taste_use_case):
    """The S3 API of the session's personalize-local, with the use case's bucket empty."""
    client = boto3.client("s3", endpoint_url=local_endpoint, region_name="us-east-1")
    return emptied_bucket(client, taste_use_case.s3.bucket)
