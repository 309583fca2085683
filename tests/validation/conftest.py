"""Small deterministic interaction tables (clean, and with planted defects) and the project's suites."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from personalize_pipelines.validation import Suite, load_suite

ROOT = Path(__file__).resolve().parents[2]
SUITES = ROOT / "include" / "expectations"

WINDOW_START = 1_700_000_000
WINDOW_END = 1_731_536_000
EVENT_TYPES = ["purchase", "view"]
RAW_EVENT_TYPES = ["add_to_cart", "purchase", "view"]  # what the sources map, lower-cased and trimmed
PARAMETERS = {
    "window_start": WINDOW_START,
    "window_end": WINDOW_END,
    "event_types": EVENT_TYPES,
    "raw_event_types": RAW_EVENT_TYPES,
}

INTERACTION_COLUMNS = (
    '"USER_ID" VARCHAR, "ITEM_ID" VARCHAR, "TIMESTAMP" BIGINT, "EVENT_TYPE" VARCHAR, "EVENT_VALUE" DOUBLE'
)
RAW_COLUMNS = (
    "source VARCHAR, user_id VARCHAR, item_id VARCHAR, event_ts DOUBLE, event_type VARCHAR, "
    "event_type_key VARCHAR, event_value DOUBLE"
)

Row = tuple


def interactions(users: int = 60, per_user: int = 20) -> list[Row]:
    """users × per_user clean rows: every user has ≥ 2 interactions, all inside the window."""
    rows = []
    for u in range(users):
        for k in range(per_user):
            ts = WINDOW_START + (u * per_user + k) * 997
            rows.append(
                (
                    f"user-{u}",
                    f"item-{(u * 7 + k * 3) % 90}",
                    ts,
                    "purchase" if (u + k) % 5 == 0 else "view",
                    None,
                )
            )
    return rows


def raw_rows(n: int = 1000, *, null_user_ids: int = 0) -> list[Row]:
    """Raw unified source rows with messy-but-known event types; the first `null_user_ids` lack a user."""
    kinds = ["view", " View ", "ADD_TO_CART", "purchase "]
    return [
        raw_row(
            "clicks" if i % 3 else "orders",
            None if i < null_user_ids else f"u{i % 97}",
            f"i{i % 41}",
            float(WINDOW_START + i),
            kinds[i % 4],
            None,
        )
        for i in range(n)
    ]


def raw_row(source, user_id, item_id, event_ts, event_type, event_value) -> Row:
    """A row of the raw view: its event_type_key is the event type lower-cased and trimmed, as staged."""
    key = None if event_type is None else event_type.strip().lower()
    return (source, user_id, item_id, event_ts, event_type, key, event_value)


@pytest.fixture
def duck() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA stg")
    yield con
    con.close()


@pytest.fixture
def load_duck(duck) -> Callable[[str, list[Row], str], str]:
    def load(table: str, rows: list[Row], columns: str = INTERACTION_COLUMNS) -> str:
        duck.execute(f"CREATE OR REPLACE TABLE {table} ({columns})")
        if rows:
            batch = pa.table({f"c{i}": pa.array(values) for i, values in enumerate(zip(*rows, strict=True))})
            duck.register("staged_rows", batch)
            duck.execute(f"INSERT INTO {table} SELECT * FROM staged_rows")
            duck.unregister("staged_rows")
        return table

    return load


@pytest.fixture
def duck_query(duck) -> Callable[[str], list[tuple]]:
    return lambda sql: duck.execute(sql).fetchall()


@pytest.fixture(scope="session")
def contract() -> Suite:
    return load_suite(SUITES / "personalize_contract.json")


@pytest.fixture(scope="session")
def source_quality() -> Suite:
    return load_suite(SUITES / "source_quality.json")
