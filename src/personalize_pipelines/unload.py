"""Unload mode: the warehouse writes a version's CSV parts straight to S3, and the worker only orchestrates.

Redshift runs ``UNLOAD … FORMAT CSV HEADER PARALLEL`` with an IAM role it may assume; Snowflake runs
``COPY INTO @stage/… HEADER = TRUE`` into an external stage over the export bucket. Each reports what
it wrote, file by file, with its own row counts (Redshift's ``stl_unload_log``, Snowflake's
``DETAILED_OUTPUT``). The manifest is then made from what landed: the folder is listed, each part's
size and S3 checksum (its ETag, when S3 holds no SHA-256 for it) recorded beside the warehouse's row
count, and every listed part must be one the warehouse reported, and the other way round. The manifest
is still written last, so a crash between the warehouse's write and the manifest leaves a folder
readers ignore and cleanup removes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from personalize_pipelines.cleaning import quote_literal

MAX_FILE_MB = 256
"""Each part at most this size: well under Personalize's per-file import limit, many parts in parallel."""


class UnloadError(RuntimeError):
    """What the warehouse reports writing and what is in the folder disagree: nothing is published."""


@dataclass(frozen=True)
class UnloadedPart:
    """One file the warehouse reports writing: its S3 key and row count."""

    key: str
    rows: int


def redshift_unload_sql(select: str, *, uri_prefix: str, iam_role: str) -> str:
    """Redshift's UNLOAD of ``select`` to files ``<uri_prefix>part-…csv`` (``uri_prefix`` ends in ``/``)."""
    return (
        f"UNLOAD ({quote_literal(select)})\nTO {quote_literal(uri_prefix + 'part-')}\n"
        f"IAM_ROLE {quote_literal(iam_role)}\nFORMAT AS CSV HEADER PARALLEL ON "
        f"MAXFILESIZE {MAX_FILE_MB} MB EXTENSION 'csv'"
    )


REDSHIFT_UNLOADED_SQL = (
    "SELECT trim(path), line_count FROM stl_unload_log WHERE query = pg_last_query_id() ORDER BY path"
)
"""The files the session's last UNLOAD wrote, as ``s3://bucket/key`` and rows (header excluded)."""


def snowflake_unload_sql(select: str, *, stage: str, path: str) -> str:
    """Snowflake's COPY INTO the external ``stage`` at ``path`` (relative to the stage's URL, ending in
    ``/``), one row per file written (FILE_NAME, FILE_SIZE, ROW_COUNT)."""
    location = f"@{stage}/{path}part"
    return (
        f"COPY INTO {location}\nFROM ({select})\n"
        "FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE FIELD_OPTIONALLY_ENCLOSED_BY = '\"' "
        "NULL_IF = ('') FILE_EXTENSION = 'csv')\n"
        f"HEADER = TRUE MAX_FILE_SIZE = {MAX_FILE_MB * 1024 * 1024} DETAILED_OUTPUT = TRUE"
    )


def landed_parts(
    s3_client: Any, *, bucket: str, folder_key: str, reported: list[UnloadedPart]
) -> list[dict[str, Any]]:
    """The parts under ``folder_key`` as manifest entries (key relative to the version, rows, size,
    checksum), checked against what the warehouse reported writing there.

    :raises UnloadError: a listed part the warehouse did not report, or a reported one not listed.
    """
    version_key = folder_key.rstrip("/").rsplit("/", 1)[0] + "/"
    listed: dict[str, dict[str, Any]] = {}
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder_key):
        for obj in page.get("Contents", []):
            listed[obj["Key"]] = obj
    rows = {part.key: part.rows for part in reported}
    if set(listed) != set(rows):
        raise UnloadError(
            f"s3://{bucket}/{folder_key}: the warehouse reported writing {sorted(set(rows) - set(listed)) or 'nothing'} "
            f"not found there, and the folder holds {sorted(set(listed) - set(rows)) or 'nothing'} it did not report"
        )
    entries = []
    for key in sorted(listed):
        head = s3_client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        entries.append(
            {
                "key": key[len(version_key) :],
                "rows": rows[key],
                "bytes": listed[key]["Size"],
                "sha256": head.get("ChecksumSHA256"),
                "etag": head["ETag"].strip('"'),
            }
        )
    return entries


def s3_key(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` → (bucket, key)."""
    if not uri.startswith("s3://"):
        raise UnloadError(f"not an S3 URI: {uri!r}")
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key
