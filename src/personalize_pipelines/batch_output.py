"""Amazon Personalize batch inference output, parsed one way for evaluation and caches.

A line is ``{"input": {"userId"|"itemId": ...}, "output": {"recommendedItems": [...], "scores": [...]},
"error": null}`` (a batch segment job's: ``{"input": {"itemId"|"itemAttributes": ...}, "output":
{"usersList": [...]}, "error": null}``, no scores); a line Personalize could not answer carries an
``error`` string instead.
:func:`parse_scored_output` (or :func:`read_scored_output` over the ``.out`` files on S3) turns a job's
lines into ranked, scored rows and counts every line that does not load: Personalize errors, malformed
lines, answers for ids that were not in the input, ids answered twice, and input ids no line answered.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Set
from dataclasses import dataclass, field
from typing import Any

MAX_PROBLEMS_KEPT = 20


def parse_output_line(
    text: str, *, key_field: str = "userId", answer_field: str = "recommendedItems"
) -> tuple[str | None, list[tuple[str, float | None]] | None, str | None, str | None]:
    """(key, ranked items with scores, Personalize error, malformation) of one output line.

    :param answer_field: the output's ranked list: ``recommendedItems``, or ``usersList`` for segments.
    """
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
    items = output.get(answer_field) if isinstance(output, dict) else None
    if not isinstance(items, list) or not all(isinstance(item, str) and item for item in items):
        return key, None, None, f"output.{answer_field} missing or not a list of strings"
    scores = output.get("scores")
    if scores is None:
        scores = [None] * len(items)
    if (
        not isinstance(scores, list)
        or len(scores) != len(items)
        or not all(s is None or (isinstance(s, int | float) and not isinstance(s, bool)) for s in scores)
    ):
        return key, None, None, f"output.scores is not a list of numbers as long as {answer_field}"
    return (
        key,
        [(item, None if s is None else float(s)) for item, s in zip(items, scores, strict=True)],
        None,
        None,
    )


@dataclass
class ScoredOutput:
    """Ranked rows ``(key, rank, item, score)`` from batch output, and every line that did not load.

    ``answered_keys`` are the ids some line named (with rows, an error or a malformed answer);
    ``problems`` keeps the first few bad lines (where, id when known, reason) for the log.
    """

    rows: list[tuple[str, int, str, float | None]] = field(default_factory=list)
    lines: int = 0
    loaded_keys: set[str] = field(default_factory=set)
    answered_keys: set[str] = field(default_factory=set)
    error_lines: int = 0
    malformed_lines: int = 0
    unknown_keys: int = 0
    duplicate_keys: int = 0
    missing_keys: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "lines": self.lines,
            "loaded": len(self.loaded_keys),
            "rows": len(self.rows),
            "error_lines": self.error_lines,
            "malformed_lines": self.malformed_lines,
            "unknown_ids": self.unknown_keys,
            "duplicate_ids": self.duplicate_keys,
            "missing_ids": self.missing_keys,
        }

    def _problem(self, where: int | str, reason: str, key: str | None = None) -> None:
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append({"line": where, "id": key, "reason": reason})


def parse_scored_output(
    lines: Iterable[str | bytes],
    *,
    expected: Collection[str] | None = None,
    key_field: str = "userId",
    answer_field: str = "recommendedItems",
    source: str | None = None,
    into: ScoredOutput | None = None,
    label: str | None = None,
) -> ScoredOutput:
    """Add one output file's lines to ``into`` (or a new result). Blank lines are ignored.

    :param expected: the ids of the batch input; an answer for any other id counts in ``unknown_ids``.
        ``None`` accepts every id.
    :param key_field: the input's id field: ``userId``, or ``itemId`` for related items.
    :param answer_field: the output's ranked list (:func:`parse_output_line`).
    :param source: the file's name, used in ``problems``.
    :param into: add to this result (several output files of one job) instead of a new one.
    :param label: what ``problems`` call an id (default: ``key_field``).
    """
    result = into if into is not None else ScoredOutput()
    expected = expected if expected is None or isinstance(expected, Set) else set(expected)
    what = label or key_field
    for number, raw in enumerate(lines, start=1):
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        if not text.strip():
            continue
        result.lines += 1
        key, ranked, error, malformed = parse_output_line(
            text, key_field=key_field, answer_field=answer_field
        )
        if key:
            result.answered_keys.add(key)
        where = f"{source}:{number}" if source else number
        if malformed is not None:
            result.malformed_lines += 1
            result._problem(where, malformed, key)
        elif error is not None:
            result.error_lines += 1
            result._problem(where, f"error: {error}", key)
        elif expected is not None and key not in expected:
            result.unknown_keys += 1
            result._problem(where, f"{what} was not in the batch input", key)
        elif key in result.loaded_keys:
            result.duplicate_keys += 1
            result._problem(where, f"{what} answered twice; the first answer is kept", key)
        else:
            result.loaded_keys.add(key)
            result.rows.extend((key, rank, item, score) for rank, (item, score) in enumerate(ranked, start=1))
    return result


def read_scored_output(
    s3_client: Any,
    *,
    bucket: str,
    prefix: str,
    expected: Collection[str] | None = None,
    key_field: str = "userId",
    answer_field: str = "recommendedItems",
    into: ScoredOutput | None = None,
    label: str | None = None,
) -> ScoredOutput:
    """:func:`parse_scored_output` over every ``*.out`` object under ``s3://bucket/prefix``, streamed.

    ``missing_ids`` counts the expected ids that no line answered (neither rows nor an error).

    :param into: the result to fill (a subclass's, say) instead of a new one.
    :param label: what ``problems`` call an id (default: ``key_field``).

    :raises FileNotFoundError: when the prefix holds no ``.out`` object.
    """
    expected = None if expected is None else set(expected)
    result = into if into is not None else ScoredOutput()
    files = 0
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith(".out"):
                files += 1
                body = s3_client.get_object(Bucket=bucket, Key=obj["Key"])["Body"]
                parse_scored_output(
                    body.iter_lines(),
                    expected=expected,
                    key_field=key_field,
                    answer_field=answer_field,
                    source=obj["Key"],
                    into=result,
                    label=label,
                )
    if not files:
        raise FileNotFoundError(f"s3://{bucket}/{prefix} holds no batch inference output (*.out)")
    if expected is not None:
        result.missing_keys = len(expected - result.answered_keys)
    return result
