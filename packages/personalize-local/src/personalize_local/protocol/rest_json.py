"""The REST-JSON protocol of personalize-runtime and personalize-events, routed by botocore's URIs."""

from __future__ import annotations

from functools import cache
from typing import Any

from werkzeug.wrappers import Request, Response

from personalize_local.errors import UnknownOperation
from personalize_local.models.context import RequestContext
from personalize_local.protocol.dispatch import FaultInjector, respond
from personalize_local.protocol.shapes import service_model

SERVICES = ("personalize-runtime", "personalize-events")
CONTENT_TYPE = "application/json"


@cache
def routes() -> dict[tuple[str, str], tuple[str, str]]:
    """(method, path) → (service, operation), from the models' ``requestUri``."""
    table = {}
    for service in SERVICES:
        model = service_model(service)
        for name in model.operation_names:
            http = model.operation_model(name).http
            table[(http["method"], http["requestUri"])] = (service, name)
    return table


def handle(
    request: Request, *, backends: dict[str, Any], faults: FaultInjector, context: RequestContext
) -> Response:
    """Answer one runtime or events request."""

    def route(request: Request) -> tuple[Any, str, str]:
        path = request.path.rstrip("/") or "/"
        found = routes().get((request.method, path))
        if found is None:
            raise UnknownOperation(
                f"No personalize-runtime or personalize-events operation at {request.method} {request.path}"
            )
        service, operation = found
        return backends[service], service, operation

    return respond(request, route=route, faults=faults, context=context, content_type=CONTENT_TYPE)
