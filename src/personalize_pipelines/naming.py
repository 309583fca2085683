"""Deterministic Personalize resource names: the same parts always give the same valid name."""

from __future__ import annotations

import hashlib
import re

from personalize_pipelines.limits import MAX_NAME_LENGTH


def derive_name(prefix: str, *parts: str) -> str:
    """
    Build a valid, deterministic Personalize resource name: the same parts always give the same name.

    :param prefix: Readable start of the name; characters Personalize refuses become ``-``.
    :param parts: What makes the name unique (e.g. dag id, task id, run id); hashed into a suffix.
    """
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:12]
    readable = re.sub(r"[^a-zA-Z0-9\-_]", "-", prefix).lstrip("-_") or "airflow"
    return f"{readable[: MAX_NAME_LENGTH - len(digest) - 1]}-{digest}"
