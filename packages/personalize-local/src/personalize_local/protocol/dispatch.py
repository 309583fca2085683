"""From an operation name and parsed parameters to the backend method, and back to a JSON document."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from werkzeug.wrappers import Request, Response

from personalize_local.errors import SerializationError, ServiceError, UnknownOperation
from personalize_local.models.context import RequestContext
from personalize_local.protocol.shapes import project_output, service_model, validate_input


class FaultInjector(Protocol):
    def before(self, operation: str) -> None: ...


def snake_case(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


def call_operation(
    *, backend: Any, faults: FaultInjector, service: str, operation: str, params: Any, context: RequestContext
) -> dict:
    """Validate ``params`` against botocore's model, run the backend method, project its output."""
    model = service_model(service)
    if operation not in model.operation_names:
        raise UnknownOperation(f"{service} has no operation named {operation!r}")
    op_model = model.operation_model(operation)
    handler = getattr(backend, snake_case(operation), None)
    if handler is None:
        raise UnknownOperation(f"Operation {operation} is not implemented by personalize-local")
    faults.before(operation)
    if params is None:
        params = {}
    validate_input(op_model, params)
    members = op_model.input_shape.members if op_model.input_shape else {}
    kwargs = {key: value for key, value in params.items() if key in members and value is not None}
    result = handler(context, **kwargs)
    return project_output(op_model.output_shape, result or {})


JSON_1_1 = "application/x-amz-json-1.1"

Route = Callable[[Request], tuple[Any, str, str]]
"""A request → the backend, service and operation that answer it (or a ServiceError)."""


def respond(
    request: Request, *, route: Route, faults: FaultInjector, context: RequestContext, content_type: str
) -> Response:
    """Answer one request: route it, run its operation, and answer a ServiceError as its JSON error."""
    try:
        backend, service, operation = route(request)
        result = call_operation(
            backend=backend,
            faults=faults,
            service=service,
            operation=operation,
            params=parse_json_body(request.get_data()),
            context=context,
        )
        return json_response(result, content_type=content_type)
    except ServiceError as error:
        return error_response(error, content_type=content_type)


def json_response(
    body: dict,
    *,
    status: int = 200,
    content_type: str = JSON_1_1,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        json.dumps(body, default=str),
        status=status,
        content_type=content_type,
        headers={"x-amzn-RequestId": str(uuid.uuid4()), **(headers or {})},
    )


def error_response(error: ServiceError, *, content_type: str = JSON_1_1) -> Response:
    """The JSON error shape botocore parses for both JSON 1.1 and REST-JSON: ``__type`` and ``message``."""
    return json_response(
        {"__type": error.code, "message": error.message},
        status=error.status,
        content_type=content_type,
        headers={"x-amzn-ErrorType": error.code},
    )


def parse_json_body(raw: bytes) -> Any:
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SerializationError(f"Request body is not valid JSON: {exc}") from exc
