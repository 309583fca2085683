"""Expectation suites kept as GX 1.x JSON files, read without importing Great Expectations.

A suite file is what `gx.ExpectationSuite(**json.load(f))` accepts. This project adds three keys to the
suite's `meta`:

- `severity`: `"fail"` (a failed expectation fails the run) or `"warn"` (reported only); an
  expectation's own `meta.severity` overrides it.
- `parameter_defaults`: values for `{"$PARAMETER": name}` references the caller may leave out.
- `required_parameters`: names the caller must pass (checked before anything runs).

`unexpected_rows_expectation` queries may name parameters besides `{batch}` (e.g.
`{min_users_with_two}`); both runners substitute them as SQL literals before the query runs.

Column names in a suite meet the table's columns ignoring case when there is no exact match
(`Suite.bind_columns`): the contract says USER_ID as Personalize does, the warehouse says user_id.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from string import Formatter
from typing import Any

SEVERITIES = ("fail", "warn")
PARAMETER_KEY = "$PARAMETER"
_EXPECTATION_KEYS = {"type", "kwargs", "meta", "id", "description", "notes", "severity", "rendered_content"}
_PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_COLUMN_KWARGS = {"column", "column_A", "column_B"}
_COLUMN_LIST_KWARGS = {"column_list", "column_set", "column_names"}
_QUOTED_NAME = re.compile(r'"((?:[^"]|"")+)"')


class SuiteError(ValueError):
    """A suite file or its parameters are invalid; the message names the file, field or parameter."""


@dataclass(frozen=True)
class Expectation:
    """One expectation as written in the suite file (parameters not yet resolved)."""

    type: str
    kwargs: dict[str, Any]
    severity: str
    meta: dict[str, Any] = field(default_factory=dict)
    description: str | None = None

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column")

    def resolved_kwargs(self, parameters: Mapping[str, Any]) -> dict[str, Any]:
        """kwargs with every `{"$PARAMETER": name}` replaced by its value and query placeholders filled."""
        kwargs = _resolve(self.kwargs, parameters, where=self.type)
        if self.type == "unexpected_rows_expectation":
            kwargs["unexpected_rows_query"] = render_query_parameters(
                kwargs["unexpected_rows_query"], parameters, where=self.type
            )
        return kwargs

    def resolved_description(self, parameters: Mapping[str, Any]) -> str | None:
        if self.description is None:
            return None
        try:
            return self.description.format_map(_KeepMissing(parameters))
        except (ValueError, IndexError):
            return self.description


@dataclass(frozen=True)
class Suite:
    """A GX 1.x expectation suite loaded from a JSON file, with this project's severity and defaults."""

    name: str
    expectations: tuple[Expectation, ...]
    severity: str
    parameter_defaults: dict[str, Any]
    required_parameters: tuple[str, ...]
    document: dict[str, Any]
    source: str

    def parameters(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        """Defaults overlaid with `given`; raises SuiteError naming any parameter still missing."""
        merged = {**self.parameter_defaults, **(given or {})}
        needed = set(self.required_parameters) | self.referenced_parameters()
        missing = sorted(name for name in needed if merged.get(name) is None)
        if missing:
            raise SuiteError(
                f"{self.source}: suite {self.name!r} needs parameter(s) {', '.join(missing)}; "
                f"pass them in parameters= or set meta.parameter_defaults"
            )
        return merged

    def referenced_parameters(self) -> set[str]:
        names: set[str] = set()
        for expectation in self.expectations:
            names |= _referenced(expectation.kwargs)
            query = expectation.kwargs.get("unexpected_rows_query")
            if isinstance(query, str):
                names |= query_placeholders(query) - {"batch"}
        return names

    def bind_columns(self, table_columns: Sequence[str]) -> Suite:
        """The suite with column names spelled as the table spells them.

        A name with no exact match takes the one table column equal to it ignoring case, so the
        contract's USER_ID meets a `user_id` column on Postgres as it does on DuckDB (which ignores case
        even in quoted names). Double-quoted names in `unexpected_rows_query` are rewritten the same way.
        """
        mapping = {}
        for column in table_columns:
            mapping.setdefault(column.casefold(), []).append(column)

        def spell(name: Any) -> Any:
            if not isinstance(name, str) or name in table_columns:
                return name
            candidates = mapping.get(name.casefold(), [])
            return candidates[0] if len(candidates) == 1 else name

        def quoted(match: re.Match) -> str:
            name = match.group(1).replace('""', '"')
            return '"' + spell(name).replace('"', '""') + '"'

        def bind(kwargs: dict[str, Any]) -> dict[str, Any]:
            bound = dict(kwargs)
            for key in _COLUMN_KWARGS & bound.keys():
                bound[key] = spell(bound[key])
            for key in _COLUMN_LIST_KWARGS & bound.keys():
                if isinstance(bound[key], list):
                    bound[key] = [spell(c) for c in bound[key]]
            if isinstance(bound.get("unexpected_rows_query"), str):
                bound["unexpected_rows_query"] = _QUOTED_NAME.sub(quoted, bound["unexpected_rows_query"])
            return bound

        document = copy.deepcopy(self.document)
        for raw in document["expectations"]:
            raw["kwargs"] = bind(raw["kwargs"])
        expectations = tuple(replace(e, kwargs=bind(e.kwargs)) for e in self.expectations)
        return replace(self, expectations=expectations, document=document)

    def gx_document(self, parameters: Mapping[str, Any]) -> dict[str, Any]:
        """The suite as GX should run it: query placeholders other than `{batch}` already filled in.

        Each expectation gets a stable id (its position) so results can be matched back to it.
        """
        document = copy.deepcopy(self.document)
        for index, (raw, expectation) in enumerate(
            zip(document["expectations"], self.expectations, strict=True)
        ):
            raw["id"] = expectation_id(index)
            if expectation.type == "unexpected_rows_expectation":
                raw["kwargs"]["unexpected_rows_query"] = render_query_parameters(
                    raw["kwargs"]["unexpected_rows_query"], parameters, where=expectation.type
                )
        return document


def expectation_id(index: int) -> str:
    """A UUID-shaped id GX accepts, encoding the expectation's position in its suite."""
    return f"00000000-0000-4000-8000-{index:012d}"


def load_suite(path: Path | str) -> Suite:
    """Read and check a GX 1.x suite JSON file; SuiteError names the file and the bad field."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SuiteError(f"{path}: suite file not found") from None
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{path}: not valid JSON ({exc})") from None
    return parse_suite(document, source=str(path))


def parse_suite(document: Any, *, source: str = "<suite>") -> Suite:
    """Check a suite document (the parsed JSON) and return it as a Suite."""
    if not isinstance(document, dict):
        raise SuiteError(f"{source}: a suite is a JSON object")
    name = document.get("name")
    if not isinstance(name, str) or not name:
        raise SuiteError(f"{source}: field 'name' must be a non-empty string")
    meta = document.get("meta") or {}
    if not isinstance(meta, dict):
        raise SuiteError(f"{source}: field 'meta' must be an object")
    severity = meta.get("severity", "fail")
    if severity not in SEVERITIES:
        raise SuiteError(f"{source}: meta.severity must be one of {SEVERITIES}, got {severity!r}")
    defaults = meta.get("parameter_defaults") or {}
    if not isinstance(defaults, dict):
        raise SuiteError(f"{source}: meta.parameter_defaults must be an object")
    required = meta.get("required_parameters") or []
    if not isinstance(required, list) or not all(isinstance(n, str) for n in required):
        raise SuiteError(f"{source}: meta.required_parameters must be a list of names")
    raw_expectations = document.get("expectations")
    if not isinstance(raw_expectations, list) or not raw_expectations:
        raise SuiteError(f"{source}: field 'expectations' must be a non-empty list")
    expectations = tuple(
        _parse_expectation(raw, where=f"{source}: expectations[{index}]", default_severity=severity)
        for index, raw in enumerate(raw_expectations)
    )
    return Suite(
        name=name,
        expectations=expectations,
        severity=severity,
        parameter_defaults=dict(defaults),
        required_parameters=tuple(required),
        document=document,
        source=source,
    )


def _parse_expectation(raw: Any, *, where: str, default_severity: str) -> Expectation:
    if not isinstance(raw, dict):
        raise SuiteError(f"{where}: an expectation is a JSON object")
    unknown = sorted(set(raw) - _EXPECTATION_KEYS)
    if unknown:
        raise SuiteError(f"{where}: unknown field(s) {unknown}; allowed: {sorted(_EXPECTATION_KEYS)}")
    kind = raw.get("type")
    if not isinstance(kind, str) or not kind:
        raise SuiteError(f"{where}: field 'type' must name an expectation type")
    kwargs = raw.get("kwargs")
    if not isinstance(kwargs, dict):
        raise SuiteError(f"{where} ({kind}): field 'kwargs' must be an object")
    meta = raw.get("meta") or {}
    severity = meta.get("severity", default_severity)
    if severity not in SEVERITIES:
        raise SuiteError(f"{where} ({kind}): meta.severity must be one of {SEVERITIES}, got {severity!r}")
    query = kwargs.get("unexpected_rows_query")
    if kind == "unexpected_rows_expectation" and not isinstance(query, str):
        raise SuiteError(f"{where} ({kind}): kwargs.unexpected_rows_query must be a SQL string")
    if isinstance(query, str):
        try:
            query_placeholders(query)
        except ValueError as exc:
            raise SuiteError(
                f"{where} ({kind}): unexpected_rows_query has a malformed brace: {exc}"
            ) from None
    description = raw.get("description")
    return Expectation(type=kind, kwargs=kwargs, severity=severity, meta=meta, description=description)


def query_placeholders(query: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(query) if name}


def render_query_parameters(query: str, parameters: Mapping[str, Any], *, where: str) -> str:
    """Fill `{name}` placeholders except `{batch}` with SQL literals.

    The result is still a GX query template: `{batch}` stays and literal braces stay doubled, so
    `result.format(batch=table)` gives the SQL to run.
    """
    pieces = []
    for literal, name, spec, conversion in Formatter().parse(query):
        pieces.append(_escape_braces(literal))
        if name is None:
            continue
        if spec or conversion:
            raise SuiteError(
                f"{where}: query placeholder {{{name}}} must not carry a format spec or conversion"
            )
        if name == "batch":
            pieces.append("{batch}")
        elif name not in parameters:
            raise SuiteError(f"{where}: query placeholder {{{name}}} has no parameter value")
        else:
            pieces.append(_escape_braces(sql_literal(parameters[name], where=f"{where} parameter {name!r}")))
    return "".join(pieces)


def _escape_braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def sql_literal(value: Any, *, where: str) -> str:
    """A value as an ANSI SQL literal (numbers, strings, booleans); anything else is an error."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SuiteError(f"{where}: {value!r} cannot be written as a SQL literal")
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise SuiteError(f"{where}: {type(value).__name__} values cannot be written as SQL literals")


def _resolve(value: Any, parameters: Mapping[str, Any], *, where: str) -> Any:
    if isinstance(value, dict):
        if set(value) == {PARAMETER_KEY}:
            name = value[PARAMETER_KEY]
            if not isinstance(name, str) or not _PARAMETER_NAME.match(name):
                raise SuiteError(f"{where}: only plain parameter names are supported, got {name!r}")
            if name not in parameters:
                raise SuiteError(f"{where}: parameter {name!r} has no value")
            return copy.deepcopy(parameters[name])
        return {key: _resolve(item, parameters, where=where) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, parameters, where=where) for item in value]
    return value


def _referenced(value: Any) -> set[str]:
    if isinstance(value, dict):
        if set(value) == {PARAMETER_KEY}:
            return {value[PARAMETER_KEY]}
        return set().union(*(_referenced(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_referenced(item) for item in value))
    return set()


class _KeepMissing(dict):
    def __init__(self, values: Mapping[str, Any]):
        super().__init__(values)

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
