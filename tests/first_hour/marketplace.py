"""A second warehouse, shaped unlike the shop's: a marketplace app's events in epoch milliseconds, its
orders as TIMESTAMPs, and a listings catalogue, with every cleaning rule's rows planted in exact,
non-overlapping numbers.

Tables (DuckDB):
  app_events(event_id, member, listing, action, occurred_ms BIGINT, received_ms BIGINT)
      occurred_ms is the device's clock, received_ms the server's; the use case's query bounds
      received_ms by the window (the table is read by arrival), so the device clock can be before the
      window, after its end, or missing, and cleaning counts those rows.
  orders_placed(order_id, buyer_ref, listing_ref, placed_at TIMESTAMP)
      bounded by placed_at in its query: orders before the window (or without a time) never leave the
      warehouse, so they are counted nowhere (``FILTERED_BY_SQL``).
  listings(listing_id, title, category, price DECIMAL, listed_at TIMESTAMP)

``build(path)`` writes the file and returns a :class:`Planted`: what a correct export must report.
Rows are tagged with the rule that must drop them while they are generated, and every expected count is
computed from those tags, never typed in by hand.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

WINDOW_END = datetime(2026, 11, 1, tzinfo=UTC)
WINDOW_START = datetime(2026, 8, 1, tzinfo=UTC)  # window: {months: 3}
HOLDOUT_START = WINDOW_END - timedelta(days=14)  # holdout: {strategy: last_days, days: 14}
START, END, HOLDOUT = (int(t.timestamp()) for t in (WINDOW_START, WINDOW_END, HOLDOUT_START))
DAY = 86400

MAX_EVENTS_PER_USER = 500  # cleaning.max_events_per_user in the use case's YAML
MAX_DEFECT_FRACTION = 0.2  # cleaning.max_defect_fraction (the default)
MEMBERS = 300
LISTINGS = 200
CATEGORIES = 10
TRAIN_EVENTS = 15  # app events per member before the holdout
HOLDOUT_EVENTS = 2
BOT = "m-crawler"
BOT_EVENTS = 1800  # > MAX_EVENTS_PER_USER; and > MAX_DEFECT_FRACTION of the in-window rows
ONCE = "m-once"  # one interaction: below cleaning.min_interactions_per_user (2)

# Ids a CSV writer must quote, and one that trimming changes: published exactly as here.
MEMBER_COMMA = "m-comma,jr"
MEMBER_QUOTE = 'm-"quoted"'
MEMBER_PADDED_RAW = "  m-padded"  # leading spaces: cleaning trims them (and counts id_trimmed)
MEMBER_PADDED = "m-padded"
LISTING_COMMA = "L-1001,blue"
LISTING_QUOTE = 'L-"2002"'

# raw action → EVENT_TYPE (the YAML's app_events.event_types); raw spellings the app really sends
ACTIONS = {"view": ("view", "View", "VIEW "), "tap": ("tap", " Tap "), "save": ("save", "SAVE")}
EVENT_TYPE = {
    "view": "View",
    "tap": "Click",
    "save": "Save",
    "contact_seller": "Contact",
    "order": "Purchase",
}
UNKNOWN = {"share": 9, "SHARE": 4}  # raw values the mapping does not know, and how many rows each
TRACKED_RULES = (
    "missing_user_id",
    "missing_item_id",
    "id_too_long",
    "missing_event_type",
    "unknown_event_type",
    "invalid_timestamp",
    "before_window",
    "future_timestamp",
    "duplicate",
    "bot_user",
    "below_min_interactions",
    "beyond_recent_cap",  # no cap configured: every rule is in the manifest, this one at 0
)
DEFECT_RULES = (
    "missing_user_id",
    "missing_item_id",
    "id_too_long",
    "missing_event_type",
    "unknown_event_type",
    "invalid_timestamp",
    "duplicate",
)


def member_id(u: int) -> str:
    return {7: MEMBER_COMMA, 8: MEMBER_QUOTE, 9: MEMBER_PADDED_RAW}.get(u, f"m{u:04d}")


def listing_id(i: int) -> str:
    return {11: LISTING_COMMA, 12: LISTING_QUOTE}.get(i, f"L-{i:04d}")


@dataclass
class Row:
    source: str  # app_events | orders
    values: tuple
    rule: str | None  # the rule that drops it (None: published)
    user: str | None = None  # the id as published (trimmed)
    ts: int | None = None  # event time in seconds, as cleaning reads it
    event_type: str | None = None  # mapped EVENT_TYPE
    raw_type: str | None = None
    changed: dict[str, int] = field(default_factory=dict)

    @property
    def published(self) -> tuple[str, str, int, str]:
        """As the interactions CSV holds it: USER_ID, ITEM_ID, TIMESTAMP, EVENT_TYPE."""
        return (self.user, self.values[2].strip(), self.ts, self.event_type)


@dataclass(frozen=True)
class Planted:
    """What the export of this warehouse for the window ending WINDOW_END must report."""

    dropped: dict[str, int]  # per cleaning rule, as the manifest's cleaning.dropped
    defects: dict[str, int]
    bots: dict[str, int]  # {"users": 1, "rows": BOT_EVENTS}
    in_window_rows: int
    unknown_event_types: dict[str, dict[str, int]]  # per source: raw value → rows
    event_types: dict[str, dict[str, int]]  # EVENT_TYPE → {train, holdout} published rows
    raw_rows: dict[str, int]  # per source: rows the queries return
    filtered_by_sql: dict[str, int]  # per source: rows in the table its query leaves out
    train_rows: int
    holdout_rows: int
    changed: dict[str, int]
    quoted_ids: dict[str, list[str]]  # interactions column → ids needing CSV quoting or trimmed
    published: dict[str, list[tuple[str, str, int, str]]]  # interactions, holdout: sorted rows

    @property
    def defect_fraction_if_bots_counted(self) -> float:
        return (sum(self.defects.values()) + self.bots["rows"]) / self.in_window_rows


class _Generator:
    def __init__(self, seed: int = 12) -> None:
        self.rng = random.Random(seed)
        self.rows: list[Row] = []
        self.used: set[tuple[str, int]] = set()  # (member, second): no two generated events collide
        self.event_id = 0
        self.order_id = 0

    def second(self, member: str, low: int, high: int) -> int:
        while True:
            ts = self.rng.randrange(low, high)
            if (member, ts) not in self.used:
                self.used.add((member, ts))
                return ts

    def app(
        self,
        member: str | None,
        listing: str | None,
        action: str | None,
        occurred_ms: int | None,
        *,
        rule: str | None = None,
        received_ms: int | None = None,
    ) -> Row:
        self.event_id += 1
        if received_ms is None:
            base = max(occurred_ms or 0, START * 1000)  # arrives in the window, whatever its clock says
            received_ms = base + self.rng.randrange(100, 5000)
        values = (self.event_id, member, listing, action, occurred_ms, received_ms)
        key = (action or "").strip().lower()
        row = Row(
            "app_events",
            values,
            rule,
            user=member.strip() if member else member,
            ts=occurred_ms // 1000 if occurred_ms is not None else None,
            event_type=EVENT_TYPE.get(key),
            raw_type=action,
        )
        row.changed = {
            "timestamp_milliseconds": 1,
            "event_type_normalised": int(action != key),
            "id_changed": int(member != row.user or (listing or "") != (listing or "").strip()),
        }
        self.rows.append(row)
        return row

    def order(self, buyer: str | None, listing: str | None, placed: int | None, *, rule=None) -> Row:
        self.order_id += 1
        at = datetime.fromtimestamp(placed, UTC).replace(tzinfo=None) if placed is not None else None
        values = (f"o{self.order_id:05d}", buyer, listing, at)
        row = Row(
            "orders",
            values,
            rule,
            user=buyer.strip() if buyer else buyer,
            ts=placed,
            event_type="Purchase",
            raw_type="order",
        )
        row.changed = {
            "timestamp_milliseconds": 0,
            "event_type_normalised": 0,
            "id_changed": int(buyer != row.user),
        }
        self.rows.append(row)
        return row

    def copy(self, row: Row, *, action: str | None = None) -> Row:
        """The same event sent again (an app event arriving a minute later, optionally with its action
        spelled otherwise; an order row repeated as is)."""
        values, spelled = row.values, row.raw_type
        if row.source == "app_events":
            self.event_id += 1
            _, member, listing, raw, occurred, received = values
            spelled = raw if action is None else action
            values = (self.event_id, member, listing, spelled, occurred, received + 60_000)
        twin = Row(row.source, values, "duplicate", row.user, row.ts, row.event_type, spelled)
        twin.changed = {**row.changed, "event_type_normalised": int(spelled != spelled.strip().lower())}
        self.rows.append(twin)
        return twin

    def action(self) -> str:
        kind = self.rng.choices(("view", "tap", "save"), weights=(60, 25, 15))[0]
        return self.rng.choice(ACTIONS[kind])

    def listing_for(self, u: int) -> str:
        """Members prefer listings of their own category (u % CATEGORIES), so models have signal."""
        if self.rng.random() < 0.8:
            return listing_id(self.rng.randrange(u % CATEGORIES, LISTINGS, CATEGORIES))
        return listing_id(self.rng.randrange(LISTINGS))

    def ms(self, second: int) -> int:
        return second * 1000 + self.rng.randrange(0, 1000)


def generate() -> tuple[_Generator, list[tuple]]:
    g = _Generator()
    train_low, train_high = START + DAY, HOLDOUT - DAY
    regular: list[Row] = []
    for u in range(MEMBERS):
        member = member_id(u)
        for _ in range(TRAIN_EVENTS):
            regular.append(
                g.app(member, g.listing_for(u), g.action(), g.ms(g.second(member, train_low, train_high)))
            )
        for _ in range(HOLDOUT_EVENTS):
            regular.append(
                g.app(member, g.listing_for(u), g.action(), g.ms(g.second(member, HOLDOUT, END - 3600)))
            )
        g.order(member, g.listing_for(u), g.second(member, train_low, train_high))
        if u % 3 == 0:
            g.order(member, g.listing_for(u), g.second(member, HOLDOUT, END - 3600))
    # The window's edges, kept: the first millisecond of the window and the last one.
    g.used.update({("m0001", START), ("m0002", END - 1)})
    g.app("m0001", listing_id(1), "view", START * 1000, received_ms=START * 1000 + 10)
    g.app("m0002", listing_id(2), "view", END * 1000 - 1)
    # The bot: every event of it in the window and valid, distinct; all dropped as bot_user.
    for k in range(BOT_EVENTS):
        g.app(
            BOT, listing_id(k % LISTINGS), "view", g.ms(g.second(BOT, train_low, train_high)), rule="bot_user"
        )
    # One interaction only: below cleaning.min_interactions_per_user.
    g.app(
        ONCE,
        listing_id(3),
        "save",
        g.ms(g.second(ONCE, train_low, train_high)),
        rule="below_min_interactions",
    )

    def valid_time() -> int:
        return g.ms(g.rng.randrange(train_low, train_high))

    # Missing ids (null, empty, blank after trimming spaces and tabs), an id one past Personalize's 256.
    for member in (None, None, None, "", " \t "):
        g.app(member, listing_id(4), "view", valid_time(), rule="missing_user_id")
    g.order(None, listing_id(5), g.rng.randrange(train_low, train_high), rule="missing_user_id")
    for _ in range(2):
        g.app("m0010", None, "view", valid_time(), rule="missing_item_id")
    g.order("m0011", "  ", g.rng.randrange(train_low, train_high), rule="missing_item_id")
    g.app("m" * 257, listing_id(6), "view", valid_time(), rule="id_too_long")
    g.order("m0012", "L" * 300, g.rng.randrange(train_low, train_high), rule="id_too_long")
    # No action at all (null, empty, blank): missing, not unknown.
    for action in (None, None, "", "  "):
        g.app("m0013", listing_id(7), action, valid_time(), rule="missing_event_type")
    # Actions the mapping does not know.
    for raw, n in UNKNOWN.items():
        for _ in range(n):
            g.app("m0013", listing_id(7), raw, valid_time(), rule="unknown_event_type")
    # No device time, a zero one, a negative one (received in the window, so the query returns them).
    for occurred in (None, None, 0, -1000):
        g.app(
            "m0014", listing_id(8), "tap", occurred, rule="invalid_timestamp", received_ms=START * 1000 + 99
        )
    # The device clock before the window: one millisecond before it, days before, and the only
    # contact_seller of the data (so the mapped Contact has no row in the window: a warning).
    g.app("m0015", listing_id(9), "view", START * 1000 - 1, rule="before_window")
    for _ in range(3):
        g.app("m0016", listing_id(10), "save", (START - 3 * DAY) * 1000, rule="before_window")
    g.app("m0017", listing_id(13), "contact_seller", (START - 10 * DAY) * 1000, rule="before_window")
    # At or after the window's end: the end's own millisecond, a clock two days ahead, future orders.
    g.app("m0018", listing_id(14), "view", END * 1000, rule="future_timestamp")
    for _ in range(2):
        g.app("m0019", listing_id(15), "tap", (END + 2 * DAY) * 1000, rule="future_timestamp")
    for _ in range(2):
        g.order("m0020", listing_id(16), END + DAY, rule="future_timestamp")
    # Sent twice: five app events exactly, one with its action spelled otherwise, two order rows.
    plain = [r for r in regular if r.user == "m0021"]
    for row in plain[:5]:
        g.copy(row)
    tapped = next(r for r in regular if r.raw_type == "tap" and r.user not in (MEMBER_PADDED,))
    g.copy(tapped, action=" TAP\t")
    orders = [r for r in g.rows if r.source == "orders" and r.rule is None and r.user == "m0022"]
    g.copy(orders[0])
    g.copy(orders[0])
    # Left out by the orders query itself (before the window, no time): never counted by cleaning.
    filtered = [
        ("o-old-1", "m0023", listing_id(17), datetime(2026, 7, 1)),
        ("o-old-2", "m0023", listing_id(18), datetime(2026, 5, 9)),
        ("o-old-3", "m0024", listing_id(19), datetime(2026, 7, 31, 23, 59, 59)),
        ("o-nulltime", "m0024", listing_id(19), None),
    ]
    return g, filtered


def _listings() -> list[tuple]:
    rows = []
    for i in range(LISTINGS):
        listed = datetime(2026, 1, 1) + timedelta(days=i % 90)
        rows.append((listing_id(i), f"listing {i}", f"cat{i % CATEGORIES}", round(5 + i * 1.5, 2), listed))
    rows.append(("L-late", "listed after the window", "cat0", 10.0, datetime(2026, 12, 1)))
    return rows


def expected(g: _Generator, filtered: list[tuple]) -> Planted:
    rows = g.rows
    dropped = Counter(r.rule for r in rows if r.rule)
    dropped = {rule: dropped.get(rule, 0) for rule in TRACKED_RULES}
    window_rules = dropped["before_window"] + dropped["future_timestamp"]
    published = [r for r in rows if r.rule is None]
    event_types: dict[str, dict[str, int]] = {}
    for r in published:
        part = "holdout" if r.ts >= HOLDOUT else "train"
        event_types.setdefault(r.event_type, {"train": 0, "holdout": 0})[part] += 1
    kept_at_classify = [
        r for r in rows if r.rule in (None, "duplicate", "bot_user", "below_min_interactions")
    ]
    unknown: dict[str, dict[str, int]] = {"app_events": {}, "orders": {}}
    for r in rows:
        if r.rule == "unknown_event_type":
            unknown[r.source][r.raw_type] = unknown[r.source].get(r.raw_type, 0) + 1
    return Planted(
        dropped=dropped,
        defects={rule: dropped[rule] for rule in DEFECT_RULES},
        bots={"users": 1, "rows": dropped["bot_user"]},
        in_window_rows=len(rows) - window_rules,
        unknown_event_types=unknown,
        event_types=event_types,
        raw_rows=dict(Counter(r.source for r in rows)),
        filtered_by_sql={"app_events": 0, "orders": len(filtered)},
        train_rows=sum(1 for r in published if r.ts < HOLDOUT),
        holdout_rows=sum(1 for r in published if r.ts >= HOLDOUT),
        changed={
            "timestamp_milliseconds": sum(r.changed["timestamp_milliseconds"] for r in kept_at_classify),
            "event_type_normalised": sum(r.changed["event_type_normalised"] for r in kept_at_classify),
            "id_trimmed": sum(r.changed["id_changed"] for r in kept_at_classify),
        },
        published={
            "interactions": sorted(r.published for r in published if r.ts < HOLDOUT),
            "holdout": sorted(r.published for r in published if r.ts >= HOLDOUT),
        },
        quoted_ids={
            "USER_ID": [MEMBER_COMMA, MEMBER_QUOTE, MEMBER_PADDED],
            "ITEM_ID": [LISTING_COMMA, LISTING_QUOTE],
        },
    )


TABLES = {
    "app_events": {
        "event_id": "BIGINT",
        "member": "VARCHAR",
        "listing": "VARCHAR",
        "action": "VARCHAR",
        "occurred_ms": "BIGINT",
        "received_ms": "BIGINT",
    },
    "orders_placed": {
        "order_id": "VARCHAR",
        "buyer_ref": "VARCHAR",
        "listing_ref": "VARCHAR",
        "placed_at": "TIMESTAMP",
    },
    "listings": {
        "listing_id": "VARCHAR",
        "title": "VARCHAR",
        "category": "VARCHAR",
        "price": "DECIMAL(10, 2)",
        "listed_at": "TIMESTAMP",
    },
}


def build(path: Path) -> Planted:
    import duckdb
    import pyarrow as pa

    g, filtered = generate()
    contents = {
        "app_events": [r.values for r in g.rows if r.source == "app_events"],
        "orders_placed": [r.values for r in g.rows if r.source == "orders"] + filtered,
        "listings": _listings(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        for table, columns in TABLES.items():
            con.execute(f"CREATE TABLE {table}({', '.join(f'{n} {t}' for n, t in columns.items())})")
            rows = pa.Table.from_pylist([dict(zip(columns, row, strict=True)) for row in contents[table]])  # noqa: F841
            con.execute(f"INSERT INTO {table} SELECT * FROM rows")
    finally:
        con.close()
    return expected(g, filtered)
