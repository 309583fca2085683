"""Atomic, versioned publishing to S3: data parts first, manifest last, the `latest` pointer after.

A version folder without manifest.json is incomplete and every reader ignores it. Versions are
never overwritten: each publish writes a new version name.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import queue
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from personalize_pipelines.layout import UseCaseLayout, VersionLayout

if TYPE_CHECKING:
    import pyarrow as pa

    from personalize_pipelines.unload import UnloadedPart

log = logging.getLogger(__name__)
UPLOADERS = 2


class BucketNotWritableError(RuntimeError):
    """The use case's bucket refuses the export's writes; ``final`` when no retry can help (a missing bucket,
    a denied write, unknown credentials) until someone fixes the bucket or the connection."""

    FINAL_CODES = frozenset(
        {"NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled"}
    )

    def __init__(self, message: str, *, final: bool) -> None:
        super().__init__(message)
        self.final = final


def check_writable(client: Any, layout: UseCaseLayout, *, run_key: str, conn_id: str) -> None:
    """Write and delete one empty object under the use case's folder, so a bucket that does not exist or
    refuses writes fails the export before it extracts anything (:class:`BucketNotWritableError`)."""
    from botocore.exceptions import BotoCoreError, ClientError

    key = layout.write_check(run_key)
    try:
        client.put_object(Bucket=layout.bucket, Key=key, Body=b"")
        client.delete_object(Bucket=layout.bucket, Key=key)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        hint = (
            " (create it first; personalize-local creates it with --bucket NAME)"
            if code == "NoSuchBucket"
            else ""
        )
        raise BucketNotWritableError(
            f"bucket {layout.bucket!r} does not take the export's writes through connection {conn_id!r}: "
            f"{code}: {exc.response.get('Error', {}).get('Message', exc)}{hint}",
            final=code in BucketNotWritableError.FINAL_CODES,
        ) from exc
    except BotoCoreError as exc:
        raise BucketNotWritableError(
            f"bucket {layout.bucket!r} is not reachable through connection {conn_id!r}: {exc}", final=False
        ) from exc


class VersionExistsError(RuntimeError):
    """Refusing to overwrite a published version."""


def new_version_name(window_end: datetime, *, now: datetime | None = None) -> str:
    """`<window end>-<publish time>-<random>`: sorts by window then by publish time, never reused."""
    now = now or datetime.now(UTC)
    return f"{window_end:%Y%m%dT%H%M%SZ}-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


VERSION_NAME = re.compile(r"^\d{8}T\d{6}Z-(\d{8}T\d{6})-[0-9a-f]{6}$")


@dataclass
class PublishedFile:
    key: str
    rows: int | None
    sha256: str | None
    bytes: int
    etag: str | None = None
    """S3's checksum of a part the warehouse wrote (unload mode), which the worker never read."""

    def as_dict(self) -> dict[str, Any]:
        entry = {"key": self.key, "rows": self.rows, "sha256": self.sha256, "bytes": self.bytes}
        return entry | ({"etag": self.etag} if self.etag else {})


