"""Personalize filter expressions: parsing, and evaluation to the items a request may return.

Supported: ``INCLUDE|EXCLUDE ItemID WHERE <condition> [AND|OR <condition>]...`` where a condition is
``Interactions.EVENT_TYPE IN ("a", "b")`` or ``Items.<FIELD> IN|NOT IN (...)`` / ``= | != | < | <= | > | >=``
with literal values, ``$PARAMETER`` placeholders or ``CurrentItem.<FIELD>`` (related-items requests);
several expressions may be chained with ``|``. User-segment filters read the same way with ``UserID``
and ``Users.<FIELD>`` conditions (``EXCLUDE UserID WHERE Users.AGE < $AGE``); :func:`restrict` then
evaluates to users, given the Users frame with its USER_ID as ``ITEM_ID``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from personalize_local.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd


_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<number>-?\d+(?:\.\d+)?)|(?P<param>\$[A-Za-z0-9_]+)'
    r"|(?P<op><=|>=|!=|=|<|>|\(|\)|,|\|)|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"
)
COMPARATORS = ("=", "!=", "<", "<=", ">", ">=")


@dataclass(frozen=True)
class CurrentItem:
    """``CurrentItem.<FIELD>``: the field's value(s) for the item a related-items request is about."""

    field: str


@dataclass(frozen=True)
class Condition:
    dataset: str  # "Interactions" or "Items"
    field: str
    operator: str  # IN, NOT IN or a comparator
    values: tuple[object, ...]  # literals, or ("$NAME",) placeholders


