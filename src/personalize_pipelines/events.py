"""Streaming interactions to a Personalize event tracker: ids, ordering, batching, pacing, retries, watermark.

The events DAG reads interactions newer than a watermark, sends them with PutEvents and moves the
watermark only past events Personalize acknowledged:

- every interaction gets a stable ``eventId`` (:func:`event_id`, a hash of its fields), so an event
  sent again after a crash is the same event to Personalize, which keeps only the first of a given id;
- interactions are ordered by ``(timestamp, event_id)``; the watermark is the last event of that order
  below which every event was acknowledged (:class:`AckTracker`), so a batch that fails leaves the
  watermark before it, and events sharing a timestamp are never skipped;
- PutEvents takes one user/session and at most 10 events per call (:func:`batches`); calls are paced
  (:class:`RateLimiter`) and retried with exponential backoff on throttling, 5xx and connection errors
  (:func:`call_with_retry`);
- the watermark is an S3 object per event tracker, replaced with a compare-and-swap
  (:func:`write_watermark`) so two runs can never move it backwards.

Events older than the watermark that arrive late are not streamed: the next export and training see them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from personalize_pipelines.limits import MAX_EVENTS_PER_PUT, MAX_ID_LENGTH

log = logging.getLogger(__name__)

RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalServerError",
    }
)


@dataclass(frozen=True, order=True)
class Position:
    """A place in the ``(timestamp, event_id)`` order of interactions."""

    timestamp: int
    event_id: str

    def as_dict(self) -> dict[str, Any]:
        return {"timestamp": self.timestamp, "event_id": self.event_id}


@dataclass(frozen=True)
class Interaction:
    """One interaction as PutEvents sends it; ``timestamp`` in epoch seconds."""

    user_id: str
    item_id: str
    timestamp: int
    event_type: str
    event_value: float | None = None
    session_id: str | None = None

    @property
    def event_id(self) -> str:
        return event_id(self)

    @property
    def position(self) -> Position:
        return Position(self.timestamp, self.event_id)

    @property
    def session(self) -> str:
        """PutEvents requires a session; an interaction without one uses its user's id."""
        return self.session_id or self.user_id

    def as_event(self) -> dict[str, Any]:
        event: dict[str, Any] = {
            "eventId": self.event_id,
            "eventType": self.event_type,
            "itemId": self.item_id,
            "sentAt": datetime.fromtimestamp(self.timestamp, tz=UTC),
        }
        if self.event_value is not None:
            event["eventValue"] = float(self.event_value)
        return event


