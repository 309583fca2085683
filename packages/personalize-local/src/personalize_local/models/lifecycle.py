"""Background work: each resource moves through its lifecycle phases in its own thread."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from personalize_local.models.store import Store, StoreClosed
from personalize_local.settings import Settings

log = logging.getLogger("personalize_local.lifecycle")


class JobFailed(Exception):
    """The work failed; the message becomes the resource's failureReason."""


class Lifecycle:
    """Runs create/update/delete flows with configurable phase durations; stops cleanly on close."""

    def __init__(self, *, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def sleep(self, seconds: float) -> None:
        if seconds > 0 and self._stop.wait(seconds):
            raise StoreClosed("the endpoint has stopped")
        if self._stop.is_set():
            raise StoreClosed("the endpoint has stopped")

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        def run() -> None:
            try:
                target()
            except StoreClosed:
                log.info("%s abandoned: the endpoint stopped", name)
            except Exception:
                log.exception("%s crashed", name)

        thread = threading.Thread(target=run, name=name, daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def create(
        self,
        kind: str,
        resource_arn: str,
        *,
        work: Callable[[], dict[str, Any] | None] | None = None,
        minimum_seconds: float = 0.0,
        forced_failure_name: str | None = None,
        pending_until: Callable[[], None] | None = None,
    ) -> None:
        """CREATE PENDING → CREATE IN_PROGRESS → (work) → ACTIVE, or CREATE FAILED with the reason.

        ``pending_until`` keeps the resource CREATE PENDING after its first phase until it returns (it waits
        with :meth:`sleep`); its JobFailed fails the creation.
        """
        phase = self.settings.phase_seconds

        def flow() -> None:
            self.sleep(phase)
            if pending_until is not None:
                try:
                    pending_until()
                except JobFailed as failure:
                    self._fail(kind, resource_arn, failure)
                    return
            with self.store.lock:
                if self._stopped_by_request(kind, resource_arn):
                    return
                self.store.update(kind, resource_arn, status="CREATE IN_PROGRESS")
            started = time.monotonic()
            try:
                if forced_failure_name and forced_failure_name in self.settings.fail_jobs:
                    self.sleep(phase)
                    raise JobFailed(
                        f"Forced failure: {forced_failure_name!r} is in personalize-local's fail_jobs "
                        "(fault injection)"
                    )
                changes = (work() if work else None) or {}
                self._wait_unless_stopping(
                    kind, resource_arn, max(phase, minimum_seconds) - (time.monotonic() - started)
                )
            except JobFailed as failure:
                self._fail(kind, resource_arn, failure)
                return
            except StoreClosed:
                raise
            except Exception as error:  # a bug must fail the job visibly, never leave it in progress
                log.exception("%s %s crashed", kind, resource_arn)
                self.store.update(
                    kind,
                    resource_arn,
                    status="CREATE FAILED",
                    failureReason=f"personalize-local internal error: {error!r}; see its log",
                )
                return
            with self.store.lock:
                if self._stopped_by_request(kind, resource_arn):
                    return
                self.store.update(kind, resource_arn, status="ACTIVE", **changes)
            log.info("%s %s is ACTIVE", kind, resource_arn)

        self._spawn(f"create {resource_arn}", flow)

    def _fail(self, kind: str, resource_arn: str, failure: JobFailed) -> None:
        log.warning("%s %s failed: %s", kind, resource_arn, failure)
        self.store.update(kind, resource_arn, status="CREATE FAILED", failureReason=str(failure))

    def _wait_unless_stopping(self, kind: str, resource_arn: str, seconds: float) -> None:
        """Sleep out the rest of a phase, ending early when a stop was requested meanwhile."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            self.sleep(min(remaining, 0.05))
            if self.store.get(kind, resource_arn).get("status") == "CREATE STOPPING":
                return

    def _stopped_by_request(self, kind: str, resource_arn: str) -> bool:
        if self.store.get(kind, resource_arn).get("status") != "CREATE STOPPING":
            return False
        self.store.update(kind, resource_arn, status="CREATE STOPPED")
        log.info("%s %s stopped on request", kind, resource_arn)
        return True

    def run(self, name: str, flow: Callable[[], None]) -> None:
        """Any other background flow (updates); ``flow`` uses ``sleep`` to honour phases and stop."""
        self._spawn(name, flow)

    def delete(self, kind: str, resource_arn: str, *, cleanup: Callable[[], None] | None = None) -> None:
        """DELETE PENDING now, DELETE IN_PROGRESS after one phase, gone after another."""
        self.store.update(kind, resource_arn, status="DELETE PENDING")

        def flow() -> None:
            self.sleep(self.settings.phase_seconds)
            self.store.update(kind, resource_arn, status="DELETE IN_PROGRESS")
            self.sleep(self.settings.phase_seconds)
            self.store.remove(kind, resource_arn)
            if cleanup:
                cleanup()
            log.info("%s %s deleted", kind, resource_arn)

        self._spawn(f"delete {resource_arn}", flow)

    def close(self) -> None:
        self._stop.set()