@dataclass
class VersionWriter:
    """Writes one version under s3://bucket/<use_case_prefix>/<version>/; `commit` writes the manifest."""

    client: Any
    bucket: str
    use_case_prefix: str
    version: str
    files: list[PublishedFile] = field(default_factory=list)

    @property
    def layout(self) -> VersionLayout:
        return UseCaseLayout(bucket=self.bucket, prefix=self.use_case_prefix).version(self.version)

    @property
    def prefix(self) -> str:
        return self.layout.prefix

    @property
    def uri(self) -> str:
        return self.layout.uri(self.layout.folder)

    def ensure_new(self) -> None:
        listed = self.client.list_objects_v2(Bucket=self.bucket, Prefix=self.layout.folder, MaxKeys=1)
        if listed.get("KeyCount", 0):
            raise VersionExistsError(f"{self.uri} already has objects; versions are immutable")

    def put_bytes(
        self, relative_key: str, body: bytes, *, rows: int | None = None, content_type: str
    ) -> PublishedFile:
        return self._put(relative_key, io.BytesIO(body), rows=rows, content_type=content_type)

    def put_json(self, relative_key: str, document: Any) -> PublishedFile:
        body = (json.dumps(document, indent=2, sort_keys=True, default=str) + "\n").encode()
        return self.put_bytes(relative_key, body, content_type="application/json")

    def put_file(
        self, relative_key: str, path: Path, *, rows: int | None = None, content_type: str
    ) -> PublishedFile:
        """Upload a local file, streamed from disk."""
        with path.open("rb") as body:
            return self._put(relative_key, body, rows=rows, content_type=content_type)

    def _put(
        self, relative_key: str, body: BinaryIO, *, rows: int | None, content_type: str
    ) -> PublishedFile:
        """Hash the body in chunks, upload it from its start, and record it for the manifest."""
        digest = hashlib.sha256()
        size = 0
        while chunk := body.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
        body.seek(0)
        self.client.put_object(
            Bucket=self.bucket, Key=self.layout.key(relative_key), Body=body, ContentType=content_type
        )
        published = PublishedFile(key=relative_key, rows=rows, sha256=digest.hexdigest(), bytes=size)
        self.files.append(published)
        return published

    def record_landed(self, folder: str, reported: list[UnloadedPart]) -> list[PublishedFile]:
        """Record the parts the warehouse wrote under ``folder`` (checked against the listing) for the
        manifest."""
        from personalize_pipelines.unload import landed_parts

        landed = [
            PublishedFile(**entry)
            for entry in landed_parts(
                self.client, bucket=self.bucket, folder_key=self.layout.key(f"{folder}/"), reported=reported
            )
        ]
        self.files.extend(landed)
        return landed

    def put_csv_parts(
        self,
        folder: str,
        batches: Iterable[pa.RecordBatch],
        *,
        columns: list[str],
        part_rows: int,
        progress: Callable[[str], None] = log.info,
    ) -> list[PublishedFile]:
        """Stream Arrow batches into CSV parts of at most `part_rows` rows, uploading in the background.

        Each part is spooled to a local file and streamed from there by one of UPLOADERS threads
        (two uploads at once were 1.5x faster than one against a local S3 server), with at most two
        more parts waiting: memory stays the same whatever the part size or the total row count.
        """
        uploads: queue.Queue = queue.Queue(maxsize=2)
        written: list[PublishedFile] = []
        failure: list[BaseException] = []

        def uploader() -> None:
            while (item := uploads.get()) is not None:
                index, path, rows = item
                try:
                    if not failure:
                        written.append(
                            self.put_file(
                                VersionLayout.part(folder, index), path, rows=rows, content_type="text/csv"
                            )
                        )
                except BaseException as exc:  # re-raised in the producer
                    failure.append(exc)
                finally:
                    path.unlink(missing_ok=True)

        with tempfile.TemporaryDirectory(prefix=f"publish-{folder}-") as spool:
            threads = [
                threading.Thread(target=uploader, name=f"upload-{folder}-{n}", daemon=True)
                for n in range(UPLOADERS)
            ]
            for thread in threads:
                thread.start()
            started = time.monotonic()
            total = 0
            try:
                for index, (path, rows) in enumerate(
                    _csv_parts(batches, columns=columns, part_rows=part_rows, spool=Path(spool))
                ):
                    uploads.put((index, path, rows))
                    total += rows
                    elapsed = max(time.monotonic() - started, 1e-9)
                    progress(
                        f"{folder}: {total:,} rows in {index + 1} part(s), {total / elapsed:,.0f} rows/s"
                    )
                    if failure:
                        break
            finally:
                for _ in threads:
                    uploads.put(None)
                for thread in threads:
                    thread.join()
        if failure:
            raise failure[0]
        return sorted(written, key=lambda published: published.key)

    def commit(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Write manifest.json last: from this moment the version exists for readers."""
        document = {
            **manifest,
            "version": self.version,
            "uri": self.uri,
            "files": [f.as_dict() for f in sorted(self.files, key=lambda f: f.key)],
        }
        body = (json.dumps(document, indent=2, sort_keys=True, default=str) + "\n").encode()
        self.client.put_object(
            Bucket=self.bucket, Key=self.layout.manifest, Body=body, ContentType="application/json"
        )
        return document


def _csv_parts(batches: Iterable[pa.RecordBatch], *, columns: list[str], part_rows: int, spool: Path):
    """Yield (file, rows) per part written under `spool`: header in each part, RFC 4180 quoting where needed."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    options = pacsv.WriteOptions(include_header=True, quoting_style="needed")
    writer = None
    path = None
    rows_in_part = 0
    index = 0
    for batch in batches:
        batch = pa.RecordBatch.from_arrays(batch.columns, names=columns)
        offset = 0
        while offset < batch.num_rows:
            if writer is None:
                path = spool / f"part-{index:05d}.csv"
                writer = pacsv.CSVWriter(str(path), batch.schema, write_options=options)
            take = min(part_rows - rows_in_part, batch.num_rows - offset)
            writer.write_batch(batch.slice(offset, take))
            offset += take
            rows_in_part += take
            if rows_in_part == part_rows:
                writer.close()
                yield path, rows_in_part
                writer, rows_in_part, index = None, 0, index + 1
    if writer is not None and rows_in_part:
        writer.close()
        yield path, rows_in_part


def read_json(client: Any, bucket: str, key: str) -> dict | None:
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except client.exceptions.NoSuchKey:
        return None
    return json.loads(body)


def move_latest_pointer(client: Any, *, bucket: str, use_case_prefix: str, manifest: dict) -> bool:
    """Point `latest.json` at this version unless a newer window is already published (backfills)."""
    key = UseCaseLayout(bucket=bucket, prefix=use_case_prefix).latest
    current = read_json(client, bucket, key)
    if current and current["window"]["end"] > manifest["window"]["end"]:
        log.info("latest stays at %s: its window ends after this backfilled one", current["version"])
        return False
    pointer = {k: manifest[k] for k in ("version", "uri", "window", "created_at")}
    client.put_object(
        Bucket=bucket, Key=key, Body=json.dumps(pointer, indent=2).encode(), ContentType="application/json"
    )
    return True


def _version_folders(client: Any, *, bucket: str, use_case_prefix: str) -> Iterator[tuple[str, bool]]:
    """Each folder directly under the use case's prefix, and whether it holds a manifest."""
    layout = UseCaseLayout(bucket=bucket, prefix=use_case_prefix)
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=layout.folder, Delimiter="/"):
        for common in page.get("CommonPrefixes", []):
            folder = common["Prefix"].rstrip("/").rsplit("/", 1)[-1]
            listed = client.list_objects_v2(Bucket=bucket, Prefix=layout.version(folder).manifest, MaxKeys=1)
            yield folder, bool(listed.get("KeyCount", 0))


