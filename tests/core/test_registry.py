"""The model registry against a real S3 API: champion.json, append-only history, evaluation records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from personalize_pipelines import registry
from personalize_pipelines.registry import (
    ConcurrentPromotionError,
    RegistryError,
    RegistryLocation,
    evaluation_history,
    history,
    promote,
    promotion_id_for,
    read_champion,
    record_evaluation,
)
from tests.conftest import EXAMPLE

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def location(bucket) -> RegistryLocation:
    return RegistryLocation(bucket=bucket, use_case_prefix="personalize/shop")


def promote_model(s3, location, name, *, now=T0, **overrides):
    arguments = {
        "location": location,
        "solution_version_arn": f"arn:aws:personalize:us-east-1:1:solution/{name}/abc",
        "solution_arn": f"arn:aws:personalize:us-east-1:1:solution/{name}",
        "campaign_arn": "arn:aws:personalize:us-east-1:1:campaign/shop",
        "recipe": "arn:aws:personalize:::recipe/aws-user-personalization",
        "metrics": {"ndcg_at_10": 0.08},
        "export_version": "20261101T000000Z-20261101T010000-abcdef",
        "dataset_group_arn": "arn:aws:personalize:us-east-1:1:dataset-group/shop",
        "now": now,
        **overrides,
    }
    return promote(s3, **arguments)


def keys(s3, bucket, prefix):
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []))


def test_location_follows_the_use_case_config():
    use_case = EXAMPLE.use_case("shop")
    location = RegistryLocation.for_use_case(use_case)
    assert location.bucket == use_case.s3.bucket
    assert location.champion_key == f"{use_case.s3.prefix}/shop/registry/champion.json"


def test_no_champion_before_the_first_promotion(s3, location):
    assert read_champion(s3, location=location) is None
    assert history(s3, location=location) == []


def test_promotion_round_trip(s3, bucket, location):
    written = promote_model(
        s3, location, "ease", event_tracker_arn="arn:aws:personalize:us-east-1:1:event-tracker/t", run_id="r1"
    )

    champion = read_champion(s3, location=location)
    assert champion == written
    assert champion.solution_version_arn.endswith("solution/ease/abc")
    assert champion.metrics == {"ndcg_at_10": 0.08}
    assert champion.promoted_at == T0.isoformat()
    assert champion.event_tracker_arn.endswith("event-tracker/t")
    assert champion.previous_solution_version_arn is None
    assert history(s3, location=location) == [champion]
    body = json.loads(
        s3.get_object(Bucket=bucket, Key="personalize/shop/registry/champion.json")["Body"].read()
    )
    assert body["campaign_arn"] == "arn:aws:personalize:us-east-1:1:campaign/shop"


def test_history_is_append_only_and_oldest_first(s3, bucket, location):
    first = promote_model(s3, location, "ease", now=T0)
    second = promote_model(s3, location, "sims", now=T0 + timedelta(days=7))
    third = promote_model(s3, location, "ease", now=T0 + timedelta(days=14), metrics={"ndcg_at_10": 0.1})

    assert [h.promotion_id for h in history(s3, location=location)] == [
        first.promotion_id,
        second.promotion_id,
        third.promotion_id,
    ]
    assert history(s3, location=location, limit=2) == [second, third]
    assert second.previous_solution_version_arn == first.solution_version_arn
    assert read_champion(s3, location=location) == third
    assert len(keys(s3, bucket, location.history_prefix)) == 3


def test_a_history_object_is_never_overwritten(s3, bucket, location):
    entry = promote_model(s3, location, "ease")
    (key,) = keys(s3, bucket, location.history_prefix)
    before = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with pytest.raises(RegistryError, match="already exists; registry records are never overwritten"):
        registry._put_new(s3, location, key, {"tampered": True})
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == before
    assert history(s3, location=location) == [entry]


class Interfering:
    """A real S3 client that runs `before_champion_write` once, just before champion.json is written."""

    def __init__(self, client, location, before_champion_write):
        self._client, self._location, self._hook = client, location, before_champion_write

    def put_object(self, **kwargs):
        if kwargs["Key"] == self._location.champion_key and self._hook:
            hook, self._hook = self._hook, None
            hook()
        return self._client.put_object(**kwargs)

    def __getattr__(self, name):
        return getattr(self._client, name)


def test_a_concurrent_promotion_loses_instead_of_overwriting(s3, location):
    promote_model(s3, location, "ease")
    rival = Interfering(
        s3, location, lambda: promote_model(s3, location, "rival", now=T0 + timedelta(hours=1))
    )

    with pytest.raises(ConcurrentPromotionError, match="another promotion won"):
        promote_model(rival, location, "sims", now=T0 + timedelta(hours=2))

    assert read_champion(s3, location=location).solution_arn.endswith("solution/rival")


def test_the_first_champion_cannot_be_written_twice_by_racing_runs(s3, location):
    rival = Interfering(s3, location, lambda: promote_model(s3, location, "rival"))
    with pytest.raises(ConcurrentPromotionError):
        promote_model(rival, location, "sims")
    assert read_champion(s3, location=location).solution_arn.endswith("solution/rival")


class Crashing(Interfering):
    def __init__(self, client, location):
        def crash():
            raise ClientError({"Error": {"Code": "InternalError", "Message": "worker died"}}, "PutObject")

        super().__init__(client, location, crash)


def test_history_is_written_before_the_champion_and_a_retry_completes_once(s3, bucket, location):
    old = promote_model(s3, location, "ease")
    promotion_id = promotion_id_for(use_case="shop", run_id="scheduled__2026-11-08T00:00:00+00:00")

    with pytest.raises(ClientError, match="worker died"):
        promote_model(
            Crashing(s3, location), location, "sims", promotion_id=promotion_id, now=T0 + timedelta(days=7)
        )
    assert read_champion(s3, location=location) == old  # the champion still serves
    assert [h.promotion_id for h in history(s3, location=location)][-1] == promotion_id  # already in history

    retried = promote_model(
        s3, location, "sims", promotion_id=promotion_id, now=T0 + timedelta(days=7, minutes=5)
    )
    again = promote_model(
        s3, location, "sims", promotion_id=promotion_id, now=T0 + timedelta(days=7, minutes=9)
    )

    assert retried == again == read_champion(s3, location=location)
    assert retried.promoted_at == (T0 + timedelta(days=7)).isoformat()  # the entry the crashed try wrote
    assert len(keys(s3, bucket, location.history_prefix)) == 2


def test_a_promotion_id_cannot_be_reused_for_another_model(s3, location):
    promote_model(s3, location, "ease", promotion_id="run-1")
    promote_model(s3, location, "sims")
    with pytest.raises(RegistryError, match="promotion run-1 is recorded for .*solution/ease/abc"):
        promote_model(s3, location, "other", promotion_id="run-1")


def test_unsafe_promotion_ids_are_refused(s3, location):
    with pytest.raises(ValueError, match="promotion_id 'a/b'"):
        promote_model(s3, location, "ease", promotion_id="a/b")


def test_a_broken_champion_file_is_named(s3, bucket, location):
    s3.put_object(Bucket=bucket, Key=location.champion_key, Body=b'{"solution_version_arn": "x"}')
    with pytest.raises(
        RegistryError,
        match=r"s3://.*/personalize/shop/registry/champion.json: missing field\(s\) \['solution_arn'",
    ):
        read_champion(s3, location=location)
    s3.put_object(Bucket=bucket, Key=location.champion_key, Body=b"{oops")
    with pytest.raises(RegistryError, match="champion.json is not valid JSON"):
        read_champion(s3, location=location)


def test_unknown_fields_survive_a_round_trip(s3, bucket, location):
    entry = promote_model(s3, location, "ease").as_dict()
    s3.put_object(
        Bucket=bucket, Key=location.champion_key, Body=json.dumps({**entry, "owner": "growth-team"}).encode()
    )
    assert read_champion(s3, location=location).extra == {"owner": "growth-team"}


def test_evaluation_records_are_kept_oldest_first(s3, location):
    reports = [
        {"created_at": (T0 + timedelta(days=d)).isoformat(), "export_version": f"v{d}"} for d in (0, 7, 14)
    ]
    for report in reversed(reports):
        record_evaluation(s3, location=location, report=report)
    assert evaluation_history(s3, location=location) == reports
    assert evaluation_history(s3, location=location, limit=2) == reports[1:]
    assert evaluation_history(s3, location=location, limit=0) == []


def test_recording_an_evaluation_twice_with_its_id_writes_it_once(s3, bucket, location):
    report = {"created_at": T0.isoformat(), "export_version": "v1"}
    first = record_evaluation(s3, location=location, report=report, evaluation_id="run-1")
    second = record_evaluation(
        s3,
        location=location,
        report={**report, "created_at": (T0 + timedelta(minutes=3)).isoformat()},
        evaluation_id="run-1",
    )
    assert first == second
    assert keys(s3, bucket, location.evaluations_prefix) == [first]
