"""A deterministic synthetic shop warehouse in DuckDB, messy at known rates.

`generate(path, interactions=N)` writes five source tables a real shop has:

    customers(customer_id, signup_date, region, loyalty_tier, marketing_opt_in)
    products(product_id, category, brand, price, created_at, discontinued_note)
    orders(order_id, customer_id, ordered_at, status)
    order_items(order_id, line_no, product_id, quantity, unit_price)
    clickstream(event_id, session_id, customer_id, product_id, event_type, event_ts, device)

"Interactions" are clickstream rows plus order_items lines: exactly N rows in total, ~85% clicks and
~15% purchase lines. The history covers `months` calendar months ending at `end` (exclusive, midnight
UTC). Customers sign up over time (30% before the history) and products appear over time (40% in
the year before, the rest through the history); sessions are a few views, one second to a minute
apart, then (often) add_to_cart events for viewed items, and some sessions end minutes later in an
order with one line per distinct carted item. Item popularity is Zipf-like (rank r drawn with weight
~1/(r + 5)); traffic grows over the history and early customers are the most active.

Customers have taste: each has 1-3 favourite categories drawn from hash(customer, seed), and 75% of their
sessions browse one of them (the rest the category of a globally popular item). A session's first view
is in its category, most later views too (80% on a large shelf, fewer on a small one), the rest follow
global popularity; inside a category items keep their global popularity order and roughly their global
weight (a product's category follows from its popularity rank, so each category has a similar head). So
~64% of a customer's later events fall in the 3 categories they used most before (~25% of the catalogue),
the top 1% of items still take ~26% of views at 200k, and a personalization model beats popularity on
each customer's latest events (NDCG@10 0.041 vs 0.020 at 200k; 0.035 vs 0.038 without taste). No event or
order precedes its product's `created_at` or its customer's `signup_date`, and every timestamp lies
inside the history except the planted future ones.

Everything is computed in DuckDB SQL from `hash(i, stream, seed)` (never random(), whose sequence
depends on thread scheduling): the same seed and size give byte-identical table contents, in the same
physical order, on every run with the same DuckDB version (hash() may differ between versions).
200k interactions take ~1 s; 10M ~45 s on 2 cores shared with others (~38 s CPU, ~2 GB peak RSS).

Planted defects, counted exactly in the report (rates approximate, counts exact). **Defects never
overlap: a defective clickstream row carries exactly one defect**, bots' rows and duplicated rows are
otherwise clean, so a cleaning step's per-rule counts can be checked exactly against the report:

    null_customer_id        clickstream.customer_id NULL                         ~1%
    blank_customer_id       customer_id '', ' ', '   ' or a tab                   ~0.5%
    null_product_id         clickstream.product_id NULL                           ~0.3%
    duplicate_rows          extra copies of whole clean rows, event_id included   ~2% of clickstream
                            (distinct events also differ after normalising ids, case and ms)
    bot_users / bot_events  3 customers with max(3000, 0.5% of N) events each (capped at 5% of the
                            clickstream each for tiny N), >10x the busiest human
    ms_timestamps           event_ts in epoch milliseconds (÷1000 lands inside the history) ~1%
    future_timestamps       event_ts (seconds) after `end`, up to ~5 months ahead     ~0.2%
    messy_event_type        ' View', 'VIEW', 'view\\t', 'ADD_TO_CART ', ...; lower(trim(spaces,
                            tabs)) gives 'view' / 'add_to_cart'                         ~5%
    padded_product_id       product_id with surrounding spaces                        ~0.5%
    long_product_id_events  events referencing one of `long_product_ids` (5 products, ids > 256
                            characters) — a few per 100k interactions
    duplicate_order_items   extra copies of whole order_items lines (a few)
    null_region             customers.region NULL                                 ~8%
    discontinued_note       products.discontinued_note non-null (a near-empty column): exactly
                            max(1, 0.3% of products)
    cancelled_orders        orders.status 'cancelled' (the rest 'completed')      ~4%

All other clickstream rows are clean: ids trimmed and present, event_type exactly 'view' or
'add_to_cart', event_ts in epoch seconds inside [end - months, end).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

BOT_COUNT = 3
LONG_PRODUCT_COUNT = 5
MIN_INTERACTIONS = 2_000
ZIPF_OFFSET = 5  # keeps the single top item near 3% of events rather than 9%
LARGE_PRIME = 2_147_483_647  # coprime with any catalogue size below it: rank -> product permutation

CATEGORIES = (  # name, lowest price, highest price
    ("electronics", 19, 1500),
    ("books", 5, 60),
    ("clothing", 9, 220),
    ("home", 12, 450),
    ("beauty", 4, 120),
    ("sports", 9, 600),
    ("toys", 6, 150),
    ("grocery", 2, 40),
    ("garden", 8, 350),
    ("jewelry", 25, 2500),
    ("office", 3, 180),
    ("pet", 4, 130),
)
BRANDS = (
    "Acme",
    "Northwind",
    "Contoso",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Tyrell",
    "Soylent",
    "Cyberdyne",
    "Wonka",
    "Gringotts",
    "Oceanic",
    "Pied Piper",
    "Aperture",
    "Monarch",
    "Dunder",
    "Massive",
    "Krusty",
    "Duff",
    "Sirius",
    "Nakatomi",
    "Virtucon",
    "Zorg",
    "Gekko",
)
REGIONS = ("north", "south", "east", "west", "central", "coastal", "mountain", "islands")
LOYALTY_TIERS = (
    "bronze",
    "bronze",
    "bronze",
    "bronze",
    "silver",
    "silver",
    "silver",
    "gold",
    "gold",
    "platinum",
)
DEVICES = ("web", "web", "web", "web", "ios", "ios", "ios", "android", "android", "android")

# Session shape: views = 1 + floor(VIEW_SPREAD * u^2); with probability CART_PROBABILITY then
# 1 + floor(CART_SPREAD * u^2) add_to_cart events, each for an item viewed in the session.
VIEW_SPREAD = 7
CART_PROBABILITY = 0.7
CART_SPREAD = 4
DISTINCT_CART_SHARE = 0.77  # share of add_to_cart events that are a session's first cart of that item
EVENT_GAP_SECONDS = 60  # events of a session are 1..60 s apart; the session fits in 30 minutes
TRAFFIC_GROWTH = 0.85  # session start = start + span * u^0.85: traffic grows ~1.5x over the history
CUSTOMER_SKEW = 1.3  # customer = n * u^1.3 among the n signed up: early customers are the most active
SESSION_TAIL_SECONDS = 7_200  # sessions start at least 2 h before `end` (orders follow within 10 min)

# Taste: each customer has 1..MAX_FAVOURITES favourite categories. A session browses one category, its
# theme: one of the customer's favourites with probability FAVOURITE_SESSION_SHARE, else the category of
# a globally popular item. The first view is always in the theme, each later one with probability
# SESSION_FOCUS * n / (n + SHELF_HALF) for a theme of n products (else a global pick): a small shelf soon
# has nothing new to show, and views of the same item would leave too few distinct items to order in a
# small shop. A product's category follows from its popularity rank R: block R // 12 holds one product of
# each category, in a hashed order, so the r-th product of a category (its "shelf") is the one ranked
# 12 r + (its position in block r), found by arithmetic rather than a join. Inside a category, items are
# Zipf-like by shelf rank: offset ZIPF_OFFSET / len(CATEGORIES) keeps an item's weight ~ its global one.
MAX_FAVOURITES = 3
FAVOURITE_SESSION_SHARE = 0.75
SESSION_FOCUS = 0.8
SHELF_HALF = 10
CATEGORY_ZIPF_OFFSET = ZIPF_OFFSET / len(CATEGORIES)
# favourites are base, base + step, base + 2 step (mod the category count): steps that keep them distinct
FAVOURITE_STEPS = tuple(k for k in range(1, len(CATEGORIES)) if 2 * k % len(CATEGORIES))

# Clickstream defect bands over u in [0, 1): (code, name, upper bound). Anything above is clean.
DEFECT_BANDS = (
    (1, "null_customer_id", 0.010),
    (2, "blank_customer_id", 0.015),
    (3, "null_product_id", 0.018),
    (4, "ms_timestamps", 0.028),
    (5, "future_timestamps", 0.030),
    (6, "messy_event_type", 0.080),
    (7, "padded_product_id", 0.085),
)
LONG_ID_DEFECT = 8


@dataclass(frozen=True)
class Plan:
    """Sizes and constants derived from the parameters; every count the SQL needs is fixed here."""

    interactions: int
    seed: int
    end: date
    months: int
    start: date
    start_e: int
    end_e: int
    customers: int  # human customers; bots are the next BOT_COUNT ids
    early_customers: int  # signed up before the history starts
    products: int  # regular products; the long-id products follow
    early_products: int  # created before the history starts
    discontinued: int  # products with a discontinued_note
    order_lines: int  # order_items rows, duplicate lines included
    duplicate_lines: int
    clicks: int  # clickstream rows, duplicates and bots included
    bot_events_each: int
    duplicates: int
    long_events: int
    human_events: int
    sessions: int
    order_probability: float
    id_width: int

    @property
    def span(self) -> int:
        return self.end_e - self.start_e


def months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, 28))


def epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _expected_floor(spread: int) -> float:
    """E[floor(spread * u^2)] for u uniform on [0, 1)."""
    return sum(1 - math.sqrt(k / spread) for k in range(1, spread))


def plan(*, interactions: int, seed: int, end: date, months: int) -> Plan:
    """Derive every size from the requested number of interactions; raise ValueError naming the bad one."""
    if isinstance(interactions, bool) or not isinstance(interactions, int) or interactions < MIN_INTERACTIONS:
        raise ValueError(f"interactions must be an integer >= {MIN_INTERACTIONS}, got {interactions!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
        raise ValueError(f"seed must be an integer in [0, 2**31), got {seed!r}")
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 120:
        raise ValueError(f"months must be an integer in [1, 120], got {months!r}")
    if not isinstance(end, date) or isinstance(end, datetime):
        raise ValueError(f"end must be a datetime.date, got {end!r}")
    start = months_before(end, months)
    order_lines = round(0.15 * interactions)
    duplicate_lines = max(3, order_lines // 1000)
    clicks = interactions - order_lines
    bot_events_each = min(max(3000, math.ceil(0.005 * interactions)), clicks // 20)
    duplicates = round(0.02 * clicks)
    long_events = 5 + interactions // 100_000
    human_events = clicks - BOT_COUNT * bot_events_each - duplicates
    customers = max(50, interactions // 25)
    products = max(50, interactions // 100)
    mean_views = 1 + _expected_floor(VIEW_SPREAD)
    mean_carts = CART_PROBABILITY * (1 + _expected_floor(CART_SPREAD))
    expected_sessions = human_events / (mean_views + mean_carts)
    wanted_lines = order_lines - duplicate_lines
    # Order a little more often than needed (8% plus 3 standard deviations); the lines are then cut at
    # exactly `wanted_lines`. An order has one line per distinct carted item.
    margin = 1.08 + 3 / math.sqrt(wanted_lines)
    capacity = expected_sessions * mean_carts * DISTINCT_CART_SHARE
    order_probability = min(1.0, margin * wanted_lines / capacity)
    return Plan(
        interactions=interactions,
        seed=seed,
        end=end,
        months=months,
        start=start,
        start_e=epoch(start),
        end_e=epoch(end),
        customers=customers,
        early_customers=math.ceil(0.3 * customers),
        products=products,
        early_products=math.ceil(0.4 * products),
        discontinued=max(1, round(0.003 * products)),
        order_lines=order_lines,
        duplicate_lines=duplicate_lines,
        clicks=clicks,
        bot_events_each=bot_events_each,
        duplicates=duplicates,
        long_events=long_events,
        human_events=human_events,
        sessions=math.ceil(expected_sessions * 1.1) + 50,
        order_probability=order_probability,
        id_width=max(9, len(str(interactions)) + 1),
    )


def _sql_list(values) -> str:
    return "[" + ", ".join("'" + v + "'" for v in values) + "]"


def _zipf_rank(uniform: str, n: int | str, q: float = ZIPF_OFFSET) -> str:
    """A rank in [0, n) with weight ~ 1 / (rank + q) (Zipf-Mandelbrot), by inverting the CDF.

    `n` is a number or an SQL expression (then it must be positive)."""
    ratio = repr((n + q) / q) if isinstance(n, int) else f"(({n}) + {q}) / {q}"
    return f"floor(exp({uniform} * ln({ratio})) * {q!r} - {q!r})"


def _late_customer_slot(p: Plan) -> float:
    """Seconds between the signups of consecutive customers who join during the history."""
    return 0.97 * p.span / (p.customers - p.early_customers)


def _macros(p: Plan) -> list[str]:
    """Pure functions of an index: the same expression renders a product or customer wherever it appears."""
    day = 86_400
    early_p_slot = 365 * day / p.early_products
    late_p_slot = 0.97 * p.span / (p.products - p.early_products)
    early_c_slot = 730 * day / p.early_customers
    late_c_slot = _late_customer_slot(p)
    ncat = len(CATEGORIES)
    lows = "[" + ", ".join(str(c[1]) for c in CATEGORIES) + "]"
    highs = "[" + ", ".join(str(c[2]) for c in CATEGORIES) + "]"
    return [
        f"CREATE OR REPLACE TEMP MACRO u(i, stream) AS hash(i, stream, {p.seed}) / 18446744073709551616.0",
        # products -------------------------------------------------------------------------------
        f"""CREATE OR REPLACE TEMP MACRO product_id(i) AS CASE WHEN i >= {p.products}
              THEN 'SKU-' || CAST(i AS VARCHAR) || '-' || repeat('0123456789abcdef', 17)
              ELSE 'P' || lpad(CAST(i AS VARCHAR), {p.id_width}, '0') END""",
        # popularity rank R of product i (inverse of `popular`'s rank -> product permutation); block R // n
        # of the ranks holds one product of each of the n categories, shifted by a hash of the block
        f"""CREATE OR REPLACE TEMP MACRO popularity_rank(i) AS
              CAST(((i + {p.products - p.seed * 7919 % p.products}) * {pow(LARGE_PRIME, -1, p.products)})
              % {p.products} AS BIGINT)""",
        f"CREATE OR REPLACE TEMP MACRO block_shift(b) AS CAST(hash(b, 40, {p.seed}) % {ncat} AS INTEGER)",
        f"""CREATE OR REPLACE TEMP MACRO category_no(i) AS 1 + CASE
              WHEN i >= {p.products} THEN CAST(hash(i, 40, {p.seed}) % {ncat} AS INTEGER)
              ELSE CAST((popularity_rank(i) % {ncat} + block_shift(popularity_rank(i) // {ncat})) % {ncat} AS INTEGER)
              END""",
        # the product of category `cat` with rank r among that category's products, NULL past the catalogue
        f"""CREATE OR REPLACE TEMP MACRO shelf_item(cat, r) AS CASE
              WHEN {ncat} * r + (cat + {ncat - 1} - block_shift(r)) % {ncat} < {p.products}
              THEN CAST((({ncat} * r + (cat + {ncat - 1} - block_shift(r)) % {ncat}) * {LARGE_PRIME}
                         + {p.seed * 7919}) % {p.products} AS BIGINT) END""",
        f"""CREATE OR REPLACE TEMP MACRO price(i) AS CAST(greatest(0.99, round(
              {lows}[category_no(i)] * pow({highs}[category_no(i)] / {lows}[category_no(i)], u(i, 41))) - 0.01)
              AS DECIMAL(10, 2))""",
        f"""CREATE OR REPLACE TEMP MACRO created_e(i) AS CAST(CASE
              WHEN i >= {p.products} THEN {p.start_e - 400 * day} - (i - {p.products}) * {day}
              WHEN i < {p.early_products} THEN {p.start_e - 365 * day} + floor((i + u(i, 42)) * {early_p_slot})
              ELSE {p.start_e} + floor((i - {p.early_products} + u(i, 42)) * {late_p_slot}) END AS BIGINT)""",
        # popularity: Zipf-like rank over the whole catalogue, or over the early products (always live)
        f"""CREATE OR REPLACE TEMP MACRO popular(key, stream) AS CAST(({_zipf_rank("u(key, stream)", p.products)}
              * {LARGE_PRIME} + {p.seed * 7919}) % {p.products} AS BIGINT)""",
        f"""CREATE OR REPLACE TEMP MACRO popular_early(key) AS CAST(({_zipf_rank("u(key, 53)", p.early_products)}
              * {LARGE_PRIME} + {p.seed * 7919}) % {p.early_products} AS BIGINT)""",
        # customers ------------------------------------------------------------------------------
        f"CREATE OR REPLACE TEMP MACRO customer_id(c) AS 'C' || lpad(CAST(c AS VARCHAR), {p.id_width}, '0')",
        f"CREATE OR REPLACE TEMP MACRO favourites(c) AS 1 + CAST(hash(c, 80, {p.seed}) % {MAX_FAVOURITES} AS INTEGER)",
        f"""CREATE OR REPLACE TEMP MACRO favourite(c, j) AS CAST((hash(c, 81, {p.seed}) % {len(CATEGORIES)}
              + j * {list(FAVOURITE_STEPS)}[1 + CAST(hash(c, 82, {p.seed}) % {len(FAVOURITE_STEPS)} AS INTEGER)])
              % {len(CATEGORIES)} AS INTEGER) + 1""",
        f"""CREATE OR REPLACE TEMP MACRO signup_e(c) AS CAST(CASE
              WHEN c >= {p.customers} THEN {p.start_e - 500 * day} + (c - {p.customers}) * {day}
              WHEN c < {p.early_customers} THEN {p.start_e - 730 * day} + floor((c + u(c, 30)) * {early_c_slot})
              ELSE {p.start_e} + floor((c - {p.early_customers} + u(c, 30)) * {late_c_slot}) END AS BIGINT)""",
        f"CREATE OR REPLACE TEMP MACRO session_id(s) AS 'S' || lpad(CAST(s AS VARCHAR), {p.id_width}, '0')",
        "CREATE OR REPLACE TEMP MACRO ts(e) AS make_timestamp(CAST(e AS BIGINT) * 1000000)",
    ]


def _sessions_sql(p: Plan) -> str:
    """One row per human session: start time, a customer signed up by then, views, carts, order intent, and
    the category it browses."""
    late_c_slot = _late_customer_slot(p)
    return f"""
CREATE TEMP TABLE sessions AS
WITH timed AS (
  SELECT s,
    -- gently growing traffic over the history
    CAST({p.start_e} + floor(pow(u(s, 7), {TRAFFIC_GROWTH}) * {p.end_e - SESSION_TAIL_SECONDS - p.start_e}) AS BIGINT) AS t,
    1 + CAST(floor({VIEW_SPREAD} * pow(u(s, 2), 2)) AS INTEGER) AS views,
    CASE WHEN u(s, 3) < {CART_PROBABILITY} THEN 1 + CAST(floor({CART_SPREAD} * pow(u(s, 4), 2)) AS INTEGER)
         ELSE 0 END AS carts,
    u(s, 5) < {p.order_probability} AS wants_order,
    {_sql_list(DEVICES)}[1 + CAST(hash(s, 6, {p.seed}) % {len(DEVICES)} AS INTEGER)] AS device
  FROM range({p.sessions}) r(s)
), signed_up AS (
  -- customers 0 .. n-1 have all signed up by t (signup time grows with the index, one slot each)
  SELECT *, least({p.customers}, {p.early_customers} + CAST(floor((t - {p.start_e}) / {late_c_slot}) AS BIGINT)) AS n
  FROM timed
), customers AS (
  SELECT s, CAST(floor(n * pow(u(s, 1), {CUSTOMER_SKEW})) AS BIGINT) AS c, views, carts, wants_order, device, t,
    sum(views + carts) OVER (ORDER BY s ROWS UNBOUNDED PRECEDING) - (views + carts) AS off
  FROM signed_up
)
SELECT *, CASE WHEN u(s, 8) < {FAVOURITE_SESSION_SHARE}
               THEN favourite(c, CAST(hash(s, 9, {p.seed}) % favourites(c) AS INTEGER))
               ELSE category_no(popular(s, 54)) END AS theme
FROM customers
"""


def _events_sql(p: Plan) -> str:
    """Human events (before duplicates and bots), with their true product and one defect code or 0."""
    bands = " ".join(f"WHEN d < {upper} THEN {code}" for code, _, upper in DEFECT_BANDS)
    shelf = math.ceil(p.products / len(CATEGORIES))
    focus = SESSION_FOCUS * shelf / (shelf + SHELF_HALF)

    def on_shelf(stream: int) -> str:
        return f"shelf_item(theme, CAST({_zipf_rank(f'u(pkey, {stream})', shelf, CATEGORY_ZIPF_OFFSET)} AS BIGINT))"

    return f"""
CREATE TEMP TABLE events AS
WITH expanded AS (
  SELECT s, c, views, t, device, off, theme, unnest(range(views + carts)) AS k
  FROM sessions WHERE off < {p.human_events}
), keyed AS (
  SELECT s, c, views, t, device, k, off + k AS g, k >= views AS is_cart, theme,
    -- a cart event adds an item viewed earlier in the session: the same key gives the same item
    -- (carts take the viewed positions in turn from a random one, so they differ while there are enough)
    s * 32 + CASE WHEN k < views THEN k ELSE (hash(s, 11, {p.seed}) % views + k - views) % views END AS pkey
  FROM expanded WHERE off + k < {p.human_events}
), candidates AS (
  -- the session's first view, and most later ones, pick inside its theme (five tries to find a product
  -- that exists by then); the others follow global popularity
  SELECT *,
    CASE WHEN in_theme THEN {on_shelf(50)} ELSE popular(pkey, 50) END AS c1,
    CASE WHEN in_theme THEN {on_shelf(51)} ELSE popular(pkey, 51) END AS c2,
    CASE WHEN in_theme THEN {on_shelf(52)} ELSE popular(pkey, 52) END AS c3,
    CASE WHEN in_theme THEN {on_shelf(56)} END AS c4,
    CASE WHEN in_theme THEN {on_shelf(57)} END AS c5
  FROM (SELECT *, pkey % 32 = 0 OR u(pkey, 55) < {focus!r} AS in_theme FROM keyed)
)
SELECT g, s, c, k, views, is_cart, device,
  t + k * {EVENT_GAP_SECONDS} + CAST(floor(u(g, 10) * {EVENT_GAP_SECONDS - 1}) AS BIGINT) AS true_ts,
  CASE WHEN created_e(c1) <= t THEN c1 WHEN created_e(c2) <= t THEN c2 WHEN created_e(c3) <= t THEN c3
       WHEN created_e(c4) <= t THEN c4 WHEN created_e(c5) <= t THEN c5
       ELSE popular_early(pkey) END AS item,
  CAST(CASE {bands} ELSE 0 END AS TINYINT) AS defect
FROM (SELECT *, u(g, 12) AS d FROM candidates)
"""


def _picks_sql(p: Plan) -> str:
    """Clean events chosen (by hash order) to be duplicated or to point at a long product id."""
    return f"""
CREATE TEMP TABLE picks AS
SELECT g, CASE WHEN n <= {p.long_events} THEN 'long' ELSE 'dup' END AS kind, n
FROM (
  SELECT g, row_number() OVER (ORDER BY h, g) AS n
  FROM (SELECT g, hash(g, 13, {p.seed}) AS h FROM events WHERE defect = 0 ORDER BY h, g
        LIMIT {p.long_events + p.duplicates})
)
"""


def _clickstream_sql(p: Plan) -> str:
    blanks = "['', ' ', '   ', chr(9)]"
    views = "[' View', 'VIEW', 'view' || chr(9), 'View ', ' view']"
    carts = "['ADD_TO_CART ', 'Add_To_Cart', ' add_to_cart', 'add_to_cart' || chr(9), 'ADD_TO_CART']"
    bot_first = p.customers
    per = p.bot_events_each
    step = p.span / per
    return f"""
CREATE TABLE clickstream AS
WITH marked AS (
  SELECT e.*, CASE WHEN pk.kind = 'long' THEN {LONG_ID_DEFECT} ELSE e.defect END AS final_defect,
    pk.n, unnest(range(CASE WHEN pk.kind = 'dup' THEN 2 ELSE 1 END)) AS copy
  FROM events e LEFT JOIN picks pk USING (g)
), rendered AS (
  SELECT
    CAST(g + 1 AS BIGINT) AS event_id,
    session_id(s) AS session_id,
    CASE final_defect WHEN 1 THEN NULL
         WHEN 2 THEN {blanks}[1 + CAST(hash(g, 60, {p.seed}) % 4 AS INTEGER)]
         ELSE customer_id(c) END AS customer_id,
    CASE final_defect WHEN 3 THEN NULL
         WHEN 7 THEN list_extract([' ' || product_id(item), product_id(item) || ' ', '  ' || product_id(item) || '  '],
                                  1 + CAST(hash(g, 61, {p.seed}) % 3 AS INTEGER))
         WHEN {LONG_ID_DEFECT} THEN product_id({p.products} + n % {LONG_PRODUCT_COUNT})
         ELSE product_id(item) END AS product_id,
    CASE WHEN final_defect = 6 THEN
           (CASE WHEN is_cart THEN {carts} ELSE {views} END)[1 + CAST(hash(g, 62, {p.seed}) % 5 AS INTEGER)]
         WHEN is_cart THEN 'add_to_cart' ELSE 'view' END AS event_type,
    CASE final_defect WHEN 4 THEN true_ts * 1000 + CAST(hash(g, 63, {p.seed}) % 1000 AS BIGINT)
         WHEN 5 THEN {p.end_e + 3600} + CAST(floor(u(g, 64) * {150 * 86_400}) AS BIGINT)
         ELSE true_ts END AS event_ts,
    device
  FROM marked
), bots AS (
  SELECT
    CAST({p.human_events} + j + 1 AS BIGINT) AS event_id,
    session_id({p.sessions} + (j // {per}) * {math.ceil(per / 250)} + (j % {per}) // 250) AS session_id,
    customer_id({bot_first} + j // {per}) AS customer_id,
    product_id(CAST(hash(j, 20, {p.seed}) % {p.early_products} AS BIGINT)) AS product_id,
    CASE WHEN u(j, 21) < 0.1 THEN 'add_to_cart' ELSE 'view' END AS event_type,
    CAST({p.start_e} + floor((j % {per}) * {step}) + floor(u(j, 22) * {0.9 * step}) AS BIGINT) AS event_ts,
    'web' AS device
  FROM range({BOT_COUNT * per}) r(j)
)
SELECT event_id, session_id, customer_id, product_id, event_type, event_ts, device FROM (
  SELECT * FROM rendered
  UNION ALL SELECT * FROM bots
) ORDER BY event_id
"""


def _orders_sql(p: Plan) -> list[str]:
    """Orders from complete sessions that want one: a line per distinct carted item, cut at exactly the
    wanted number of lines (in session order); then a few whole lines duplicated."""
    wanted = p.order_lines - p.duplicate_lines
    return [
        f"""
CREATE TEMP TABLE lines AS
SELECT * FROM (
  SELECT s, k, g, item, row_number() OVER (ORDER BY s, k) AS n FROM (
    SELECT e.s, e.k, e.g, e.item, row_number() OVER (PARTITION BY e.s, e.item ORDER BY e.k) AS nth
    FROM events e JOIN sessions x ON x.s = e.s
    WHERE e.is_cart AND x.wants_order AND x.off + x.views + x.carts <= {p.human_events}
  ) WHERE nth = 1
) WHERE n <= {wanted}
""",
        f"""
CREATE TEMP TABLE ordered AS
SELECT s, c, t + (views + carts) * {EVENT_GAP_SECONDS} + 60 + CAST(floor(u(s, 70) * 540) AS BIGINT) AS at_e,
  'O' || lpad(CAST(row_number() OVER (ORDER BY s) AS VARCHAR), {p.id_width}, '0') AS order_id,
  CASE WHEN u(s, 71) < 0.04 THEN 'cancelled' ELSE 'completed' END AS status
FROM sessions WHERE s IN (SELECT s FROM lines)
""",
        """
CREATE TABLE orders AS
SELECT order_id, customer_id(c) AS customer_id, ts(at_e) AS ordered_at, status FROM ordered ORDER BY order_id
""",
        f"""
CREATE TABLE order_items AS
WITH priced AS (
  SELECT o.order_id, CAST(row_number() OVER (PARTITION BY l.s ORDER BY l.k) AS INTEGER) AS line_no,
    product_id(l.item) AS product_id,
    CAST(1 + (u(l.g, 72) < 0.15)::INTEGER + (u(l.g, 72) < 0.04)::INTEGER AS INTEGER) AS quantity,
    CASE WHEN u(l.g, 73) < 0.1 THEN CAST(round(price(l.item) * 0.9, 2) AS DECIMAL(10, 2))
         ELSE price(l.item) END AS unit_price,
    hash(l.g, 74, {p.seed}) AS h
  FROM lines l JOIN ordered o USING (s)
)
SELECT order_id, line_no, product_id, quantity, unit_price FROM (
  SELECT * FROM priced
  UNION ALL (SELECT * FROM priced ORDER BY h, order_id, line_no LIMIT {p.duplicate_lines})
) ORDER BY order_id, line_no
""",
    ]


def _dimensions_sql(p: Plan) -> list[str]:
    categories = _sql_list(c[0] for c in CATEGORIES)
    return [
        f"""
CREATE TABLE customers AS
SELECT customer_id(c) AS customer_id,
  CAST(ts(signup_e(c)) AS DATE) AS signup_date,
  CASE WHEN u(c, 31) < 0.08 THEN NULL
       ELSE {_sql_list(REGIONS)}[1 + CAST(hash(c, 32, {p.seed}) % {len(REGIONS)} AS INTEGER)] END AS region,
  {_sql_list(LOYALTY_TIERS)}[1 + CAST(hash(c, 33, {p.seed}) % {len(LOYALTY_TIERS)} AS INTEGER)] AS loyalty_tier,
  u(c, 34) < 0.4 AS marketing_opt_in
FROM range({p.customers + BOT_COUNT}) r(c)
ORDER BY c
""",
        f"""
CREATE TABLE products AS
SELECT product_id(i) AS product_id,
  {categories}[category_no(i)] AS category,
  {_sql_list(BRANDS)}[1 + CAST(hash(i, 43, {p.seed}) % {len(BRANDS)} AS INTEGER)] AS brand,
  price(i) AS price,
  ts(created_e(i)) AS created_at,
  CASE WHEN i < {p.products} AND (i * {LARGE_PRIME} + {p.seed * 31}) % {p.products} < {p.discontinued}
       THEN 'discontinued by supplier ' || CAST(ts(created_e(i) + 86400 * 200) AS DATE)
       END AS discontinued_note
FROM range({p.products + LONG_PRODUCT_COUNT}) r(i)
ORDER BY i
""",
    ]


def _report(con, p: Plan) -> dict:
    def one(sql: str):
        return con.execute(sql).fetchone()[0]

    rows = {
        t: one(f"SELECT count(*) FROM {t}")
        for t in ("customers", "products", "orders", "order_items", "clickstream")
    }
    by_code = dict(con.execute("SELECT defect, count(*) FROM events GROUP BY defect").fetchall())
    planted: dict = {name: by_code.get(code, 0) for code, name, _ in DEFECT_BANDS}
    planted["duplicate_rows"] = one("SELECT count(*) FROM picks WHERE kind = 'dup'")
    planted["long_product_id_events"] = one("SELECT count(*) FROM picks WHERE kind = 'long'")
    planted["long_product_ids"] = [
        r[0]
        for r in con.execute(
            f"SELECT product_id(i) FROM range({p.products}, {p.products + LONG_PRODUCT_COUNT}) r(i)"
        ).fetchall()
    ]
    planted["bot_users"] = [
        r[0]
        for r in con.execute(
            f"SELECT customer_id(c) FROM range({p.customers}, {p.customers + BOT_COUNT}) r(c)"
        ).fetchall()
    ]
    planted["bot_events"] = BOT_COUNT * p.bot_events_each
    planted["duplicate_order_items"] = p.duplicate_lines
    planted["null_region"] = one("SELECT count(*) FROM customers WHERE region IS NULL")
    planted["discontinued_note"] = p.discontinued
    planted["cancelled_orders"] = one("SELECT count(*) FROM orders WHERE status = 'cancelled'")
    ordered = sorted(planted)
    return {
        "rows": rows,
        "interactions": rows["clickstream"] + rows["order_items"],
        "planted": {k: planted[k] for k in ordered},
        "start": p.start.isoformat(),
        "end": p.end.isoformat(),
        "months": p.months,
        "seed": p.seed,
    }


def generate(
    path: str | os.PathLike,
    *,
    interactions: int = 200_000,
    seed: int = 7,
    end: date = date(2026, 11, 1),
    months: int = 13,
) -> dict:
    """Write the synthetic shop to the DuckDB file `path` and return the report of rows and planted defects.

    The file is built beside `path` under a temporary name and renamed into place, so readers never
    see a half-built warehouse; an existing file at `path` is replaced. The report is also written to
    `<path>.planted.json`. See the module docstring for the tables and the (non-overlapping) defects.
    """
    import duckdb

    p = plan(interactions=interactions, seed=seed, end=end, months=months)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        con = duckdb.connect(str(tmp))
        try:
            statements = [
                *_macros(p),
                _sessions_sql(p),
                _events_sql(p),
                _picks_sql(p),
                *_dimensions_sql(p),
                _clickstream_sql(p),
                *_orders_sql(p),
            ]
            for statement in statements:
                con.execute(statement)
            report = _report(con, p)
            if report["rows"]["order_items"] != p.order_lines:
                raise RuntimeError(
                    f"the session plan made {report['rows']['order_items']} order lines, {p.order_lines} wanted"
                )
            for temp in (
                "lines",
                "ordered",
                "picks",
                "events",
                "sessions",
            ):
                con.execute(f"DROP TABLE {temp}")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
    sidecar = target.with_name(target.name + ".planted.json")
    sidecar_tmp = sidecar.with_name(f".{sidecar.name}.{os.getpid()}.tmp")
    sidecar_tmp.write_text(json.dumps(report, indent=2) + "\n")
    os.replace(sidecar_tmp, sidecar)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m personalize_pipelines.warehouse.synthetic",
        description="Build the synthetic shop warehouse (DuckDB) and print its report of planted defects.",
    )
    parser.add_argument("--interactions", type=int, default=200_000, help="clickstream rows + order lines")
    parser.add_argument("--out", required=True, help="DuckDB file to write (replaced atomically)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--end", type=date.fromisoformat, default=date(2026, 11, 1), help="history end, YYYY-MM-DD"
    )
    parser.add_argument("--months", type=int, default=13)
    args = parser.parse_args(argv)
    try:
        report = generate(
            args.out, interactions=args.interactions, seed=args.seed, end=args.end, months=args.months
        )
    except ValueError as exc:
        parser.error(str(exc))
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
