"""The control plane's JSON 1.1 protocol: ``X-Amz-Target: AmazonPersonalize.<Operation>``."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from personalize_local.errors import InvalidInput, UnknownOperation
from personalize_local.models.context import RequestContext
from personalize_local.protocol.dispatch import JSON_1_1, FaultInjector, respond

TARGET_PREFIX = "AmazonPersonalize."


def handle(request: Request, *, backend: Any, faults: FaultInjector, context: RequestContext) -> Response:
    """Answer one control-plane request."""

    def route(request: Request) -> tuple[Any, str, str]:
        if request.method != "POST":
            raise InvalidInput(f"The control plane takes POST requests, not {request.method}")
        target = request.headers.get("X-Amz-Target", "")
        if not target.startswith(TARGET_PREFIX):
            raise UnknownOperation(f"X-Amz-Target {target!r} does not name an AmazonPersonalize operation")
        return backend, "personalize", target[len(TARGET_PREFIX) :]

    return respond(request, route=route, faults=faults, context=context, content_type=JSON_1_1)
