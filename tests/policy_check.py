"""What an IAM identity policy allows, evaluated the way IAM does for the features our documents use:
Allow statements, ``*``/``?`` wildcards in actions (case-insensitive) and resources, and the
``StringEquals``/``StringLike`` conditions (a key missing from the request fails its condition)."""

from __future__ import annotations

import re
from typing import Any


def _pattern(value: str, *, ignore_case: bool = False) -> re.Pattern:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in value)
    return re.compile(f"^{regex}$", re.IGNORECASE if ignore_case else 0)


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _conditions_hold(conditions: dict[str, dict[str, Any]], context: dict[str, str]) -> bool:
    for operator, keys in conditions.items():
        for key, wanted in keys.items():
            if key not in context:
                return False
            if operator == "StringEquals":
                matched = context[key] in _listed(wanted)
            elif operator == "StringLike":
                matched = any(_pattern(w).match(context[key]) for w in _listed(wanted))
            else:
                raise AssertionError(f"condition operator {operator} is not evaluated here")
            if not matched:
                return False
    return True


def allows(
    document: dict[str, Any], *, action: str, resource: str, context: dict[str, str] | None = None
) -> bool:
    """True when a statement of ``document`` allows ``action`` on ``resource`` with these condition keys."""
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow", statement
        if (
            any(_pattern(a, ignore_case=True).match(action) for a in _listed(statement["Action"]))
            and any(_pattern(r).match(resource) for r in _listed(statement["Resource"]))
            and _conditions_hold(statement.get("Condition", {}), context or {})
        ):
            return True
    return False


def actions(document: dict[str, Any]) -> set[str]:
    """Every action a document names."""
    return {action for statement in document["Statement"] for action in _listed(statement["Action"])}
