"""Helpers for tests and tools: a real endpoint on an ephemeral loopback port."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from personalize_local.server import Endpoint
from personalize_local.settings import Settings


@contextlib.contextmanager
def running_endpoint(*, state_dir: Path | str, **settings: object) -> Iterator[str]:
    """Serve personalize-local on 127.0.0.1 (ephemeral port) in a background thread; yields its URL.

    ``settings`` are :class:`~personalize_local.settings.Settings` fields (``phase_seconds``,
    ``train_seconds``, ``throttle_rate``, ``error_rate``, ``fault_operations``, ``fail_jobs``, ...);
    ``PERSONALIZE_LOCAL_*`` variables fill the rest. On exit the server and its background work stop;
    state under ``state_dir`` stays, so entering again with the same directory is a restart.

    S3 is moto's in-process backend, shared by every endpoint (and moto server) in the process, so it is
    not mirrored to ``state_dir`` here unless ``persist_s3=True`` is passed.
    """
    options = {"host": "127.0.0.1", "port": 0, "persist_s3": False, **settings}
    endpoint = Endpoint(Settings.from_env(state_dir=Path(state_dir), **options))
    try:
        yield endpoint.start()
    finally:
        endpoint.close()
