"""S3 that survives a restart: moto's in-memory objects mirrored under ``<state-dir>/s3``.

moto keeps S3 in memory only. A background thread copies new and changed objects to disk every
``interval`` seconds (and once more on shutdown); on start they are put back into moto's backend.
Only the latest version of each object and its metadata are kept. A hard kill loses at most the
last interval's writes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
from pathlib import Path
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends

log = logging.getLogger("personalize_local.s3_snapshot")
PARTITION = "aws"


def _backend() -> Any:
    return s3_backends[DEFAULT_ACCOUNT_ID][PARTITION]


def _file_name(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


class S3Snapshot:
    """Mirrors moto's S3 buckets and objects (default account) to a directory and back."""

    def __init__(self, directory: Path, *, interval: float = 1.0) -> None:
        self.directory = Path(directory)
        self.interval = interval
        self._seen: dict[tuple[str, str], tuple[int, Any]] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def restore(self) -> int:
        """Put every stored bucket and object back into moto; returns the number of objects restored."""
        backend, restored = _backend(), 0
        for bucket_dir in sorted(self.directory.glob("*/")) if self.directory.is_dir() else ():
            index_path = bucket_dir / "index.json"
            if not index_path.is_file():
                continue
            index = json.loads(index_path.read_text())
            name = index["bucket"]
            if name in s3_backends.bucket_accounts:
                log.info("bucket %s already exists in this process; not restoring it", name)
                continue
            backend.create_bucket(name, index["region"])
            for key, entry in index["objects"].items():
                fake = backend.put_object(name, key, (bucket_dir / "objects" / entry["file"]).read_bytes())
                fake.set_metadata(dict(entry["metadata"]), replace=True)
                self._seen[(name, key)] = (id(fake), fake.last_modified)
                restored += 1
        if restored:
            log.info("restored %d S3 object(s) from %s", restored, self.directory)
        return restored

    def sync(self) -> None:
        """Write objects created or changed since the last sync; forget deleted objects and buckets."""
        with self._lock:
            live_buckets = dict(_backend().buckets)
            for name, bucket in live_buckets.items():
                self._sync_bucket(name, bucket)
            for bucket_dir in self.directory.glob("*/") if self.directory.is_dir() else ():
                if bucket_dir.name not in live_buckets:
                    shutil.rmtree(bucket_dir, ignore_errors=True)
                    self._seen = {k: v for k, v in self._seen.items() if k[0] != bucket_dir.name}

    def _sync_bucket(self, name: str, bucket: Any) -> None:
        bucket_dir = self.directory / name
        index_path = bucket_dir / "index.json"
        index = (
            json.loads(index_path.read_text())
            if index_path.is_file()
            else {"bucket": name, "region": bucket.region_name, "objects": {}}
        )
        objects = {key: fake for key, fake in bucket.keys.items() if hasattr(fake, "value")}
        changed = False
        for key, fake in objects.items():
            token = (id(fake), fake.last_modified)
            if self._seen.get((name, key)) == token and key in index["objects"]:
                continue
            (bucket_dir / "objects").mkdir(parents=True, exist_ok=True)
            entry = {"file": _file_name(key), "metadata": {k: str(v) for k, v in dict(fake.metadata).items()}}
            _write_atomically(bucket_dir / "objects" / entry["file"], fake.value)
            index["objects"][key] = entry
            self._seen[(name, key)] = token
            changed = True
        for key in [k for k in index["objects"] if k not in objects]:
            (bucket_dir / "objects" / index["objects"].pop(key)["file"]).unlink(missing_ok=True)
            self._seen.pop((name, key), None)
            changed = True
        if changed or not index_path.is_file():
            bucket_dir.mkdir(parents=True, exist_ok=True)
            _write_atomically(index_path, json.dumps(index).encode())

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.wait(self.interval):
                try:
                    self.sync()
                except Exception:  # keep mirroring; a failed pass is retried on the next one
                    log.exception("S3 snapshot pass failed")

        self._thread = threading.Thread(target=loop, name="s3-snapshot", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the background thread and write a final snapshot."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.sync()
