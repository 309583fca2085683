"""The synthetic shop: shape, planted defects counted exactly, time consistency, determinism, CLI."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import duckdb
import pytest

from personalize_pipelines.warehouse.synthetic import generate, main
from tests.warehouse.conftest import SIZE

TABLES = ("customers", "products", "orders", "order_items", "clickstream")
WS = "' ' || chr(9)"
SECONDS = "CASE WHEN event_ts >= 100000000000 THEN event_ts // 1000 ELSE event_ts END"
START_E = int(datetime(2025, 10, 1, tzinfo=UTC).timestamp())
END_E = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())


def one(con, sql: str):
    return con.execute(sql).fetchone()[0]


def bots_sql(report: dict) -> str:
    return "(" + ", ".join(f"'{b}'" for b in report["planted"]["bot_users"]) + ")"


def defect_flags(report: dict) -> dict[str, str]:
    """One independent SQL predicate per planted clickstream defect, written from the table's point of view."""
    return {
        "null_customer_id": "customer_id IS NULL",
        "blank_customer_id": f"customer_id IS NOT NULL AND trim(customer_id, {WS}) = ''",
        "null_product_id": "product_id IS NULL",
        "ms_timestamps": "event_ts >= 100000000000",
        "future_timestamps": f"event_ts < 100000000000 AND event_ts >= {END_E}",
        "messy_event_type": "event_type NOT IN ('view', 'add_to_cart')",
        "padded_product_id": "product_id <> trim(product_id)",
        "long_product_id_events": "length(product_id) > 256",
        "bot_events": f"customer_id IN {bots_sql(report)}",
    }


def checksums(path) -> dict[str, str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            t: one(con, f"SELECT md5(string_agg(CAST(x AS VARCHAR), chr(10) ORDER BY rowid)) FROM {t} x")
            for t in TABLES
        }
    finally:
        con.close()


def test_rows_add_up_to_the_requested_interactions(shop, con):
    rows = {t: one(con, f"SELECT count(*) FROM {t}") for t in TABLES}
    assert rows == shop.report["rows"]
    assert rows["clickstream"] + rows["order_items"] == SIZE == shop.report["interactions"]
    assert 0.14 <= rows["order_items"] / SIZE <= 0.16
    assert (
        one(con, "SELECT count(*) FROM order_items WHERE order_id NOT IN (SELECT order_id FROM orders)") == 0
    )


def test_report_counts_each_planted_defect_exactly(shop, con):
    planted = shop.report["planted"]
    for name, predicate in defect_flags(shop.report).items():
        assert one(con, f"SELECT count(*) FROM clickstream WHERE {predicate}") == planted[name], name
    exact_copies = "SELECT count(*) - (SELECT count(*) FROM (SELECT DISTINCT * FROM {t}))"
    assert one(con, exact_copies.format(t="clickstream") + " FROM clickstream") == planted["duplicate_rows"]
    assert (
        one(con, exact_copies.format(t="order_items") + " FROM order_items")
        == planted["duplicate_order_items"]
    )
    assert one(con, "SELECT count(*) FROM customers WHERE region IS NULL") == planted["null_region"]
    assert (
        one(con, "SELECT count(*) FROM products WHERE discontinued_note IS NOT NULL")
        == planted["discontinued_note"]
    )
    assert one(con, "SELECT count(*) FROM orders WHERE status = 'cancelled'") == planted["cancelled_orders"]
    assert one(con, "SELECT count(*) FROM orders WHERE status NOT IN ('completed', 'cancelled')") == 0
    long_ids = [
        r[0] for r in con.execute("SELECT product_id FROM products WHERE length(product_id) > 256").fetchall()
    ]
    assert sorted(long_ids) == sorted(planted["long_product_ids"]) and len(long_ids) >= 3
    assert planted["long_product_id_events"] >= 3
    customers = {r[0] for r in con.execute("SELECT customer_id FROM customers").fetchall()}
    assert set(planted["bot_users"]) <= customers and len(planted["bot_users"]) == 3


def test_each_defective_row_carries_exactly_one_defect(shop, con):
    flags = " + ".join(f"CASE WHEN {p} THEN 1 ELSE 0 END" for p in defect_flags(shop.report).values())
    assert one(con, f"SELECT max({flags}) FROM clickstream") == 1
    copied = f"""
        SELECT count(*) FROM (SELECT *, count(*) OVER (PARTITION BY event_id) AS copies FROM clickstream)
        WHERE copies > 1 AND ({flags}) > 0"""
    assert one(con, copied) == 0
    flagged = one(con, f"SELECT count(*) FROM clickstream WHERE ({flags}) > 0")
    planted = shop.report["planted"]
    assert flagged == sum(planted[name] for name in defect_flags(shop.report))


