"""Event streaming: stable ids, ≤ 10 events per call, a watermark that moves only past acknowledged events,
and shop__events end to end (stream, then nothing new, then an INCREMENTAL import for a catch-up)."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import duckdb
import pytest
from botocore.exceptions import ClientError

from personalize_pipelines.events import (
    AckTracker,
    Interaction,
    Position,
    S3Watermark,
    batches,
    normalise,
    stream,
)
from tests.serving.conftest import (
    EXPORT_WINDOW_END,
    RUN_AT,
    connect,
    load_dag,
    task_states,
    use_test_config,
    xcom,
)

SHOP_TYPES = {"view": "View", "add_to_cart": "AddToCart", "purchase": "Purchase"}


def pending_in_warehouse(path) -> int:
    """Interactions after the export window, counted independently of the code under test."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return (
            con.execute(
                "SELECT count(*) FROM clickstream WHERE event_ts >= ? AND event_ts < 1e11 "
                "AND trim(coalesce(customer_id, '')) <> '' AND product_id IS NOT NULL "
                "AND lower(trim(event_type)) IN ('view', 'add_to_cart')",
                [int(EXPORT_WINDOW_END.timestamp())],
            ).fetchone()[0]
            + con.execute(
                "SELECT count(*) FROM orders o JOIN order_items i USING (order_id) "
                "WHERE status = 'completed' AND ordered_at >= ?",
                [EXPORT_WINDOW_END.replace(tzinfo=None)],
            ).fetchone()[0]
        )
    finally:
        con.close()


def interactions(users: int, per_user: int, *, start: int = 1_790_000_000) -> list[Interaction]:
    """Users' events interleaved in time, several sharing a timestamp."""
    return [
        Interaction(
            user_id=f"u{u:03d}",
            item_id=f"p{(u + k) % 50:03d}",
            timestamp=start + k * 10 + (u % 2),
            event_type="View",
        )
        for k in range(per_user)
        for u in range(users)
    ]


def test_event_ids_are_stable_and_tell_interactions_apart():
    a = Interaction(user_id="u1", item_id="p1", timestamp=100, event_type="View", event_value=2.0)
    assert (
        a.event_id
        == Interaction(user_id="u1", item_id="p1", timestamp=100, event_type="View", event_value=2).event_id
    )
    others = [
        Interaction(user_id="u1", item_id="p1", timestamp=101, event_type="View", event_value=2.0),
        Interaction(user_id="u1", item_id="p2", timestamp=100, event_type="View", event_value=2.0),
        Interaction(user_id="u1", item_id="p1", timestamp=100, event_type="Purchase", event_value=2.0),
        Interaction(user_id="u1", item_id="p1", timestamp=100, event_type="View"),
    ]
    assert len({a.event_id, *(o.event_id for o in others)}) == 5


def test_rows_are_normalised_and_every_skip_is_counted():
    rows = [
        {"user_id": " u1 ", "item_id": "p1", "event_ts": 1_790_000_000_000, "event_type": " VIEW"},
        {"user_id": None, "item_id": "p1", "event_ts": 1_790_000_000, "event_type": "view"},
        {"user_id": "u1", "item_id": "", "event_ts": 1_790_000_000, "event_type": "view"},
        {"user_id": "u1", "item_id": "p1", "event_ts": "soon", "event_type": "view"},
        {"user_id": "u1", "item_id": "p1", "event_ts": 1_790_000_000, "event_type": "wishlist"},
        {"user_id": "u1", "item_id": "p1", "event_ts": 1_790_000_000, "event_type": " "},
        {"user_id": "u1", "item_id": "p1", "event_ts": 1_700_000_000, "event_type": "view"},
    ]
    result = normalise(rows, event_types=SHOP_TYPES, after=Position(1_780_000_000, ""))
    assert [(i.user_id, i.timestamp, i.event_type) for i in result.interactions] == [
        ("u1", 1_790_000_000, "View")
    ]
    assert result.skipped == {
        "missing_user_id": 1,
        "missing_item_id": 1,
        "invalid_timestamp": 1,
        "missing_event_type": 1,
        "unknown_event_type": 1,
        "not_after_watermark": 1,
    }


