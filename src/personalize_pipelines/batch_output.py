"""One line of Amazon Personalize batch inference output, parsed the same way for evaluation and caches.

A line is ``{"input": {"userId"|"itemId": ...}, "output": {"recommendedItems": [...], "scores": [...]},
"error": null}``; a line Personalize could not answer carries an ``error`` string instead.
"""

from __future__ import annotations

import json


def parse_output_line(
    text: str, *, key_field: str = "userId"
) -> tuple[str | None, list[tuple[str, float | None]] | None, str | None, str | None]:
    """(key, ranked items with scores, Personalize error, malformation) of one output line."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, None, None, f"not JSON: {exc}"
    if not isinstance(document, dict):
        return None, None, None, "not a JSON object"
    request = document.get("input")
    key = request.get(key_field) if isinstance(request, dict) else None
    if not isinstance(key, str) or not key:
        return None, None, None, f"input.{key_field} missing or not a string"
    if document.get("error") is not None:
        return key, None, str(document["error"]), None
    output = document.get("output")
    items = output.get("recommendedItems") if isinstance(output, dict) else None
    if not isinstance(items, list) or not all(isinstance(item, str) and item for item in items):
        return key, None, None, "output.recommendedItems missing or not a list of strings"
    scores = output.get("scores")
    if scores is None:
        scores = [None] * len(items)
    if (
        not isinstance(scores, list)
        or len(scores) != len(items)
        or not all(s is None or (isinstance(s, int | float) and not isinstance(s, bool)) for s in scores)
    ):
        return key, None, None, "output.scores is not a list of numbers as long as recommendedItems"
    return (
        key,
        [(item, None if s is None else float(s)) for item, s in zip(items, scores, strict=True)],
        None,
        None,
    )
