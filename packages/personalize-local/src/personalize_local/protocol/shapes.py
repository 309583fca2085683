"""botocore's service models as the spec: input validation and output projection by shape."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape

from personalize_local.errors import InvalidInput


@cache
def service_model(name: str) -> ServiceModel:
    """The botocore model of ``personalize``, ``personalize-runtime`` or ``personalize-events``."""
    return botocore.session.get_session().get_service_model(name)


@cache
def _pattern(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def validate_input(operation: OperationModel, params: Any) -> None:
    """Check ``params`` against the operation's input shape as the service does.

    Raises InvalidInput listing every violated constraint (required members, types, lengths, ranges,
    patterns, enums).
    """
    if operation.input_shape is None:
        return
    errors: list[str] = []
    _check(operation.input_shape, params, "", errors)
    if errors:
        count = len(errors)
        raise InvalidInput(
            f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(errors)
        )


def _check(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    kind = shape.type_name
    where = path or "input"
    if kind == "structure":
        if not isinstance(value, dict):
            errors.append(f"Value at '{where}' must be an object")
            return
        for name in shape.required_members:
            if value.get(name) is None:
                errors.append(
                    f"Value null at '{_join(path, name)}' failed to satisfy constraint: "
                    "Member must not be null"
                )
        for name, member_value in value.items():
            member = shape.members.get(name)
            if member is not None and member_value is not None:
                _check(member, member_value, _join(path, name), errors)
        return
    if kind == "list":
        if not isinstance(value, list):
            errors.append(f"Value at '{where}' must be a list")
            return
        _check_size(shape, len(value), where, "length", errors)
        for index, item in enumerate(value):
            _check(shape.member, item, f"{where}.{index + 1}.member", errors)
        return
    if kind == "map":
        if not isinstance(value, dict):
            errors.append(f"Value at '{where}' must be a map")
            return
        _check_size(shape, len(value), where, "length", errors)
        for key, item in value.items():
            _check(shape.key, key, f"{where}.key", errors)
            _check(shape.value, item, f"{where}.{key}", errors)
        return
    if kind == "string":
        if not isinstance(value, str):
            errors.append(f"Value at '{where}' must be a string")
            return
        _check_size(shape, len(value), where, "length", errors)
        enum = shape.enum
        if enum and value not in enum:
            errors.append(
                f"Value '{value}' at '{where}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: {list(enum)}"
            )
        pattern = shape.metadata.get("pattern")
        compiled = _pattern(pattern) if pattern else None
        if compiled is not None and not compiled.fullmatch(value):
            errors.append(
                f"Value '{value}' at '{where}' failed to satisfy constraint: "
                f"Member must satisfy regular expression pattern: {pattern}"
            )
        return
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(f"Value at '{where}' must be an integer")
            return
        _check_size(shape, value, where, "value", errors)
        return
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors.append(f"Value at '{where}' must be a number")
        return
    if kind == "boolean" and not isinstance(value, bool):
        errors.append(f"Value at '{where}' must be a boolean")
    if kind == "timestamp" and not isinstance(value, int | float | str):
        errors.append(f"Value at '{where}' must be a timestamp")


def _check_size(shape: Shape, size: int, where: str, what: str, errors: list[str]) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        errors.append(
            f"Value at '{where}' failed to satisfy constraint: Member must have {what} "
            f"greater than or equal to {low}"
        )
    if high is not None and size > high:
        errors.append(
            f"Value at '{where}' failed to satisfy constraint: Member must have {what} "
            f"less than or equal to {high}"
        )


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def project_output(shape: Shape | None, value: Any) -> Any:
    """Keep only what the output shape models, timestamps as epoch seconds; None members dropped."""
    if shape is None:
        return {}
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return {}
        out = {}
        for name, member in shape.members.items():
            item = value.get(name)
            if item is not None:
                out[name] = project_output(member, item)
        return out
    if kind == "list":
        return [project_output(shape.member, item) for item in value]
    if kind == "map":
        return {key: project_output(shape.value, item) for key, item in value.items()}
    if kind == "timestamp" and isinstance(value, dt.datetime):
        return value.timestamp()
    return value