def test_messy_values_normalise_to_clean_ones(con):
    normalised = f"SELECT DISTINCT lower(trim(event_type, {WS})) FROM clickstream ORDER BY 1"
    assert [r[0] for r in con.execute(normalised).fetchall()] == ["add_to_cart", "view"]
    unknown = """SELECT count(*) FROM clickstream WHERE product_id IS NOT NULL
        AND trim(product_id) NOT IN (SELECT product_id FROM products)"""
    assert one(con, unknown) == 0
    unknown = f"""SELECT count(*) FROM clickstream WHERE trim(customer_id, {WS}) <> ''
        AND customer_id NOT IN (SELECT customer_id FROM customers)"""
    assert one(con, unknown) == 0


def test_defect_rates_are_near_their_targets(shop):
    clicks = shop.report["rows"]["clickstream"]
    planted = shop.report["planted"]
    targets = {  # name: (low, high) share of clickstream rows
        "null_customer_id": (0.007, 0.013),
        "blank_customer_id": (0.003, 0.007),
        "null_product_id": (0.0015, 0.0045),
        "duplicate_rows": (0.018, 0.022),
        "ms_timestamps": (0.007, 0.013),
        "future_timestamps": (0.001, 0.003),
        "messy_event_type": (0.04, 0.06),
        "padded_product_id": (0.003, 0.007),
    }
    for name, (low, high) in targets.items():
        assert low <= planted[name] / clicks <= high, (name, planted[name] / clicks)
    region_null = planted["null_region"] / shop.report["rows"]["customers"]
    assert 0.05 <= region_null <= 0.11
    assert planted["discontinued_note"] / shop.report["rows"]["products"] <= 0.01


def test_bots_dwarf_every_human(shop, con):
    planted = shop.report["planted"]
    per_bot = con.execute(
        f"SELECT count(*) FROM clickstream WHERE customer_id IN {bots_sql(shop.report)} GROUP BY customer_id"
    ).fetchall()
    busiest_human = one(
        con,
        f"""SELECT max(n) FROM (SELECT count(*) n FROM clickstream WHERE customer_id NOT IN {bots_sql(shop.report)}
            AND trim(customer_id, {WS}) <> '' GROUP BY customer_id)""",
    )
    assert len(per_bot) == 3
    assert sum(n for (n,) in per_bot) == planted["bot_events"]
    assert min(n for (n,) in per_bot) >= 1000
    assert min(n for (n,) in per_bot) >= 5 * busiest_human


def test_bots_reach_thousands_of_events_at_demo_scale(demo_shop):
    assert demo_shop.report["planted"]["bot_events"] == 3 * 3000


def test_timestamps_stay_inside_the_history_except_the_planted_future_ones(shop, con):
    assert (shop.report["start"], shop.report["end"], shop.report["months"]) == (
        "2025-10-01",
        "2026-11-01",
        13,
    )
    before = one(con, f"SELECT count(*) FROM clickstream WHERE {SECONDS} < {START_E}")
    after = one(con, f"SELECT count(*) FROM clickstream WHERE {SECONDS} >= {END_E}")
    assert before == 0
    assert after == shop.report["planted"]["future_timestamps"]
    assert (
        one(con, "SELECT max(event_ts) FROM clickstream WHERE event_ts < 100000000000") <= END_E + 200 * 86400
    )
    span = con.execute("SELECT min(ordered_at), max(ordered_at) FROM orders").fetchone()
    assert datetime(2025, 10, 1) <= span[0] and span[1] < datetime(2026, 11, 1)
    # the history is used throughout, not bunched at one end
    per_month = con.execute(
        f"""SELECT count(*) FROM clickstream WHERE {SECONDS} < {END_E}
            GROUP BY date_trunc('month', make_timestamp(({SECONDS}) * 1000000))"""
    ).fetchall()
    assert len(per_month) == 13
    assert min(n for (n,) in per_month) >= 0.3 * max(n for (n,) in per_month)


def test_nothing_happens_before_its_product_exists_or_its_customer_signs_up(con):
    clicks = f"""
        SELECT trim(customer_id, {WS}) AS customer_id, trim(product_id) AS product_id,
               make_timestamp(({SECONDS}) * 1000000) AS at
        FROM clickstream"""
    before_product = (
        f"SELECT count(*) FROM ({clicks}) c JOIN products p USING (product_id) WHERE c.at < p.created_at"
    )
    before_signup = (
        f"SELECT count(*) FROM ({clicks}) c JOIN customers u USING (customer_id) WHERE c.at < u.signup_date"
    )
    assert one(con, before_product) == 0
    assert one(con, before_signup) == 0
    order_before_signup = (
        "SELECT count(*) FROM orders JOIN customers USING (customer_id) WHERE ordered_at < signup_date"
    )
    line_before_product = """SELECT count(*) FROM order_items i JOIN orders o USING (order_id)
        JOIN products p USING (product_id) WHERE o.ordered_at < p.created_at"""
    assert one(con, order_before_signup) == 0
    assert one(con, line_before_product) == 0
    # products and customers really arrive over time
    assert one(con, "SELECT count(*) FROM products WHERE created_at >= '2026-05-01'") > 0
    assert one(con, "SELECT count(*) FROM customers WHERE signup_date >= '2026-05-01'") > 0