def complete_versions(client: Any, *, bucket: str, use_case_prefix: str) -> list[str]:
    """Published versions (those with a manifest), oldest first; incomplete folders are ignored."""
    return sorted(
        folder
        for folder, has_manifest in _version_folders(client, bucket=bucket, use_case_prefix=use_case_prefix)
        if has_manifest
    )


def publishing_started(version: str) -> datetime | None:
    """When a version's publishing began, read from its name; None for a folder that is not a version."""
    match = VERSION_NAME.match(version)
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC) if match else None


def abandoned_versions(
    client: Any, *, bucket: str, use_case_prefix: str, started_before: datetime
) -> list[str]:
    """Version folders without a manifest whose publishing began before `started_before`: what a publish
    that died (a killed worker, a lost host) left behind. Readers ignore them; only storage is lost.
    Folders whose name is not a version's (the registry, batch files) are never listed."""
    return sorted(
        folder
        for folder, has_manifest in _version_folders(client, bucket=bucket, use_case_prefix=use_case_prefix)
        if not has_manifest
        and (started := publishing_started(folder)) is not None
        and started < started_before
    )


def delete_folder(client: Any, *, bucket: str, prefix: str) -> int:
    """Delete every object under `prefix` (a folder, ending in '/'); returns how many went."""
    if not prefix.endswith("/"):
        raise ValueError(f"refusing to delete a prefix that is not a folder: {prefix!r}")
    deleted = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
        if keys:
            response = client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            if response.get("Errors"):
                raise RuntimeError(f"could not delete under s3://{bucket}/{prefix}: {response['Errors'][:3]}")
            deleted += len(keys)
    return deleted
