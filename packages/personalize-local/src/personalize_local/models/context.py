"""What an operation knows of its caller."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    """The caller's region, from the request's SigV4 credential scope."""

    region: str
