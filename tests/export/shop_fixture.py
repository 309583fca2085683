"""A tiny shop warehouse with exactly known rows and defects, for exact per-rule assertions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

WINDOW_END = datetime(2026, 11, 1, tzinfo=UTC)
DAY = 86400
BASE = int(datetime(2026, 6, 1, tzinfo=UTC).timestamp())
HOLDOUT_BASE = int((WINDOW_END - timedelta(days=7)).timestamp())

# What a correct cleaning must report for this data.
EXPECTED_DROPS = {
    "missing_user_id": 5,  # 3 NULL + 2 blank
    "missing_item_id": 1,
    "id_too_long": 1,
    "unknown_event_type": 1,
    "invalid_timestamp": 1,
    "before_window": 2,  # 1 old row + 1 old row sent in milliseconds
    "future_timestamp": 1,
    "duplicate": 2,
    "bot_user": 200,
    "below_min_interactions": 1,
}
EXPECTED_CHANGES = {"timestamp_milliseconds": 1, "event_type_normalised": 2, "id_trimmed": 1}
VALID_USERS = 40
VIEWS_PER_USER = 30
HOLDOUT_PER_USER = 2
PURCHASES = 40  # one per valid user, completed; plus one cancelled order that the SQL excludes
BOT_EVENTS = 200
MAX_EVENTS_PER_USER = 100


def clickstream_rows() -> list[tuple]:
    rows = []
    event_id = 0

    def add(user, item, ts, event_type="view"):
        nonlocal event_id
        event_id += 1
        rows.append((event_id, f"s{event_id // 10}", user, item, event_type, ts, "web"))

    for u in range(VALID_USERS):
        for k in range(VIEWS_PER_USER):
            add(f"u{u:03d}", f"p{(u * 7 + k) % 50:03d}", BASE + u * 3600 + k * DAY)
        for k in range(HOLDOUT_PER_USER):
            add(f"u{u:03d}", f"p{(u + k) % 50:03d}", HOLDOUT_BASE + u * 60 + k, "add_to_cart")
    for _ in range(3):
        add(None, "p001", BASE + 5)
    add("", "p001", BASE + 6)
    add("   ", "p001", BASE + 7)
    add("u001", None, BASE + 8)
    add("u001", "x" * 300, BASE + 9)
    add("u001", "p002", BASE + 10, "wishlist")
    add("u001", "p002", 0)
    add("u001", "p002", int(datetime(2025, 1, 1, tzinfo=UTC).timestamp()))
    add("u001", "p002", int(datetime(2025, 1, 1, tzinfo=UTC).timestamp()) * 1000)
    add("u001", "p002", int((WINDOW_END + timedelta(days=30)).timestamp()))
    add("u002", "p003", (BASE + 11) * 1000)  # milliseconds, kept
    add("u002", "p003", BASE + 12, " View")  # messy type, kept
    add("u003", "p004", BASE + 13, "ADD_TO_CART\t")  # messy type, kept
    add("u004 ", "p005", BASE + 14)  # padded id, kept
    add("u999", "p006", BASE + 15)  # a single interaction: below the minimum
    for k in range(BOT_EVENTS):
        add("bot-1", f"p{k % 50:03d}", BASE + k * 60)
    duplicated = [rows[0], rows[1]]
    return rows + duplicated


def build(path: Path) -> Path:
    import duckdb

    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE clickstream(event_id BIGINT, session_id VARCHAR, customer_id VARCHAR, product_id VARCHAR,"
        " event_type VARCHAR, event_ts BIGINT, device VARCHAR)"
    )
    import pyarrow as pa

    columns = ["event_id", "session_id", "customer_id", "product_id", "event_type", "event_ts", "device"]
    batch = pa.Table.from_pylist([dict(zip(columns, row, strict=True)) for row in clickstream_rows()])  # noqa: F841
    con.execute("INSERT INTO clickstream SELECT * FROM batch")
    con.execute(
        "CREATE TABLE orders(order_id VARCHAR, customer_id VARCHAR, ordered_at TIMESTAMP, status VARCHAR)"
    )
    con.execute(
        "CREATE TABLE order_items(order_id VARCHAR, line_no INTEGER, product_id VARCHAR, quantity INTEGER,"
        " unit_price DECIMAL(10,2))"
    )
    for u in range(VALID_USERS):
        ordered = datetime(2026, 8, 1) + timedelta(hours=u)
        con.execute("INSERT INTO orders VALUES (?, ?, ?, 'completed')", [f"o{u}", f"u{u:03d}", ordered])
        con.execute("INSERT INTO order_items VALUES (?, 1, ?, 2, 9.50)", [f"o{u}", f"p{u % 50:03d}"])
    con.execute("INSERT INTO orders VALUES ('o-cancel', 'u001', TIMESTAMP '2026-08-02', 'cancelled')")
    con.execute("INSERT INTO order_items VALUES ('o-cancel', 1, 'p001', 1, 5.00)")
    con.execute(
        "CREATE TABLE products(product_id VARCHAR, category VARCHAR, brand VARCHAR, price DECIMAL(10,2),"
        " created_at TIMESTAMP, discontinued_note VARCHAR)"
    )
    for i in range(50):
        con.execute(
            "INSERT INTO products VALUES (?, ?, ?, ?, TIMESTAMP '2025-01-01' + INTERVAL (?) DAY, ?)",
            [f"p{i:03d}", f"cat{i % 5}", f"brand{i % 3}", 5 + i * 3, i, "old stock" if i == 0 else None],
        )
    con.execute("INSERT INTO products VALUES ('p001', 'dup', 'dup', 1, TIMESTAMP '2025-01-01', NULL)")
    con.execute("INSERT INTO products VALUES ('p999', 'late', 'x', 1, TIMESTAMP '2027-01-01', NULL)")
    con.execute(
        "CREATE TABLE customers(customer_id VARCHAR, signup_date DATE, region VARCHAR, loyalty_tier VARCHAR,"
        " marketing_opt_in BOOLEAN)"
    )
    for u in range(VALID_USERS):
        con.execute(
            "INSERT INTO customers VALUES (?, DATE '2025-06-01', ?, 'silver', true)",
            [f"u{u:03d}", None if u % 10 == 0 else "eu"],
        )
    con.execute("INSERT INTO customers VALUES (NULL, DATE '2025-06-01', 'eu', 'gold', false)")
    con.close()
    return path
