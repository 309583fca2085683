"""The model registry: the one place applications and DAGs read which model serves a use case.

Layout under ``s3://<bucket>/<prefix>/<use_case>/registry/``:

- ``champion.json`` — the serving model (solution version, campaign, metrics, export version, ...);
- ``history/<promoted_at>-<promotion_id>.json`` — one immutable object per promotion, oldest first
  by key;
- ``evaluations/<created_at>-<evaluation_id>.json`` — every holdout evaluation report, promoted or not,
  which the evaluation page shows as past runs.

Writes are ordered so readers never see a champion the history lacks: the history object is written
first, with ``IfNoneMatch="*"`` so it can never overwrite an existing entry, then ``champion.json`` is
replaced with a compare-and-swap on the ETag read at the start (``IfMatch``; ``IfNoneMatch="*"`` for
the first champion). S3 has supported both conditional writes on PutObject since 2024, and moto's
server (personalize-local's S3) honours them. Two promotions racing therefore cannot both win: the
loser gets :class:`ConcurrentPromotionError` and its history entry stays behind as a record of a
promotion that never served (``champion.json`` is the authority on what serves). On an S3-compatible
store that ignores conditional headers the registry assumes a single writer per use case (run the train
DAG with ``max_active_runs=1``); history objects are still uniquely named there.

A promotion is idempotent by ``promotion_id``: a retry after a crash reuses the history entry it finds
and finishes the champion write, and returns the champion unchanged when it is already in place.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from personalize_pipelines.layout import RegistryLocation

_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}


class RegistryError(RuntimeError):
    """A registry object that cannot be read or written; the message names the object."""


class ConcurrentPromotionError(RegistryError):
    """champion.json changed between reading and replacing it: another promotion won."""


@dataclass(frozen=True)
class Champion:
    """The serving model of a use case, as champion.json and each history entry hold it.

    A solution's champion serves through ``campaign_arn`` (its ``solution_version_arn``); a domain use
    case's through its recommenders: ``recommender_arn`` is the one the gate judged, ``recommenders`` every
    recommender of that promotion by its configured name.
    """

    recipe: str
    metrics: dict[str, float]
    export_version: str
    promoted_at: str
    dataset_group_arn: str
    promotion_id: str
    solution_version_arn: str | None = None
    solution_arn: str | None = None
    campaign_arn: str | None = None
    recommender_arn: str | None = None
    recommenders: dict[str, str] = field(default_factory=dict)
    recommender_filters: dict[str, dict[str, str]] = field(default_factory=dict)
    event_tracker_arn: str | None = None
    tracking_id: str | None = None
    previous_solution_version_arn: str | None = None
    run_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def serving_arn(self) -> str:
        """What serves: the recommender the gate judged, else the solution version behind the campaign."""
        return self.recommender_arn or self.solution_version_arn

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, document: Any, *, source: str) -> Champion:
        """Parse a registry document; ``source`` (its S3 URI) is named in every error."""
        if not isinstance(document, dict):
            raise RegistryError(f"{source}: expected a JSON object, got {type(document).__name__}")
        known = {f.name: f for f in fields(cls)}
        required = [
            name for name, f in known.items() if f.default is MISSING and f.default_factory is MISSING
        ]
        if not document.get("recommender_arn"):  # a solution's champion
            required = ["solution_version_arn", "solution_arn", "campaign_arn", *required]
        missing = [name for name in required if document.get(name) in (None, "")]
        if missing:
            raise RegistryError(f"{source}: missing field(s) {missing}")
        if not isinstance(document["metrics"], dict):
            raise RegistryError(f"{source}: field 'metrics' must be an object")
        unknown = {k: v for k, v in document.items() if k not in known}
        values = {k: v for k, v in document.items() if k in known}
        values["extra"] = {**values.get("extra", {}), **unknown}
        return cls(**values)


def promotion_id_for(*, use_case: str, run_id: str) -> str:
    """A deterministic, key-safe promotion id for one pipeline run, so a retried promote is idempotent."""
    return hashlib.sha1(f"{use_case}/{run_id}".encode()).hexdigest()[:16]


def _is_conflict(exc: ClientError) -> bool:
    error = exc.response.get("Error", {})
    status = str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
    return error.get("Code") in _CONFLICT_CODES or status in {"412", "409"}


def _is_missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}


def _get(s3_client: Any, location: RegistryLocation, key: str) -> tuple[Any, str] | None:
    """(parsed JSON, ETag) of an object, None when it does not exist."""
    try:
        response = s3_client.get_object(Bucket=location.bucket, Key=key)
    except ClientError as exc:
        if _is_missing(exc):
            return None
        raise
    body = response["Body"].read()
    try:
        return json.loads(body), response["ETag"]
    except json.JSONDecodeError as exc:
        raise RegistryError(f"{location.uri(key)} is not valid JSON: {exc}") from exc


def _put_new(s3_client: Any, location: RegistryLocation, key: str, document: Mapping[str, Any]) -> None:
    """Create an object that must not exist yet (IfNoneMatch="*")."""
    try:
        s3_client.put_object(
            Bucket=location.bucket,
            Key=key,
            Body=_encode(document),
            ContentType="application/json",
            IfNoneMatch="*",
        )
    except ClientError as exc:
        if _is_conflict(exc):
            raise RegistryError(
                f"{location.uri(key)} already exists; registry records are never overwritten"
            ) from exc
        raise


def _encode(document: Mapping[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True, default=str) + "\n").encode()


def _keys(s3_client: Any, location: RegistryLocation, prefix: str) -> list[str]:
    paginator = s3_client.get_paginator("list_objects_v2")
    return sorted(
        obj["Key"]
        for page in paginator.paginate(Bucket=location.bucket, Prefix=prefix)
        for obj in page.get("Contents", [])
        if obj["Key"].endswith(".json")
    )


def _record_key(prefix: str, moment: datetime, record_id: str) -> str:
    return f"{prefix}{moment.astimezone(UTC):%Y%m%dT%H%M%S%fZ}-{record_id}.json"


def _check_id(record_id: str, what: str) -> str:
    if not _ID.match(record_id):
        raise ValueError(f"{what} {record_id!r} must be 1-64 characters of letters, digits, '_', '.', '-'")
    return record_id


def read_champion(s3_client: Any, *, location: RegistryLocation) -> Champion | None:
    """The serving model, or None before the first promotion."""
    found = _get(s3_client, location, location.champion_key)
    if found is None:
        return None
    return Champion.from_dict(found[0], source=location.uri(location.champion_key))


def promote(
    s3_client: Any,
    *,
    location: RegistryLocation,
    recipe: str,
    metrics: Mapping[str, float],
    export_version: str,
    dataset_group_arn: str,
    solution_version_arn: str | None = None,
    solution_arn: str | None = None,
    campaign_arn: str | None = None,
    recommender_arn: str | None = None,
    recommenders: Mapping[str, str] | None = None,
    recommender_filters: Mapping[str, Mapping[str, str]] | None = None,
    event_tracker_arn: str | None = None,
    tracking_id: str | None = None,
    promotion_id: str | None = None,
    run_id: str | None = None,
    now: datetime | None = None,
) -> Champion:
    """Record a new champion: a history entry first, then champion.json (compare-and-swap).

    :param location: the use case's registry.
    :param solution_version_arn: the model now serving through ``campaign_arn`` (of ``solution_arn``);
        or, for a domain use case, ``recommender_arn`` (the one the gate judged) and ``recommenders`` (every
        recommender now serving, by its configured name; ``recommender_filters``: their filters' ARNs by name).
    :param metrics: the holdout metrics that earned the promotion.
    :param export_version: the export version it was trained and evaluated on.
    :param event_tracker_arn: the event tracker of the champion's dataset group; ``tracking_id`` is
        its id for PutEvents.
    :param promotion_id: makes the call idempotent (see :func:`promotion_id_for`); random when omitted.
    :param run_id: the pipeline run, recorded for tracing.
    :param now: the promotion time (UTC now when omitted).
    :raises ConcurrentPromotionError: champion.json changed since this call read it.
    :return: the champion as written (or as found, when this promotion already completed).
    """
    found = _get(s3_client, location, location.champion_key)
    current = Champion.from_dict(found[0], source=location.uri(location.champion_key)) if found else None
    if promotion_id is not None:
        _check_id(promotion_id, "promotion_id")
        if current is not None and current.promotion_id == promotion_id:
            return current
        entry = _history_entry(s3_client, location, promotion_id)
        serving = recommender_arn or solution_version_arn
        if entry is not None and entry.serving_arn != serving:
            raise RegistryError(
                f"promotion {promotion_id} is recorded for {entry.serving_arn}, not {serving}"
            )
    else:
        promotion_id, entry = uuid.uuid4().hex[:16], None

    if entry is None:
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        entry = Champion(
            solution_version_arn=solution_version_arn,
            solution_arn=solution_arn,
            campaign_arn=campaign_arn,
            recommender_arn=recommender_arn,
            recommenders=dict(recommenders or {}),
            recommender_filters={name: dict(f) for name, f in (recommender_filters or {}).items()},
            recipe=recipe,
            metrics=dict(metrics),
            export_version=export_version,
            promoted_at=moment.isoformat(),
            dataset_group_arn=dataset_group_arn,
            promotion_id=promotion_id,
            event_tracker_arn=event_tracker_arn,
            tracking_id=tracking_id,
            previous_solution_version_arn=current.solution_version_arn if current else None,
            run_id=run_id,
        )
        _put_new(
            s3_client, location, _record_key(location.history_prefix, moment, promotion_id), entry.as_dict()
        )

    condition = {"IfMatch": found[1]} if found else {"IfNoneMatch": "*"}
    try:
        s3_client.put_object(
            Bucket=location.bucket,
            Key=location.champion_key,
            Body=_encode(entry.as_dict()),
            ContentType="application/json",
            **condition,
        )
    except ClientError as exc:
        if _is_conflict(exc):
            raise ConcurrentPromotionError(
                f"{location.uri(location.champion_key)} changed while promoting {recommender_arn or solution_version_arn} "
                f"(promotion {promotion_id}); another promotion won. Read the champion again and re-evaluate."
            ) from exc
        raise
    return entry


def _history_entry(s3_client: Any, location: RegistryLocation, promotion_id: str) -> Champion | None:
    for key in _keys(s3_client, location, location.history_prefix):
        if key.endswith(f"-{promotion_id}.json"):
            document, _ = _get(s3_client, location, key)
            return Champion.from_dict(document, source=location.uri(key))
    return None


def history(s3_client: Any, *, location: RegistryLocation, limit: int | None = None) -> list[Champion]:
    """Every promotion, oldest first (the last ``limit`` when given)."""
    keys = _keys(s3_client, location, location.history_prefix)
    if limit is not None:
        keys = keys[-limit:] if limit > 0 else []
    return [Champion.from_dict(_get(s3_client, location, key)[0], source=location.uri(key)) for key in keys]


def record_evaluation(
    s3_client: Any,
    *,
    location: RegistryLocation,
    report: Mapping[str, Any],
    evaluation_id: str | None = None,
) -> str:
    """Append an evaluation report (from :func:`personalize_pipelines.evaluation.evaluation_report`).

    :param evaluation_id: makes the call idempotent: when a record with this id exists its key is
        returned and nothing is written. Random when omitted.
    :return: the record's key.
    """
    if evaluation_id is not None:
        _check_id(evaluation_id, "evaluation_id")
        for key in _keys(s3_client, location, location.evaluations_prefix):
            if key.endswith(f"-{evaluation_id}.json"):
                return key
    created = report.get("created_at")
    moment = datetime.fromisoformat(created) if isinstance(created, str) else datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    key = _record_key(location.evaluations_prefix, moment, evaluation_id or uuid.uuid4().hex[:16])
    _put_new(s3_client, location, key, report)
    return key


def evaluation_history(
    s3_client: Any, *, location: RegistryLocation, limit: int | None = 20
) -> list[dict[str, Any]]:
    """Recorded evaluation reports, oldest first (the last ``limit``; all when None)."""
    keys = _keys(s3_client, location, location.evaluations_prefix)
    if limit is not None:
        keys = keys[-limit:] if limit > 0 else []
    return [_get(s3_client, location, key)[0] for key in keys]
