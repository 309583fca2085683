"""The edge: S3, STS and IAM served by moto behind the same URL, and malformed requests answered."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlparse

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.local_endpoint.conftest import unique

SIGNED = (
    "AWS4-HMAC-SHA256 Credential=testing/20261129/us-east-1/{service}/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0"
)


def raw(url: str, *, body: bytes, headers: dict[str, str], path: str = "/", method: str = "POST"):
    parsed = urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, response.getheader("Content-Type"), payload


def control_plane(url: str, body: bytes, *, target: str | None = "AmazonPersonalize.ListSchemas"):
    headers = {
        "Authorization": SIGNED.format(service="personalize"),
        "Content-Type": "application/x-amz-json-1.1",
    }
    if target:
        headers["X-Amz-Target"] = target
    status, content_type, payload = raw(url, body=body, headers=headers)
    return status, json.loads(payload)


def test_s3_sts_and_iam_are_served_by_moto_on_the_same_url(clients):
    bucket = unique("edge")
    clients.s3.create_bucket(Bucket=bucket)
    clients.s3.put_object(Bucket=bucket, Key="folder/a.csv", Body=b"x,y\n1,2\n")
    assert clients.s3.get_object(Bucket=bucket, Key="folder/a.csv")["Body"].read() == b"x,y\n1,2\n"
    options = {
        "endpoint_url": clients.url,
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    assert boto3.client("sts", **options).get_caller_identity()["Account"] == "123456789012"
    iam = boto3.client("iam", **options)
    role = iam.create_role(RoleName=unique("role"), AssumeRolePolicyDocument="{}")["Role"]
    assert role["Arn"].startswith("arn:aws:iam::123456789012:role/")


def test_presigned_s3_url_works(clients):
    bucket = unique("presigned")
    clients.s3.create_bucket(Bucket=bucket)
    clients.s3.put_object(Bucket=bucket, Key="k.txt", Body=b"hello")
    url = clients.s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k.txt"})
    parsed = urlparse(url)
    status, _, payload = raw(
        clients.url, body=b"", headers={}, path=f"{parsed.path}?{parsed.query}", method="GET"
    )
    assert (status, payload) == (200, b"hello")


def test_responses_carry_a_request_id(clients):
    metadata = clients.personalize.list_recipes()["ResponseMetadata"]
    assert len(metadata["RequestId"]) == 36 and metadata["HTTPStatusCode"] == 200


def test_bad_json_is_a_serialization_error(clients):
    status, body = control_plane(clients.url, b"{not json")
    assert status == 400 and body["__type"] == "SerializationException"


def test_unknown_target_names_the_operation(clients):
    status, body = control_plane(clients.url, b"{}", target="AmazonPersonalize.LaunchRocket")
    assert (
        status == 400 and body["__type"] == "UnknownOperationException" and "LaunchRocket" in body["message"]
    )


def test_missing_target_is_rejected(clients):
    status, body = control_plane(clients.url, b"{}", target=None)
    assert status == 400 and body["__type"] == "UnknownOperationException"


def test_unimplemented_operation_answers_a_clear_error(clients):
    with pytest.raises(ClientError) as raised:
        clients.personalize.list_metric_attributions()
    assert raised.value.response["Error"]["Code"] == "UnknownOperationException"
    assert "ListMetricAttributions is not implemented" in raised.value.response["Error"]["Message"]


def test_missing_required_member_is_invalid_input(clients):
    status, body = control_plane(
        clients.url, json.dumps({"name": "x"}).encode(), target="AmazonPersonalize.CreateSchema"
    )
    assert status == 400 and body["__type"] == "InvalidInputException" and "'schema'" in body["message"]


def test_wrong_member_type_is_invalid_input(clients):
    status, body = control_plane(clients.url, json.dumps({"maxResults": "many"}).encode())
    assert status == 400 and body["__type"] == "InvalidInputException" and "maxResults" in body["message"]


def test_body_that_is_not_an_object_is_invalid_input(clients):
    status, body = control_plane(clients.url, b"[1, 2]")
    assert status == 400 and body["__type"] == "InvalidInputException"


def test_unknown_runtime_path_and_unknown_service(clients):
    headers = {"Authorization": SIGNED.format(service="personalize"), "Content-Type": "application/json"}
    status, _, payload = raw(clients.url, body=b"{}", headers=headers, path="/nowhere")
    assert status == 400 and json.loads(payload)["__type"] == "UnknownOperationException"
    headers["Authorization"] = SIGNED.format(service="dynamodb")
    status, _, payload = raw(clients.url, body=b"{}", headers=headers)
    assert status == 400 and "dynamodb" in json.loads(payload)["message"]


def test_names_are_checked_against_the_model_pattern(clients):
    with pytest.raises(clients.personalize.exceptions.InvalidInputException) as raised:
        clients.personalize.create_dataset_group(name="has spaces!")
    assert "pattern" in str(raised.value)
    with pytest.raises(clients.personalize.exceptions.InvalidInputException):
        clients.personalize.create_dataset_group(name="x" * 64)