def test_sessions_view_then_cart_and_orders_buy_carted_items(shop, con):
    clean = f"""SELECT session_id, customer_id, trim(product_id) AS product_id,
               lower(trim(event_type, {WS})) AS event_type, {SECONDS} AS event_ts
        FROM clickstream WHERE customer_id NOT IN {bots_sql(shop.report)}"""
    carts_after_a_view = f"""
        SELECT avg(CASE WHEN EXISTS (SELECT 1 FROM ({clean}) v WHERE v.session_id = c.session_id
              AND v.product_id = c.product_id AND v.event_type = 'view' AND v.event_ts < c.event_ts)
              THEN 1.0 ELSE 0.0 END)
        FROM ({clean}) c WHERE c.event_type = 'add_to_cart'"""
    assert one(con, carts_after_a_view) >= 0.98
    lines_carted_first = f"""
        SELECT avg(CASE WHEN EXISTS (SELECT 1 FROM ({clean}) c WHERE c.customer_id = o.customer_id
              AND c.product_id = i.product_id AND c.event_type = 'add_to_cart'
              AND c.event_ts < epoch(o.ordered_at)) THEN 1.0 ELSE 0.0 END)
        FROM order_items i JOIN orders o USING (order_id)"""
    assert one(con, lines_carted_first) >= 0.98
    mean_session = one(con, "SELECT avg(n) FROM (SELECT count(*) n FROM clickstream GROUP BY session_id)")
    shared = f"""SELECT count(*) FROM (SELECT session_id FROM clickstream WHERE trim(customer_id, {WS}) <> ''
        GROUP BY session_id HAVING count(DISTINCT customer_id) > 1)"""
    assert one(con, shared) == 0
    assert 2 <= mean_session <= 10


def test_item_popularity_follows_a_power_law(shop, con):
    shares = f"""
        WITH per_item AS (
          SELECT trim(product_id) AS item, count(*) AS n FROM clickstream
          WHERE product_id IS NOT NULL AND customer_id NOT IN {bots_sql(shop.report)} GROUP BY 1),
        ranked AS (SELECT n, row_number() OVER (ORDER BY n DESC) AS rank FROM per_item)
        SELECT sum(n) FILTER (WHERE rank <= {shop.report["rows"]["products"] // 100}) / sum(n) FROM ranked"""
    assert one(con, shares) >= 0.10  # ten times the 1% a uniform choice would give


def clean_events_sql(report: dict) -> str:
    """Human clickstream rows that name a customer and a product, with the product's category."""
    return f"""
        SELECT c.customer_id, c.session_id, c.event_id, p.product_id, p.category,
               lower(trim(c.event_type, {WS})) AS event_type, {SECONDS} AS ts
        FROM clickstream c JOIN products p ON p.product_id = trim(c.product_id)
        WHERE trim(c.customer_id, {WS}) <> '' AND c.customer_id NOT IN {bots_sql(report)}"""


def test_customers_keep_to_their_favourite_categories(shop, con):
    """A customer's later events mostly fall in the categories they used most before: far above the share
    of those categories in the catalogue, yet they still stray (taste, not a wall)."""
    later_in_earlier_favourites = f"""
        WITH o AS (SELECT *, row_number() OVER (PARTITION BY customer_id ORDER BY ts, event_id) AS pos,
                     count(*) OVER (PARTITION BY customer_id) AS n FROM ({clean_events_sql(shop.report)})),
          earlier AS (SELECT customer_id, category, count(*) AS k FROM o WHERE n >= 20 AND pos <= n / 2 GROUP BY ALL),
          favourites AS (
            SELECT customer_id, category FROM (
              SELECT *, row_number() OVER (PARTITION BY customer_id ORDER BY k DESC, category) AS r FROM earlier)
            WHERE r <= 3)
        SELECT avg(CASE WHEN f.category IS NULL THEN 0.0 ELSE 1.0 END), count(DISTINCT o.customer_id)
        FROM o LEFT JOIN favourites f USING (customer_id, category) WHERE n >= 20 AND pos > n / 2"""
    share, customers = con.execute(later_in_earlier_favourites).fetchone()
    three_largest = one(
        con,
        """SELECT sum(n) / (SELECT count(*) FROM products)
           FROM (SELECT count(*) AS n FROM products GROUP BY category ORDER BY n DESC LIMIT 3)""",
    )
    assert customers >= 200
    assert three_largest <= 0.35
    assert 0.5 <= share <= 0.85, share
    assert share >= 1.7 * three_largest, (share, three_largest)