def test_calls_hold_one_user_and_at_most_ten_events_in_time_order():
    events = interactions(users=3, per_user=25)
    calls = batches(events)
    assert all(1 <= len(call) <= 10 and len({i.user_id for i in call}) == 1 for call in calls)
    assert sorted(i.event_id for call in calls for i in call) == sorted(i.event_id for i in events)
    assert [call[0].position for call in calls] == sorted(call[0].position for call in calls)


def test_the_watermark_is_the_end_of_the_acknowledged_prefix():
    a, b, c = (
        Interaction(user_id=u, item_id="p", timestamp=t, event_type="View")
        for u, t in (("u1", 1), ("u2", 1), ("u1", 2))
    )
    tracker = AckTracker([a, b, c], start=None)
    assert tracker.ack([c]) is None  # a and b, earlier, are not acknowledged yet
    assert tracker.ack([min(a, b, key=lambda i: i.position)]) == min(a.position, b.position)
    assert tracker.ack([a, b]) == c.position


class LostAck(RuntimeError):
    """The worker died: the call reached Personalize (or not) but this run never saw the answer."""


def test_a_failed_run_resends_exactly_the_unacknowledged_events_with_the_same_ids(world):
    events_client = boto3.client("personalize-events", endpoint_url=world.url, region_name="us-east-1")
    events = interactions(users=4, per_user=12)
    sent: list[list[str]] = []

    def put_events_then_die_on_third_call(**request):
        events_client.put_events(**request)
        sent.append([e["eventId"] for e in request["eventList"]])
        if len(sent) == 3:
            raise LostAck("worker killed after PutEvents returned")

    key = "exports/shop/events/test-resend/watermark.json"
    watermark = S3Watermark(world.s3, bucket=world.bucket, key=key)
    before = len(world.records())
    with pytest.raises(LostAck):
        stream(
            events,
            put_events=put_events_then_die_on_third_call,
            tracking_id=world.tracking_id,
            start=None,
            checkpoint=watermark.save,
            calls_per_second=100,
            max_attempts=3,
        )
    acked = {i for call in sent[:2] for i in call}
    stored = S3Watermark(world.s3, bucket=world.bucket, key=key).position
    ordered = sorted(events, key=lambda i: i.position)
    assert stored is not None and {i.event_id for i in ordered if i.position <= stored} <= acked
    assert ordered[ordered.index(next(i for i in ordered if i.position == stored)) + 1].event_id not in acked

    resent: list[list[str]] = []
    remaining = [i for i in events if i.position > stored]
    report = stream(
        remaining,
        put_events=lambda **r: (
            events_client.put_events(**r),
            resent.append([e["eventId"] for e in r["eventList"]]),
        ),
        tracking_id=world.tracking_id,
        start=stored,
        checkpoint=S3Watermark(world.s3, bucket=world.bucket, key=key).save,
        calls_per_second=100,
        max_attempts=3,
    )
    resent_ids = {i for call in resent for i in call}
    assert set(sent[2]) <= resent_ids  # the call whose answer was lost goes again, with the same eventIds
    assert resent_ids | acked == {i.event_id for i in events}
    assert report.watermark == max(i.position for i in events)
    assert S3Watermark(world.s3, bucket=world.bucket, key=key).position == report.watermark
    assert len(resent_ids) == sum(len(call) for call in resent)  # no event twice within a run
    # nothing lost; an event sent twice carries one eventId, which Personalize counts once
    # (personalize-local records both copies, so the comparison is by content)
    new = world.records()[before:]
    assert {(r["USER_ID"], r["ITEM_ID"], r["TIMESTAMP"]) for r in new} == {
        (i.user_id, i.item_id, i.timestamp) for i in events
    }


