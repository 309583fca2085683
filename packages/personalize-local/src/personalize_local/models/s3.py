"""Reading and writing objects in moto's in-process S3 backend (the same one the edge serves)."""

from __future__ import annotations

from dataclasses import dataclass

from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends


class S3Error(Exception):
    """An S3 location that cannot be read or written, with a message naming it."""


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str

    @classmethod
    def parse(cls, uri: str) -> S3Location:
        if not uri.startswith("s3://") or "/" not in uri[5:] and not uri[5:]:
            raise S3Error(f"{uri!r} is not an s3://bucket/key location")
        bucket, _, key = uri[5:].partition("/")
        if not bucket:
            raise S3Error(f"{uri!r} names no bucket")
        return cls(bucket=bucket, key=key)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def _backend(bucket: str):
    partition, account = s3_backends.bucket_accounts.get(bucket, ("aws", DEFAULT_ACCOUNT_ID))
    return s3_backends[account][partition]


def _bucket(bucket: str):
    backend = _backend(bucket)
    try:
        return backend, backend.get_bucket(bucket)
    except Exception as exc:  # moto raises MissingBucket
        raise S3Error(f"bucket {bucket!r} does not exist") from exc


def read_object(location: S3Location) -> bytes:
    backend, _ = _bucket(location.bucket)
    key = backend.get_object(location.bucket, location.key)
    if key is None:
        raise S3Error(f"{location} does not exist")
    return bytes(key.value)


def list_keys(location: S3Location, *, suffix: str = "") -> list[str]:
    """Every key under the location's prefix ending in ``suffix`` (case-insensitive), sorted."""
    _, bucket = _bucket(location.bucket)
    return sorted(
        name
        for name in list(bucket.keys.keys())
        if name.startswith(location.key) and name.lower().endswith(suffix) and not name.endswith("/")
    )


def write_object(location: S3Location, data: bytes) -> None:
    backend, _ = _bucket(location.bucket)
    backend.put_object(location.bucket, location.key, data)