@dataclass(frozen=True)
class Expression:
    action: str  # INCLUDE or EXCLUDE
    # disjunction of conjunctions: [[c1, c2], [c3]] means (c1 AND c2) OR c3
    clauses: tuple[tuple[Condition, ...], ...]
    target: str = "ITEMID"  # or USERID: a user-segment filter

    @property
    def parameters(self) -> set[str]:
        return {
            v[1:]
            for clause in self.clauses
            for c in clause
            for v in c.values
            if isinstance(v, str) and v.startswith("$")
        }


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise InvalidInput(f"filterExpression: cannot parse near {text[position : position + 20]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def parse(text: str) -> list[Expression]:
    """Parse a filter expression; InvalidInput says what is wrong and where."""
    tokens = _tokens(text)
    expressions, index = [], 0

    def expect_word(*words: str) -> str:
        nonlocal index
        if index >= len(tokens) or tokens[index][1].upper() not in words:
            found = tokens[index][1] if index < len(tokens) else "end of expression"
            raise InvalidInput(f"filterExpression: expected {' or '.join(words)}, found {found!r}")
        index += 1
        return tokens[index - 1][1].upper()

    def value() -> object:
        nonlocal index
        if index >= len(tokens):
            raise InvalidInput("filterExpression: expected a value, found end of expression")
        kind, raw = tokens[index]
        index += 1
        if kind == "string":
            return json.loads(raw)
        if kind == "number":
            return float(raw)
        if kind == "param":
            return raw
        if kind == "word" and raw.startswith("CurrentItem.") and len(raw) > len("CurrentItem."):
            return CurrentItem(raw.removeprefix("CurrentItem."))
        raise InvalidInput(f"filterExpression: expected a value, found {raw!r}")

    def condition() -> Condition:
        nonlocal index
        if index >= len(tokens) or tokens[index][0] != "word" or "." not in tokens[index][1]:
            found = tokens[index][1] if index < len(tokens) else "end of expression"
            raise InvalidInput(
                f"filterExpression: expected Interactions.<FIELD> or Items.<FIELD>, found {found!r}"
            )
        dataset, _, field = tokens[index][1].partition(".")
        index += 1
        if dataset not in ("Interactions", "Items", "Users"):
            raise InvalidInput(
                f"filterExpression: dataset {dataset!r} is not supported; use Interactions, Items or Users"
            )
        if dataset == "Interactions" and field != "EVENT_TYPE":
            raise InvalidInput("filterExpression: only Interactions.EVENT_TYPE can be filtered on")
        upper = tokens[index][1].upper() if index < len(tokens) else ""
        if upper == "NOT":
            index += 1
            expect_word("IN")
            operator = "NOT IN"
        elif upper == "IN":
            index += 1
            operator = "IN"
        elif index < len(tokens) and tokens[index][1] in COMPARATORS:
            operator = tokens[index][1]
            index += 1
            return Condition(dataset, field, operator, (value(),))
        else:
            raise InvalidInput(
                f"filterExpression: expected IN, NOT IN or a comparison after {dataset}.{field}"
            )
        if index >= len(tokens) or tokens[index][1] != "(":
            raise InvalidInput(f"filterExpression: expected '(' after {operator}")
        index += 1
        values = [value()]
        while index < len(tokens) and tokens[index][1] == ",":
            index += 1
            values.append(value())
        if index >= len(tokens) or tokens[index][1] != ")":
            raise InvalidInput("filterExpression: expected ')' to close the value list")
        index += 1
        return Condition(dataset, field, operator, tuple(values))

    while True:
        action = expect_word("INCLUDE", "EXCLUDE")
        target = expect_word("ITEMID", "USERID")
        expect_word("WHERE")
        clauses, current = [], [condition()]
        while index < len(tokens) and tokens[index][1].upper() in ("AND", "OR"):
            joiner = tokens[index][1].upper()
            index += 1
            if joiner == "OR":
                clauses.append(tuple(current))
                current = []
            current.append(condition())
        clauses.append(tuple(current))
        datasets = {c.dataset for clause in clauses for c in clause}
        wrong = "Users" if target == "ITEMID" else "Items"
        if wrong in datasets:
            raise InvalidInput(
                f"filterExpression: {'ItemID' if target == 'ITEMID' else 'UserID'} filters cannot read {wrong}; "
                + ("filter items on Items" if target == "ITEMID" else "filter users on Users")
                + " or Interactions"
            )
        if len(datasets) > 1:
            raise InvalidInput(
                "filterExpression: one expression cannot mix Interactions and "
                + (datasets - {"Interactions"}).pop()
                + "; "
                "chain two expressions with |"
            )
        expressions.append(Expression(action, tuple(clauses), target))
        if index >= len(tokens):
            return expressions
        if tokens[index][1] != "|":
            raise InvalidInput(f"filterExpression: unexpected {tokens[index][1]!r}")
        index += 1


def parse_filter_values(raw: dict[str, str]) -> dict[str, tuple[object, ...]]:
    """filterValues as sent at runtime: ``{"GENRES": "\\"Comedy\\",\\"Drama\\""}`` → values per name."""
    parsed = {}
    for name, text in raw.items():
        try:
            values = json.loads(f"[{text}]")
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                f"filterValues[{name}] must be quoted, comma-separated values like "
                f'"\\"a\\",\\"b\\"", got {text!r}'
            ) from exc
        parsed[name] = tuple(values)
    return parsed


@dataclass
class ItemRestriction:
    """What a filter allows: items to leave out, and (for INCLUDE) the only items allowed."""

    exclude: frozenset[str] = frozenset()
    allowed: frozenset[str] | None = None

    def admits(self, item_id: str) -> bool:
        return item_id not in self.exclude and (self.allowed is None or item_id in self.allowed)

    def also(self, other: ItemRestriction) -> ItemRestriction:
        """What both restrictions admit."""
        if self.allowed is None or other.allowed is None:
            allowed = self.allowed if other.allowed is None else other.allowed
        else:
            allowed = self.allowed & other.allowed
        return ItemRestriction(exclude=self.exclude | other.exclude, allowed=allowed)


