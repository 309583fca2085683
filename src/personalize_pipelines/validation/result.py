"""The outcome of validating one table against one suite, the same whichever runner produced it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

GX_SEVERITY = {"fail": "critical", "warn": "warning"}
MAX_SAMPLE = 20


class ContractViolation(Exception):
    """Expectations of severity "fail" did not hold; the message names each one with its counts."""

    def __init__(self, message: str, *, failures: Sequence[ExpectationResult]):
        super().__init__(message)
        self.failures = tuple(failures)


@dataclass(frozen=True)
class ExpectationResult:
    """One expectation's outcome, with GX's result fields (None where the expectation has none)."""

    type: str
    kwargs: dict[str, Any]
    success: bool
    severity: str
    description: str | None = None
    observed_value: Any = None
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    missing_count: int | None = None
    partial_unexpected_list: list[Any] | None = None
    details: dict[str, Any] | None = None
    exception: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column")

    @property
    def label(self) -> str:
        """The expectation type with what it is about: its column or its description."""
        if self.column is not None:
            return f"{self.type} (column {self.column})"
        if self.description:
            return f"{self.type} ({self.description})"
        return self.type

    def outcome(self) -> str:
        """What happened, in counts: e.g. '3 of 1,200 rows unexpected (0.25%)' or 'observed 812'."""
        if self.exception:
            return f"error: {self.exception.strip().splitlines()[0]}"
        parts = []
        if self.unexpected_count is not None and self.element_count is not None:
            share = f" ({self.unexpected_percent:.4g}%)" if self.unexpected_percent is not None else ""
            parts.append(f"{self.unexpected_count:,} of {self.element_count:,} rows unexpected{share}")
        elif self.type == "unexpected_rows_expectation" and self.observed_value is not None:
            rows = (self.details or {}).get("unexpected_rows") or []
            noun = "row" if self.observed_value == 1 else "rows"
            names = self.meta.get("row_columns")
            shown = [
                ", ".join(f"{n}={v!r}" for n, v in zip(names, r, strict=False)) if names else _short(r)
                for r in rows[:3]
            ]
            sample = f": {'; '.join(shown)}" if shown else ""
            parts.append(f"query returned {self.observed_value:,} unexpected {noun}{sample}")
        elif self.observed_value is not None:
            parts.append(f"observed {_short(self.observed_value)}")
        if any(v is not None for v in self.sample_values()):
            sample = ", ".join(_short(v) for v in self.sample_values()[:5])
            parts.append(f"e.g. {sample}")
        expected = self.expected()
        if expected:
            parts.append(f"expected {expected}")
        return "; ".join(parts) if parts else ("passed" if self.success else "failed")

    def sample_values(self) -> list[Any]:
        """The distinct values of partial_unexpected_list, in order of appearance."""
        distinct: list[Any] = []
        for value in self.partial_unexpected_list or []:
            if value not in distinct:
                distinct.append(value)
        return distinct

    def expected(self) -> str:
        """The rule in a few words, from the resolved kwargs."""
        k = self.kwargs
        if "min_value" in k or "max_value" in k:
            lo, hi = k.get("min_value"), k.get("max_value")
            what = "length" if "lengths" in self.type else "value"
            if self.type.startswith("expect_table_row_count"):
                what = "row count"
            if lo is not None and hi is not None:
                text = f"{what} in [{lo}, {hi}]"
            elif lo is not None:
                text = f"{what} >= {lo}"
            else:
                text = f"{what} <= {hi}"
        elif "value_set" in k:
            text = f"{'not ' if 'not_be_in' in self.type else ''}in {_short(k['value_set'])}"
        elif "regex" in k:
            text = f"matching {k['regex']!r}"
        elif "type_list" in k or "type_" in k:
            text = f"type in {_short(k.get('type_list') or [k.get('type_')])}"
        elif self.type == "expect_column_values_to_not_be_null":
            text = "no NULLs"
        else:
            return ""
        mostly = k.get("mostly")
        if mostly is not None and mostly < 1:
            text += f" for at least {mostly:.4g} of rows"
        return text

    def to_dict(self) -> dict[str, Any]:
        """GX's ExpectationValidationResult shape."""
        result: dict[str, Any] = {}
        for name in (
            "observed_value",
            "element_count",
            "unexpected_count",
            "unexpected_percent",
            "missing_count",
        ):
            value = getattr(self, name)
            if value is not None:
                result[name] = _jsonable(value)
        if self.partial_unexpected_list is not None:
            result["partial_unexpected_list"] = _jsonable(self.partial_unexpected_list)
        if self.details:
            result["details"] = _jsonable(self.details)
        config: dict[str, Any] = {
            "type": self.type,
            "kwargs": _jsonable(self.kwargs),
            "meta": _jsonable(self.meta),
            "severity": GX_SEVERITY[self.severity],
        }
        if self.description:
            config["description"] = self.description
        return {
            "success": self.success,
            "expectation_config": config,
            "result": result,
            "meta": {"severity": self.severity},
            "exception_info": {
                "raised_exception": self.exception is not None,
                "exception_message": self.exception,
                "exception_traceback": None,
            },
        }


@dataclass(frozen=True)
class ValidationResult:
    """A suite's outcome on one table. `success` is True when every expectation held, whatever its
    severity; `raise_for_contract()` raises only for failed expectations of severity "fail"."""

    suite_name: str
    success: bool
    results: tuple[ExpectationResult, ...]
    severity: str
    table: str
    engine: str
    parameters: dict[str, Any]
    validated_at: str

    @property
    def failures(self) -> tuple[ExpectationResult, ...]:
        return tuple(r for r in self.results if not r.success)

    @property
    def statistics(self) -> dict[str, Any]:
        total = len(self.results)
        passed = sum(r.success for r in self.results)
        return {
            "evaluated_expectations": total,
            "successful_expectations": passed,
            "unsuccessful_expectations": total - passed,
            "success_percent": passed / total * 100 if total else None,
        }

    def summary(self) -> str:
        """One line per failed expectation, headed by the suite's verdict."""
        stats = self.statistics
        head = (
            f"suite {self.suite_name!r} on {self.table} ({self.engine}): "
            f"{stats['unsuccessful_expectations']} of {stats['evaluated_expectations']} expectations failed"
        )
        return "\n".join([head, *(f"  - [{r.severity}] {r.label}: {r.outcome()}" for r in self.failures)])

    def raise_for_contract(self) -> None:
        """Raise ContractViolation if any expectation of severity "fail" did not hold."""
        blocking = [r for r in self.results if not r.success and r.severity == "fail"]
        if not blocking:
            return
        lines = [
            f"contract {self.suite_name!r} violated on {self.table}: "
            f"{len(blocking)} of {len(self.results)} expectations failed"
        ]
        lines += [f"  - {r.label}: {r.outcome()}" for r in blocking]
        raise ContractViolation("\n".join(lines), failures=blocking)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, in GX's ExpectationSuiteValidationResult shape."""
        return {
            "success": self.success,
            "suite_name": self.suite_name,
            "suite_parameters": _jsonable(self.parameters),
            "statistics": self.statistics,
            "results": [r.to_dict() for r in self.results],
            "meta": {
                "severity": self.severity,
                "table": self.table,
                "engine": self.engine,
                "validated_at": self.validated_at,
            },
        }

    def to_html(self) -> str:
        """A standalone HTML page: one row per expectation with its outcome and counts."""
        from personalize_pipelines.validation.report import html_report

        return html_report([self], title=f"Validation of {self.table}: {self.suite_name}")


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return _jsonable(value.item())
    return str(value)
