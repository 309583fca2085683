"""The control plane's JSON 1.1 protocol: ``X-Amz-Target: AmazonPersonalize.<Operation>``."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from personalize_local.errors import InvalidInput, ServiceError, UnknownOperation
from personalize_local.models.context import RequestContext
from personalize_local.protocol.dispatch import (
    FaultInjector,
    call_operation,
    error_response,
    json_response,
    parse_json_body,
)

TARGET_PREFIX = "AmazonPersonalize."


def handle(request: Request, *, backend: Any, faults: FaultInjector, context: RequestContext) -> Response:
    """Answer one control-plane request."""
    try:
        if request.method != "POST":
            raise InvalidInput(f"The control plane takes POST requests, not {request.method}")
        target = request.headers.get("X-Amz-Target", "")
        if not target.startswith(TARGET_PREFIX):
            raise UnknownOperation(f"X-Amz-Target {target!r} does not name an AmazonPersonalize operation")
        operation = target[len(TARGET_PREFIX) :]
        params = parse_json_body(request.get_data())
        result = call_operation(
            backend=backend,
            faults=faults,
            service="personalize",
            operation=operation,
            params=params,
            context=context,
        )
        return json_response(result)
    except ServiceError as error:
        return error_response(error)