def event_id(interaction: Interaction) -> str:
    """A stable id: the same interaction always hashes to the same 32 hex characters."""
    value = "" if interaction.event_value is None else repr(float(interaction.event_value))
    parts = (
        interaction.user_id,
        interaction.item_id,
        str(interaction.timestamp),
        interaction.event_type,
        value,
        interaction.session_id or "",
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


@dataclass
class Normalised:
    """Interactions ready to send, and the rows that were not, counted by reason."""

    interactions: list[Interaction] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def normalise(
    rows: Iterable[Mapping[str, Any]],
    *,
    event_types: Mapping[str, str],
    millisecond_threshold: float = 1e11,
    after: Position | None = None,
    into: Normalised | None = None,
) -> Normalised:
    """Warehouse rows (user_id, item_id, event_ts, event_type[, event_value, session_id]) → interactions.

    Ids are trimmed; timestamps above ``millisecond_threshold`` are milliseconds and are converted; raw
    event types are mapped case- and whitespace-insensitively through ``event_types``. Rows at or before
    ``after`` are left out (counted as ``not_after_watermark``); every other row left out is counted by reason.
    """
    result = into if into is not None else Normalised()
    for row in rows:
        user = str(row.get("user_id") or "").strip()
        item = str(row.get("item_id") or "").strip()
        if not user:
            result.skip("missing_user_id")
            continue
        if not item:
            result.skip("missing_item_id")
            continue
        if len(user) > MAX_ID_LENGTH or len(item) > MAX_ID_LENGTH:
            result.skip("id_too_long")
            continue
        raw_ts = row.get("event_ts")
        try:
            ts = float(raw_ts)
        except (TypeError, ValueError):
            result.skip("invalid_timestamp")
            continue
        if ts > millisecond_threshold:
            ts /= 1000
        if ts <= 0:
            result.skip("invalid_timestamp")
            continue
        raw_type = str(row.get("event_type") or "").strip().lower()
        if not raw_type:
            result.skip("missing_event_type")
            continue
        mapped = event_types.get(raw_type)
        if mapped is None:
            result.skip("unknown_event_type")
            continue
        value = row.get("event_value")
        session = row.get("session_id")
        interaction = Interaction(
            user_id=user,
            item_id=item,
            timestamp=int(ts),
            event_type=mapped,
            event_value=None if value is None else float(value),
            session_id=str(session).strip() or None if session is not None else None,
        )
        if after is not None and interaction.position <= after:
            result.skip("not_after_watermark")
            continue
        result.interactions.append(interaction)
    return result


def batches(
    interactions: Sequence[Interaction], *, size: int = MAX_EVENTS_PER_PUT
) -> list[list[Interaction]]:
    """PutEvents calls: each holds one user and session and at most ``size`` events, in time order.

    Calls are ordered by their earliest event, so the acknowledged prefix (and the watermark) grows
    steadily as calls complete.
    """
    if not 1 <= size <= MAX_EVENTS_PER_PUT:
        raise ValueError(f"PutEvents takes 1 to {MAX_EVENTS_PER_PUT} events per call, not {size}")
    groups: dict[tuple[str, str], list[Interaction]] = {}
    for interaction in sorted(interactions, key=lambda i: i.position):
        groups.setdefault((interaction.user_id, interaction.session), []).append(interaction)
    calls = [
        events[start : start + size] for events in groups.values() for start in range(0, len(events), size)
    ]
    return sorted(calls, key=lambda call: call[0].position)


class AckTracker:
    """The watermark: the last position, in global order, up to which every event is acknowledged."""

    def __init__(self, interactions: Sequence[Interaction], *, start: Position | None) -> None:
        self._order = sorted(i.position for i in interactions)
        self._acked: set[Position] = set()
        self._next = 0
        self.watermark = start

    def ack(self, events: Iterable[Interaction]) -> Position | None:
        self._acked.update(e.position for e in events)
        while self._next < len(self._order) and self._order[self._next] in self._acked:
            self.watermark = self._order[self._next]
            self._next += 1
        return self.watermark


class RateLimiter:
    """At most ``calls_per_second`` calls, evenly spaced."""

    def __init__(
        self,
        calls_per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if calls_per_second <= 0:
            raise ValueError(f"calls_per_second must be > 0, got {calls_per_second}")
        self.interval = 1.0 / calls_per_second
        self._clock, self._sleep = clock, sleep
        self._next_at: float | None = None

    def wait(self) -> None:
        now = self._clock()
        if self._next_at is not None and now < self._next_at:
            self._sleep(self._next_at - now)
            now = self._next_at
        self._next_at = now + self.interval


def is_retryable(error: BaseException) -> bool:
    """Throttling, server errors and dropped connections are worth another try; bad requests are not."""
    if isinstance(error, EndpointConnectionError | ConnectionClosedError | ReadTimeoutError):
        return True
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return code in RETRYABLE_CODES or int(status) >= 500 or int(status) == 429
    return False


def call_with_retry(
    call: Callable[[], Any],
    *,
    max_attempts: int,
    base_delay: float = 0.2,
    max_delay: float = 20.0,
    sleep: Callable[[float], None] = time.sleep,
    what: str = "PutEvents",
) -> int:
    """Run ``call`` until it succeeds; return the number of retries it took.

    Waits ``base_delay * 2**n`` (capped at ``max_delay``) after the n-th retryable failure; a failure
    that is not retryable, or the last attempt's, is raised. ``what`` names the call in the log.
    """
    for attempt in range(1, max_attempts + 1):
        try:
            call()
            return attempt - 1
        except Exception as error:
            if attempt == max_attempts or not is_retryable(error):
                raise
            delay = min(max_delay, base_delay * 2 ** (attempt - 1))
            log.info("%s attempt %d failed (%s); retrying in %.2fs", what, attempt, error, delay)
            sleep(delay)
    raise AssertionError("unreachable")


@dataclass
class StreamReport:
    """What one streaming run did."""

    events_sent: int = 0
    calls: int = 0
    retries: int = 0
    watermark: Position | None = None
    checkpoints: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "events_sent": self.events_sent,
            "calls": self.calls,
            "retries": self.retries,
            "checkpoints": self.checkpoints,
            "watermark": self.watermark.as_dict() if self.watermark else None,
        }


def stream(
    interactions: Sequence[Interaction],
    *,
    put_events: Callable[..., Any],
    tracking_id: str,
    start: Position | None,
    checkpoint: Callable[[Position], None],
    calls_per_second: float,
    max_attempts: int,
    checkpoint_calls: int = 20,
    base_delay: float = 0.2,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> StreamReport:
    """Send every interaction with PutEvents and checkpoint the watermark as calls are acknowledged.

    ``checkpoint(position)`` is called every ``checkpoint_calls`` acknowledged calls, at the end, and —
    when a call fails for good — with the last position acknowledged before it, then the error is raised.

    :param put_events: ``personalize-events`` client's ``put_events``.
    :param start: the watermark the interactions were read after.
    """
    tracker = AckTracker(interactions, start=start)
    limiter = RateLimiter(calls_per_second, clock=clock, sleep=sleep)
    report = StreamReport(watermark=start)
    saved = start

    def save() -> None:
        nonlocal saved
        if report.watermark is not None and report.watermark != saved:
            checkpoint(report.watermark)
            saved = report.watermark
            report.checkpoints += 1

    try:
        for call in batches(interactions):
            request = {
                "trackingId": tracking_id,
                "userId": call[0].user_id,
                "sessionId": call[0].session,
                "eventList": [i.as_event() for i in call],
            }
            limiter.wait()
            report.retries += call_with_retry(
                lambda request=request: put_events(**request),
                max_attempts=max_attempts,
                base_delay=base_delay,
                sleep=sleep,
            )
            report.calls += 1
            report.events_sent += len(call)
            report.watermark = tracker.ack(call)
            if report.calls % checkpoint_calls == 0:
                save()
    finally:
        save()
    return report


# --- the watermark on S3 ----------------------------------------------------------------------------


class WatermarkConflictError(RuntimeError):
    """The watermark object changed since it was read: another run moved it."""


def read_watermark(s3_client: Any, *, bucket: str, key: str) -> tuple[Position | None, str | None]:
    """(position, ETag) of the watermark object; (None, None) before the first run."""
    try:
        response = s3_client.get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            return None, None
        raise
    document = json.loads(response["Body"].read())
    try:
        return Position(int(document["timestamp"]), str(document["event_id"])), response["ETag"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"s3://{bucket}/{key}: not a watermark ({{timestamp, event_id}}): {exc}") from exc


def write_watermark(
    s3_client: Any,
    *,
    bucket: str,
    key: str,
    position: Position,
    etag: str | None,
    extra: Mapping[str, Any] = {},
) -> str:
    """Replace the watermark if it is still at ``etag`` (create it when ``etag`` is None); return the new ETag.

    :raises WatermarkConflictError: when another writer changed it in between.
    """
    body = json.dumps(
        {**position.as_dict(), "updated_at": datetime.now(UTC).isoformat(), **extra}, sort_keys=True
    ).encode()
    condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
    try:
        response = s3_client.put_object(
            Bucket=bucket, Key=key, Body=body, ContentType="application/json", **condition
        )
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if exc.response.get("Error", {}).get("Code") in {
            "PreconditionFailed",
            "ConditionalRequestConflict",
        } or status in (409, 412):
            raise WatermarkConflictError(
                f"s3://{bucket}/{key} changed while this run held it; another events run is moving it"
            ) from exc
        raise
    return response["ETag"]


class S3Watermark:
    """A watermark object a streaming run checkpoints to, keeping its ETag between writes."""

    def __init__(self, s3_client: Any, *, bucket: str, key: str) -> None:
        self.s3, self.bucket, self.key = s3_client, bucket, key
        self.position, self.etag = read_watermark(s3_client, bucket=bucket, key=key)

    def save(self, position: Position, **extra: Any) -> None:
        if self.position is not None and position <= self.position:
            return
        self.etag = write_watermark(
            self.s3, bucket=self.bucket, key=self.key, position=position, etag=self.etag, extra=extra
        )
        self.position = position


def iter_rows(cursor: Any, *, batch_rows: int = 5000) -> Iterator[dict[str, Any]]:
    """Rows of an executed DB-API cursor as dicts, fetched ``batch_rows`` at a time."""
    names = [column[0] for column in cursor.description]
    while chunk := cursor.fetchmany(batch_rows):
        for values in chunk:
            yield dict(zip(names, values, strict=True))
