"""Fault injection: a rate of ThrottlingException or HTTP 500 on chosen operations."""

from __future__ import annotations

import random
import threading

from personalize_local.errors import InternalFailure, Throttling
from personalize_local.settings import Settings


class Faults:
    """Decides, per call, whether to answer an injected fault instead of running the operation."""

    def __init__(self, settings: Settings) -> None:
        self._throttle_rate = settings.throttle_rate
        self._error_rate = settings.error_rate
        self._operations = settings.fault_operations
        self._random = random.Random(settings.fault_seed)
        self._lock = threading.Lock()

    def before(self, operation: str) -> None:
        """Raise the injected fault for this call, if any."""
        if not (self._throttle_rate or self._error_rate):
            return
        if self._operations and operation not in self._operations:
            return
        with self._lock:
            draw = self._random.random()
        if draw < self._throttle_rate:
            raise Throttling(f"Rate exceeded (fault injected by personalize-local on {operation})")
        if draw < self._throttle_rate + self._error_rate:
            raise InternalFailure(f"Internal failure (fault injected by personalize-local on {operation})")