def restrict(
    expressions: list[Expression],
    *,
    values: dict[str, tuple[object, ...]],
    items: pd.DataFrame | None,
    user_items: Callable[[Iterable[str] | None], set[str]],
    current_item: str | None = None,
) -> ItemRestriction:
    """Evaluate expressions for one request.

    ``items`` is the Items dataset (ITEM_ID + metadata); ``user_items(event_types)`` gives the items the
    requesting user interacted with through those event types (all of them for None); ``current_item`` is
    the itemId of a related-items request, which ``CurrentItem.<FIELD>`` refers to.
    """
    exclude: set[str] = set()
    allowed: set[str] | None = None
    for expression in expressions:
        missing = expression.parameters - values.keys()
        if missing:
            if expression.action == "EXCLUDE":
                continue  # as in Personalize: an EXCLUDE without its values is not applied
            raise InvalidInput(
                f"filterValues must give {', '.join(sorted(missing))} for this filter's INCLUDE expression"
            )
        matched: set[str] = set()
        for clause in expression.clauses:
            clause_items: set[str] | None = None
            for condition in clause:
                found = _evaluate(condition, values, items, user_items, current_item)
                clause_items = found if clause_items is None else clause_items & found
            matched |= clause_items or set()
        if expression.action == "EXCLUDE":
            exclude |= matched
        else:
            allowed = matched if allowed is None else allowed & matched
    return ItemRestriction(frozenset(exclude), None if allowed is None else frozenset(allowed))


def _evaluate(
    condition: Condition,
    values: dict[str, tuple[object, ...]],
    items: pd.DataFrame | None,
    user_items: Callable[[Iterable[str] | None], set[str]],
    current_item: str | None,
) -> set[str]:
    import pandas as pd

    resolved: list[object] = []
    for value in condition.values:
        if isinstance(value, str) and value.startswith("$"):
            resolved.extend(values[value[1:]])
        elif isinstance(value, CurrentItem):
            resolved.extend(_current_values(value, items, current_item))
        else:
            resolved.append(value)
    if not resolved:
        return set()  # CurrentItem without a value matches nothing
    if condition.dataset == "Interactions":
        chosen = {str(v) for v in resolved}
        found = user_items(chosen)
        if condition.operator == "NOT IN":
            return user_items(None) - found
        return found
    if items is None or condition.field not in items.columns:
        raise InvalidInput(
            f"filter uses {condition.dataset}.{condition.field}, but the {condition.dataset} dataset has no "
            "such column"
        )
    column = items[condition.field]
    if condition.operator in ("IN", "NOT IN"):
        wanted = {str(v) for v in resolved}
        text = column.astype("string")
        split = text.fillna("").str.split("|")  # categorical multi-values "a|b"
        hit = split.map(lambda parts: bool(wanted.intersection(parts)))
        mask = hit if condition.operator == "IN" else ~hit
    else:
        target = resolved[0]
        numeric = pd.to_numeric(column, errors="coerce")
        left, right = (
            (numeric, float(target))
            if isinstance(target, int | float)
            else (column.astype("string"), str(target))
        )
        mask = {
            "=": left == right,
            "!=": left != right,
            "<": left < right,
            "<=": left <= right,
            ">": left > right,
            ">=": left >= right,
        }[condition.operator]
        mask = mask.fillna(False)
    return set(items.loc[mask.astype(bool).to_numpy(), "ITEM_ID"].astype(str))


def _current_values(value: CurrentItem, items: pd.DataFrame | None, current_item: str | None) -> list[object]:
    if current_item is None:
        raise InvalidInput(f"CurrentItem.{value.field} needs a request about an item (give itemId)")
    if items is None or value.field not in items.columns:
        raise InvalidInput(f"filter uses CurrentItem.{value.field}, but the Items dataset has no such column")
    found = items.loc[items["ITEM_ID"].astype(str) == current_item, value.field].dropna()
    if found.empty:
        return []
    first = found.iloc[0]
    return str(first).split("|") if isinstance(first, str) else [first]