def test_a_session_browses_the_category_of_its_first_view(shop, con):
    other_views_in_first_category = f"""
        WITH v AS (SELECT * FROM ({clean_events_sql(shop.report)}) WHERE event_type = 'view'),
          first AS (SELECT session_id, arg_min(product_id, event_id) AS item, arg_min(category, event_id) AS category
                    FROM v GROUP BY session_id)
        SELECT avg(CASE WHEN v.category = f.category THEN 1.0 ELSE 0.0 END)
        FROM v JOIN first f USING (session_id) WHERE v.product_id <> f.item"""
    share = one(con, other_views_in_first_category)
    assert 0.45 <= share <= 0.9, share  # a tasteless session would land there ~1 time in 12


def test_same_seed_gives_identical_tables_and_another_seed_does_not(shop, demo_shop, tmp_path):
    # demo size: tables span several row groups, so DuckDB really works on them in parallel
    again = tmp_path / "again.duckdb"
    report = generate(again, interactions=demo_shop.report["interactions"])
    assert report == demo_shop.report
    assert checksums(again) == checksums(demo_shop.path)
    other = tmp_path / "other.duckdb"
    generate(other, interactions=SIZE, seed=8)
    theirs, ours = checksums(other), checksums(shop.path)
    assert {t for t in TABLES if theirs[t] != ours[t]} == set(TABLES)


def test_generate_replaces_the_file_atomically_and_writes_the_report_beside_it(tmp_path):
    target = tmp_path / "shop.duckdb"
    target.write_text("an older, broken warehouse")
    report = generate(target, interactions=5_000, seed=1, end=date(2026, 6, 1), months=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.duckdb", "shop.duckdb.planted.json"]
    assert json.loads((tmp_path / "shop.duckdb.planted.json").read_text()) == report
    assert (report["start"], report["end"], report["months"], report["seed"]) == (
        "2026-03-01",
        "2026-06-01",
        3,
        1,
    )
    con = duckdb.connect(str(target), read_only=True)
    try:
        assert one(con, "SELECT count(*) FROM clickstream") == report["rows"]["clickstream"]
        assert [
            r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()
        ] == sorted(TABLES)
    finally:
        con.close()


def test_cli_builds_the_warehouse_and_prints_the_report(tmp_path, capsys):
    out = tmp_path / "cli.duckdb"
    assert main(["--interactions", "5000", "--out", str(out), "--seed", "3"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(out.with_name("cli.duckdb.planted.json").read_text())
    assert printed["interactions"] == 5000 and printed["seed"] == 3


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"interactions": 100}, "interactions"),
        ({"months": 0}, "months"),
        ({"seed": -1}, "seed"),
        ({"end": "2026-11-01"}, "end"),
    ],
)
def test_bad_parameters_are_rejected_naming_the_parameter(tmp_path, kwargs, named):
    with pytest.raises(ValueError, match=named):
        generate(tmp_path / "x.duckdb", **kwargs)
    assert not any(tmp_path.iterdir())


def test_cli_reports_a_bad_size_as_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--interactions", "10", "--out", str(tmp_path / "x.duckdb")])
    assert exit_info.value.code == 2
    assert "interactions must be an integer >= 2000" in capsys.readouterr().err


def test_distinct_events_stay_distinct_after_normalisation(shop, con):
    """A cleaning step that dedups on normalised keys (not event_id) finds exactly the planted copies."""
    clicks = f"""
        SELECT trim(customer_id, {WS}) AS u, trim(product_id) AS i, {SECONDS} AS ts,
               lower(trim(event_type, {WS})) AS e
        FROM clickstream WHERE trim(customer_id, {WS}) <> '' AND product_id IS NOT NULL"""
    repeats = f"SELECT count(*) - (SELECT count(*) FROM (SELECT DISTINCT * FROM ({clicks}))) FROM ({clicks})"
    assert one(con, repeats) == shop.report["planted"]["duplicate_rows"]
    purchases = """
        SELECT o.customer_id, i.product_id, o.ordered_at, i.quantity * i.unit_price AS value
        FROM orders o JOIN order_items i USING (order_id)"""
    repeats = (
        f"SELECT count(*) - (SELECT count(*) FROM (SELECT DISTINCT * FROM ({purchases}))) FROM ({purchases})"
    )
    assert one(con, repeats) == shop.report["planted"]["duplicate_order_items"]
    same_item_twice = "SELECT count(*) - count(DISTINCT (order_id, product_id)) FROM order_items"
    assert one(con, same_item_twice) == shop.report["planted"]["duplicate_order_items"]