def test_retries_throttling_with_backoff_and_gives_up_on_bad_requests():
    from personalize_pipelines.events import call_with_retry

    def throttled(times):
        state = {"left": times}

        def call():
            if state["left"]:
                state["left"] -= 1
                raise ClientError(
                    {"Error": {"Code": "ThrottlingException"}, "ResponseMetadata": {"HTTPStatusCode": 400}},
                    "PutEvents",
                )

        return call

    delays: list[float] = []
    assert call_with_retry(throttled(3), max_attempts=5, base_delay=0.1, sleep=delays.append) == 3
    assert delays == [0.1, 0.2, 0.4]
    with pytest.raises(ClientError):
        call_with_retry(throttled(5), max_attempts=5, sleep=delays.append)
    invalid = ClientError(
        {"Error": {"Code": "InvalidInputException"}, "ResponseMetadata": {"HTTPStatusCode": 400}}, "PutEvents"
    )
    calls = []
    with pytest.raises(ClientError):
        call_with_retry(
            lambda: calls.append(1) or (_ for _ in ()).throw(invalid), max_attempts=5, sleep=delays.append
        )
    assert calls == [1]


@pytest.fixture
def events_dag(world, monkeypatch, tmp_path, airflow_db):
    def load(**events):
        use_test_config(monkeypatch, tmp_path, bucket=world.bucket, events=events)
        connect(monkeypatch, world)
        return load_dag("shop__events")

    return load


def _watermark(world):
    key = f"exports/shop/events/{world.tracker.rsplit('/', 1)[-1]}/watermark.json"
    return key, S3Watermark(world.s3, bucket=world.bucket, key=key).position


def _recent(records):
    return [r for r in records if r["TIMESTAMP"] >= EXPORT_WINDOW_END.timestamp()]


def test_events_dag_streams_what_is_new_once_then_imports_a_catch_up(world, events_dag):
    expected = pending_in_warehouse(world.warehouse)
    assert expected > 10
    before = _recent(world.records())
    dag = events_dag()
    run = dag.test(logical_date=RUN_AT)
    states = task_states(run)
    assert run.state == "success", states
    assert states["stream_events"] == "success" and states["stage_import"] == "skipped"
    report = xcom(run, "stream_events")
    assert report["events_sent"] == expected and report["calls"] >= expected / 10
    recorded = _recent(world.records())
    assert len(recorded) - len(before) == expected
    assert {r["EVENT_TYPE"] for r in recorded} <= {"View", "AddToCart", "Purchase"}
    key, position = _watermark(world)
    assert position is not None and position.as_dict() == report["watermark"]
    assert datetime.fromtimestamp(position.timestamp, tz=UTC) > EXPORT_WINDOW_END

    again = dag.test(logical_date=RUN_AT.replace(minute=10))
    assert again.state == "success"
    assert xcom(again, "plan")["mode"] == "idle"
    assert len(_recent(world.records())) == len(recorded)  # nothing sent twice

    world.s3.delete_object(Bucket=world.bucket, Key=key)  # a catch-up from the export window end again
    bulk = world.bulk_rows()
    catch_up = events_dag(import_threshold=10).test(logical_date=RUN_AT.replace(minute=20))
    states = task_states(catch_up)
    assert catch_up.state == "success", states
    assert states["stream_events"] == "skipped" and states["import_interactions"] == "success"
    assert world.bulk_rows() - bulk == expected
    assert _watermark(world)[1] == position
    job = world.personalize.describe_dataset_import_job(
        datasetImportJobArn=xcom(catch_up, "import_interactions")
    )["datasetImportJob"]
    assert job["importMode"] == "INCREMENTAL" and job["status"] == "ACTIVE"


def test_calls_are_paced_to_the_configured_rate():
    from personalize_pipelines.events import RateLimiter

    now = [100.0]
    slept: list[float] = []

    def sleep(seconds):
        slept.append(round(seconds, 6))
        now[0] += seconds

    limiter = RateLimiter(4, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        limiter.wait()
    now[0] += 1.0  # a slow call: no wait after it
    limiter.wait()
    assert slept == [0.25, 0.25]


def test_server_errors_and_dropped_connections_are_retried():
    from botocore.exceptions import EndpointConnectionError

    from personalize_pipelines.events import is_retryable

    server = ClientError(
        {"Error": {"Code": "InternalFailure"}, "ResponseMetadata": {"HTTPStatusCode": 500}}, "x"
    )
    gateway = ClientError({"Error": {"Code": "BadGateway"}, "ResponseMetadata": {"HTTPStatusCode": 502}}, "x")
    assert is_retryable(server) and is_retryable(gateway)
    assert is_retryable(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"))
    assert not is_retryable(ValueError("bad"))
