"""A small synthetic warehouse of one event table, whose users' tastes may change on a given date.

Items fall into clusters; each user views items of one cluster. On ``drift_at`` (when given) a new season
starts: new items, in clusters of their own, and each user's taste moves to one of them; what users
viewed before no longer interests them. The holdout (after it) then rewards a model trained on recent
events; without a drift every window sees the same tastes and a longer window has more of them.
"""

from __future__ import annotations

import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import EXAMPLE

END = datetime(2026, 11, 1, tzinfo=UTC)
CLUSTERS = 6
ITEMS_PER_CLUSTER = 250

USE_CASE = """
description: synthetic tastes for the experiment's tests
warehouse_conn_id: warehouse
sources:
  - name: events
    sql: taste/events.sql
    event_types: {view: View}
window: {months: 12}
holdout: {strategy: last_days, days: 14}
cleaning: {max_events_per_user: 5000, min_interactions_per_user: 2}
s3: {conn_id: aws_default, bucket: taste-experiment, prefix: exports}
schedule: {export: null, start_date: "2026-01-01"}
training:
  role_arn: arn:aws:iam::123456789012:role/personalize-demo
  poll_seconds: 1
  retries: 0
  solutions:
    - {name: personalized, recipe: aws-user-personalization}
    - {name: popular, recipe: aws-popularity-count}
evaluation: {metric: ndcg_at_10, max_users: 400, num_results: 25}
experiment:
  windows: [3, 12]
  caps: [null, 20]
  cadence_weeks: [0]
"""

EVENTS_SQL = """
SELECT user_id, item_id, event_ts, event_type FROM events WHERE event_ts >= {{ window.start_epoch }}
"""


def project(folder: Path, *, use_case: str = USE_CASE) -> Path:
    """A project folder with the ``taste`` use case, its SQL and this repository's suites."""
    (folder / "include" / "config").mkdir(parents=True, exist_ok=True)
    (folder / "include" / "sql" / "taste").mkdir(parents=True, exist_ok=True)
    (folder / "include" / "config" / "taste.yaml").write_text(use_case)
    (folder / "include" / "sql" / "taste" / "events.sql").write_text(EVENTS_SQL)
    suites = folder / "include" / "expectations"
    if not suites.exists():
        shutil.copytree(EXAMPLE.include / "expectations", suites)
    return folder


def _weighted_order(rng: random.Random) -> list[int]:
    """The ranks of a cluster's items, drawn without replacement, rank r weighted 1 / (r + 1)."""
    keys = {rank: rng.random() ** (rank + 1) for rank in range(ITEMS_PER_CLUSTER)}
    return sorted(keys, key=keys.__getitem__, reverse=True)


def build(
    path: Path,
    *,
    users: int = 300,
    months: int = 13,
    events_per_user_per_week: float = 3.0,
    drift_at: datetime | None = None,
    seed: int = 3,
) -> Path:
    """The warehouse file: table ``events(user_id, item_id, event_ts, event_type)``."""
    import duckdb
    import pyarrow as pa

    rng = random.Random(seed)
    start = END - timedelta(days=30 * months)
    rows = []
    for user in range(users):
        tastes = (rng.randrange(CLUSTERS), rng.randrange(CLUSTERS))  # this season's cluster, the next one's
        # each user meets the items of a cluster in a popularity-weighted order, each one once: what the
        # holdout holds is new to them, as a shop's next purchase is
        orders = [iter(_weighted_order(rng)), iter(_weighted_order(rng))]
        moment = start + timedelta(hours=rng.uniform(0, 72))
        while moment < END:
            season = int(drift_at is not None and moment >= drift_at)
            item = f"s{season}-c{tastes[season]}-i{next(orders[season]):03d}"
            rows.append((f"u{user:04d}", item, int(moment.timestamp()), "view"))
            moment += timedelta(days=rng.expovariate(events_per_user_per_week / 7))
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    table = pa.table(
        dict(
            zip(
                ("user_id", "item_id", "event_ts", "event_type"),
                map(list, zip(*rows, strict=True)),
                strict=True,
            )
        )
    )
    con.register("generated", table)
    con.execute("CREATE TABLE events AS SELECT * FROM generated")
    con.close()
    return path
