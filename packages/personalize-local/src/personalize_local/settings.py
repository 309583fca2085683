"""Server settings: state directory, phase durations and fault injection, from flags or env vars."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

ENV_PREFIX = "PERSONALIZE_LOCAL_"
SET_FIELDS = ("fault_operations", "fail_jobs", "buckets")


def _split(value: str) -> frozenset[str]:
    return frozenset(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """How the endpoint behaves.

    Every field can be set from the environment as ``PERSONALIZE_LOCAL_<FIELD>`` (upper case; sets are
    comma-separated), and overridden by keyword.

    - ``phase_seconds``: how long each lifecycle phase (PENDING, IN_PROGRESS, DELETE PENDING) lasts at least.
    - ``train_seconds``: minimum time a solution version spends in CREATE IN_PROGRESS.
    - ``throttle_rate`` / ``error_rate``: probability that a call to one of ``fault_operations`` (all
      Personalize operations when empty) answers ThrottlingException / HTTP 500.
    - ``fail_jobs``: resource names (import job, solution or solution version, campaign, batch job,
      recommender) whose creation is forced to end in CREATE FAILED; ``update:<campaign name>`` makes every
      update of that campaign fail, and a solution version ARN makes campaign updates to that version fail
      (a failed update leaves the campaign ACTIVE, serving the version it served before);
      ``update:<recommender name>`` fails that recommender's updates the same way.
    - ``fault_seed``: seed for the fault draws, for reproducible runs.
    - ``buckets``: S3 buckets that exist from the start (created unless restored from the state dir), so
      the DAGs' first write finds its bucket.
    - ``persist_s3``: mirror S3 objects under ``state_dir/s3`` every ``s3_sync_seconds`` so they survive a
      restart (moto itself keeps them in memory only).

    Phases are minimums: real work (an import, a training) takes as long as it takes.
    """

    state_dir: Path = Path("personalize-local-state")
    host: str = "127.0.0.1"
    port: int = 4566
    phase_seconds: float = 0.2
    train_seconds: float = 0.0
    throttle_rate: float = 0.0
    error_rate: float = 0.0
    fault_operations: frozenset[str] = field(default_factory=frozenset)
    fail_jobs: frozenset[str] = field(default_factory=frozenset)
    fault_seed: int | None = None
    buckets: frozenset[str] = field(default_factory=frozenset)
    persist_s3: bool = True
    s3_sync_seconds: float = 1.0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``PERSONALIZE_LOCAL_*`` variables, then ``overrides`` (None values ignored)."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _parse(f.name, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        for name in SET_FIELDS:
            if isinstance(values.get(name), str):
                values[name] = _split(values[name])  # type: ignore[arg-type]
            elif name in values:
                values[name] = frozenset(values[name])  # type: ignore[arg-type]
        if "state_dir" in values:
            values["state_dir"] = Path(values["state_dir"])  # type: ignore[arg-type]
        return cls(**values)  # type: ignore[arg-type]


def _parse(name: str, raw: str) -> object:
    try:
        if name in ("port", "fault_seed"):
            return int(raw)
        if name in ("phase_seconds", "train_seconds", "throttle_rate", "error_rate", "s3_sync_seconds"):
            return float(raw)
        if name == "persist_s3":
            if raw.lower() not in ("1", "true", "yes", "0", "false", "no"):
                raise ValueError
            return raw.lower() in ("1", "true", "yes")
    except ValueError as exc:
        raise ValueError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not valid for {name}") from exc
    if name in SET_FIELDS:
        return _split(raw)
    return raw
