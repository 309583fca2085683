"""A real S3 API (moto's server on an ephemeral loopback port) and a fresh bucket per test."""

from __future__ import annotations

import uuid

import boto3
import pytest


@pytest.fixture(scope="session")
def core_s3_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(core_s3_endpoint):
    return boto3.client("s3", endpoint_url=core_s3_endpoint, region_name="us-east-1")


@pytest.fixture
def bucket(s3) -> str:
    name = f"core-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name
