"""Cleaning rules as warehouse SQL: raw source rows → the Personalize interactions shape.

Every statement is written once, in Postgres's dialect, and compiled to the warehouse's by
personalize_pipelines.dialects; a use case's own queries are embedded as written. Work stays in the
warehouse; only counts come back. Every row of the raw union ends in exactly one place — the training table, the
holdout table, or one drop rule — so `raw_rows == sum(dropped) + train + holdout` always holds.

Rules, in the order they apply (a row is counted under the first rule that drops it):
  missing_user_id, missing_item_id  null or blank after trimming
  id_too_long                       an id longer than 256 characters (Personalize's limit)
  missing_event_type                null or blank event type after trimming
  unknown_event_type                event type (lower-cased, trimmed) not mapped in the config
  invalid_timestamp                 null, zero or negative event time
  before_window                     earlier than the window start (scope, not a defect)
  future_timestamp                  at or after the window end, the run's logical date (scope)
  duplicate                         an exact repeat of a kept event after normalisation
  bot_user                          every event of a user above cleaning.max_events_per_user (policy)
  below_min_interactions            training events of users with fewer than the minimum (scope)
Defects, the rules ``cleaning.max_defect_fraction`` bounds, are the others: scope rules say which rows
the window and the training floor leave out, and the bot rule is the use case's own policy.
Changes that keep the row are counted too: timestamp_milliseconds (converted to seconds),
event_type_normalised, id_trimmed.
"""

from __future__ import annotations

from dataclasses import dataclass

from personalize_pipelines.config import DatasetSpec, FieldSpec, SourceSpec, UseCase
from personalize_pipelines.dialects import embed
from personalize_pipelines.limits import MAX_ID_LENGTH

ROW_RULES = (
    "missing_user_id",
    "missing_item_id",
    "id_too_long",
    "missing_event_type",
    "unknown_event_type",
    "invalid_timestamp",
    "before_window",
    "future_timestamp",
)
WINDOW_RULES = frozenset({"before_window", "future_timestamp"})
SCOPE_RULES = WINDOW_RULES | {"below_min_interactions"}
POLICY_RULES = frozenset({"bot_user", "beyond_recent_cap"})
NOT_DEFECTS = SCOPE_RULES | POLICY_RULES
CHANGE_RULES = ("timestamp_milliseconds", "event_type_normalised", "id_trimmed")


WHITESPACE = "' ' || chr(9) || chr(10) || chr(13)"


def strip(expression: str) -> str:
    """Trim spaces, tabs and newlines (plain trim() removes only spaces)."""
    return f"trim(BOTH {WHITESPACE} FROM {expression})"


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class StagingNames:
    """Run-scoped table names in the warehouse's staging area (e.g. `stg.` or `personalize_staging.`)."""

    qualifier: str
    run_key: str

    def table(self, name: str) -> str:
        return f"{self.qualifier}r_{self.run_key}_{name}"

    @property
    def raw(self) -> str:
        return self.table("raw")

    @property
    def classified(self) -> str:
        return self.table("classified")

    @property
    def partitioned(self) -> str:
        return self.table("parts")

    @property
    def interactions(self) -> str:
        return self.table("interactions")

    @property
    def holdout(self) -> str:
        return self.table("holdout")

    @property
    def items(self) -> str:
        return self.table("items")

    @property
    def users(self) -> str:
        return self.table("users")

    def all_tables(self) -> list[str]:
        return [
            self.raw,
            self.classified,
            self.partitioned,
            self.interactions,
            self.holdout,
            self.items,
            self.users,
        ]


def raw_union_sql(rendered_sources: dict[str, str], use_case: UseCase) -> str:
    """Wrap each source's rendered SQL into one typed union with a `source` column."""
    return "\nUNION ALL\n".join(source_select_sql(s, rendered_sources[s.name]) for s in use_case.sources)


def source_columns(source: SourceSpec) -> list[str]:
    """The columns a source's query must return: what :func:`source_select_sql` reads."""
    return ["user_id", "item_id", "event_ts", "event_type"] + (["event_value"] if source.event_value else [])


def dataset_columns(spec: DatasetSpec, *, id_column: str) -> list[str]:
    """The columns an items or users query must return: what :func:`dataset_sql` reads."""
    return [id_column.lower()] + [f.name.lower() for f in spec.fields]


def source_select_sql(source: SourceSpec, rendered: str) -> str:
    """One source's rendered SQL, typed as the union's part."""
    value = (
        "CAST(s.event_value AS DOUBLE PRECISION)" if source.event_value else "CAST(NULL AS DOUBLE PRECISION)"
    )
    return (
        f"SELECT {quote_literal(source.name)} AS source, CAST(s.user_id AS VARCHAR) AS user_id, "
        f"CAST(s.item_id AS VARCHAR) AS item_id, CAST(s.event_ts AS DOUBLE PRECISION) AS event_ts, "
        f"CAST(s.event_type AS VARCHAR) AS event_type, {value} AS event_value "
        f"FROM {embed(rendered)} s"
    )


def source_scan_sql(source: SourceSpec, rendered: str) -> str:
    """Every row and column of one source computed (aggregates need them all), to find which source's
    rows the warehouse refuses when the union fails."""
    return (
        "SELECT count(*), sum(length(user_id)), sum(length(item_id)), sum(event_ts), sum(length(event_type)), "
        f"sum(event_value) FROM ({source_select_sql(source, rendered)}) scanned"
    )


def _event_type_case(use_case: UseCase) -> str:
    whens = []
    for source in use_case.sources:
        for raw, target in sorted(source.event_types.items()):
            whens.append(
                f"WHEN source = {quote_literal(source.name)} AND event_type_norm = {quote_literal(raw)} "
                f"THEN {quote_literal(target)}"
            )
    return "CASE " + " ".join(whens) + " END"


def classify_sql(
    names: StagingNames, raw_union: str, use_case: UseCase, *, window_start: int, window_end: int
) -> str:
    """Extract and classify in one pass, materialised once, so the accounting, the partition and the
    source-quality suite all read a table rather than re-running the normalisation."""
    select = classify_select(raw_union, use_case, window_start=window_start, window_end=window_end)
    return f"CREATE TABLE {names.classified} AS\n{select}"


def classify_select(raw_union: str, use_case: UseCase, *, window_start: int, window_end: int) -> str:
    """Every raw row with ids trimmed, time and event type as read and normalised, and its drop rule.

    Ids are kept trimmed only: storing them twice cost a quarter of the staging step at 10M rows,
    and trimming never turns a value into NULL or back.
    """
    threshold = use_case.cleaning.millisecond_threshold
    return f"""
SELECT source, user_id, item_id, event_ts, event_type_raw, event_value, ts, mapped_event_type AS event_type,
  CASE
    WHEN user_id IS NULL OR user_id = '' THEN 'missing_user_id'
    WHEN item_id IS NULL OR item_id = '' THEN 'missing_item_id'
    WHEN length(user_id) > {MAX_ID_LENGTH} OR length(item_id) > {MAX_ID_LENGTH} THEN 'id_too_long'
    WHEN event_type_norm IS NULL OR event_type_norm = '' THEN 'missing_event_type'
    WHEN mapped_event_type IS NULL THEN 'unknown_event_type'
    WHEN ts IS NULL OR ts <= 0 THEN 'invalid_timestamp'
    WHEN ts < {window_start} THEN 'before_window'
    WHEN ts >= {window_end} THEN 'future_timestamp'
  END AS drop_rule,
  was_milliseconds, event_type_changed, id_changed
FROM (
  SELECT source, user_id_raw, item_id_raw, event_ts, event_type_raw, event_type_norm, event_value, user_id, item_id,
    CAST(floor(CASE WHEN event_ts >= {threshold} THEN event_ts / 1000 ELSE event_ts END) AS BIGINT) AS ts,
    {_event_type_case(use_case)} AS mapped_event_type,
    CASE WHEN event_ts >= {threshold} THEN 1 ELSE 0 END AS was_milliseconds,
    CASE WHEN event_type_raw <> event_type_norm THEN 1 ELSE 0 END AS event_type_changed,
    CASE WHEN user_id_raw <> user_id OR item_id_raw <> item_id THEN 1 ELSE 0 END AS id_changed
  FROM (
    SELECT source, event_value, event_ts, user_id AS user_id_raw, item_id AS item_id_raw, event_type AS event_type_raw,
      {strip("user_id")} AS user_id, {strip("item_id")} AS item_id, lower({strip("event_type")}) AS event_type_norm
    FROM (
{raw_union}
    ) unified
  ) stripped
) normalised
"""


def raw_view_sql(names: StagingNames) -> str:
    """The unified source rows, ids trimmed, for the source-quality suite; ``event_type_key`` is the raw
    event type as the mapping reads it (lower-cased, trimmed)."""
    return (
        f"CREATE VIEW {names.raw} AS SELECT source, user_id, item_id, event_ts, event_type_raw AS event_type, "
        f"lower({strip('event_type_raw')}) AS event_type_key, event_value FROM {names.classified}"
    )


def rule_counts_sql(names: StagingNames) -> str:
    """Per source and mapped event type: rows per drop rule (NULL = kept), and change counts among kept
    rows."""
    return f"""
SELECT source, drop_rule, event_type, count(*),
  sum(CASE WHEN drop_rule IS NULL THEN was_milliseconds ELSE 0 END),
  sum(CASE WHEN drop_rule IS NULL THEN event_type_changed ELSE 0 END),
  sum(CASE WHEN drop_rule IS NULL THEN id_changed ELSE 0 END)
FROM {names.classified} GROUP BY source, drop_rule, event_type ORDER BY source, drop_rule, event_type
"""


def unknown_event_types_sql(names: StagingNames, *, top: int) -> str:
    """Per source, the raw event types of the rows dropped as unknown_event_type, most frequent first."""
    return f"""
SELECT source, event_type_raw, n FROM (
  SELECT source, event_type_raw, count(*) AS n,
    row_number() OVER (PARTITION BY source ORDER BY count(*) DESC, event_type_raw) AS rank
  FROM {names.classified} WHERE drop_rule = 'unknown_event_type' GROUP BY source, event_type_raw
) ranked WHERE rank <= {top} ORDER BY source, rank
"""


def event_type_parts_sql(names: StagingNames) -> str:
    """Published rows (train and holdout) per EVENT_TYPE."""
    return (
        f"SELECT event_type, part, count(*) FROM {names.partitioned} WHERE part IN ('train', 'holdout') "
        "GROUP BY event_type, part ORDER BY event_type, part"
    )


def partition_sql(names: StagingNames, use_case: UseCase, *, holdout_start: int) -> str:
    """The partitioned rows as a staged table, in no particular order: the manifest's fingerprints, not
    the bytes of the parts, say whether two versions hold the same rows."""
    select = partition_select(names.classified, use_case, holdout_start=holdout_start)
    return f"CREATE TABLE {names.partitioned} AS\n{select}"


def partition_select(classified: str, use_case: UseCase, *, holdout_start: int) -> str:
    """Deduplicate the kept rows of `classified`, then put each in one part: bot_user, holdout,
    beyond_recent_cap (a user's training rows older than their latest ``max_recent_events_per_user``),
    below_min_interactions or train.

    Per-user counts come from a GROUP BY joined back (a hash join on users), not from window functions
    over every row: at 9M rows that is twice as fast. Only the user_fraction holdout ranks each user's
    rows.
    """
    holdout = use_case.holdout
    cap = use_case.cleaning.max_events_per_user
    recent = use_case.cleaning.max_recent_events_per_user
    minimum = use_case.cleaning.min_interactions_per_user
    ranked = (
        "(SELECT kept.*, row_number() OVER (PARTITION BY user_id "
        "ORDER BY timestamp DESC, item_id DESC, event_type DESC, event_value DESC) AS rn FROM kept)"
    )
    if holdout.strategy == "last_days":
        rows = ranked if recent else "kept"
        user_counts = f"sum(CASE WHEN timestamp < {holdout_start} THEN 1 ELSE 0 END) AS train_rows"
        if recent:
            user_counts += f", sum(CASE WHEN timestamp >= {holdout_start} THEN 1 ELSE 0 END) AS holdout_rows"
        is_holdout = f"k.timestamp >= {holdout_start}"
    else:
        rows = ranked
        held = f"CASE WHEN count(*) >= 2 THEN greatest(1, CAST(floor(count(*) * {holdout.fraction}) AS BIGINT)) ELSE 0 END"
        user_counts = f"count(*) - {held} AS train_rows, {held} AS holdout_rows"
        is_holdout = "k.rn <= u.holdout_rows"
    beyond_cap = (
        f"\n         WHEN k.rn > u.holdout_rows + {recent} THEN 'beyond_recent_cap'" if recent else ""
    )
    train_rows = f"least(u.train_rows, {recent})" if recent else "u.train_rows"
    return f"""
WITH kept AS (
  SELECT DISTINCT user_id, item_id, ts AS timestamp, event_type, event_value
  FROM {classified} WHERE drop_rule IS NULL
),
users AS (
  SELECT user_id, count(*) AS n, {user_counts}
  FROM kept GROUP BY user_id
)
SELECT * FROM (
  SELECT k.user_id, k.item_id, k.timestamp, k.event_type, k.event_value,
    CASE WHEN u.n > {cap} THEN 'bot_user'
         WHEN {is_holdout} THEN 'holdout'{beyond_cap}
         WHEN {train_rows} < {minimum} THEN 'below_min_interactions'
         ELSE 'train' END AS part
  FROM {rows} k JOIN users u ON u.user_id = k.user_id
) parted
"""


def part_views_sql(names: StagingNames) -> list[str]:
    columns = "user_id, item_id, timestamp, event_type, event_value"
    return [
        f"CREATE VIEW {names.interactions} AS SELECT {columns} FROM {names.partitioned} WHERE part = 'train'",
        f"CREATE VIEW {names.holdout} AS SELECT {columns} FROM {names.partitioned} WHERE part = 'holdout'",
    ]


def part_counts_sql(names: StagingNames) -> str:
    """Rows and users per part."""
    return (
        f"SELECT part, count(*), count(DISTINCT user_id) FROM {names.partitioned} GROUP BY part ORDER BY part"
    )


def _blank(field: FieldSpec) -> str:
    column = field.name.lower()
    return f"{column} IS NULL" + (f" OR {strip(column)} = ''" if field.type == "string" else "")


def dataset_sql(target: str, rendered: str, spec: DatasetSpec, *, id_column: str) -> str:
    """Items/users: trimmed ids, one row per id (deterministic pick), dropped rows flagged by rule.

    A row without a value for a field that is not optional (its schema type has no null) is dropped
    under ``missing_<field>``: Personalize's import would refuse the whole file for it.
    """
    id_col, *fields = dataset_columns(spec, id_column=id_column)
    columns = ", ".join(fields)
    select_fields = (", " + columns) if columns else ""
    required = "".join(
        f"\n    WHEN {_blank(f)} THEN 'missing_{f.name.lower()}'" for f in spec.fields if not f.optional
    )
    return f"""
CREATE TABLE {target} AS
SELECT *, CASE
    WHEN {id_col} IS NULL OR {id_col} = '' THEN 'missing_id'
    WHEN length({id_col}) > {MAX_ID_LENGTH} THEN 'id_too_long'{required}
    WHEN dup_rank > 1 THEN 'duplicate_id'
  END AS drop_rule
FROM (
  SELECT {id_col}{select_fields}, row_number() OVER (PARTITION BY {id_col} ORDER BY {columns or id_col}) AS dup_rank
  FROM (SELECT {strip(f"CAST(src.{id_col} AS VARCHAR)")} AS {id_col}{(", " + ", ".join("src." + f.name.lower() for f in spec.fields)) if spec.fields else ""}
        FROM {embed(rendered)} src) trimmed
) ranked
"""


def dataset_counts_sql(table: str, spec: DatasetSpec) -> str:
    """Rows per drop rule, and per field the number of filled values among kept rows."""
    fills = "".join(
        f", sum(CASE WHEN drop_rule IS NULL AND NOT ({_blank(f)}) THEN 1 ELSE 0 END)" for f in spec.fields
    )
    return f"SELECT drop_rule, count(*){fills} FROM {table} GROUP BY drop_rule ORDER BY drop_rule"


FINGERPRINT_SCALE = 1_000_000
"""Floating-point values enter the fingerprint as floor(value × this): engines print floats differently."""


def fingerprint_sql(table: str, columns: list[tuple[str, str]]) -> str:
    """The rows of ``table`` as one order-independent fingerprint: the row count and the sums of each row's
    MD5 read as two 32-bit integers (its first 16 hex digits), over the columns as published.

    ``columns`` are (name, type) pairs with the types of :class:`~personalize_pipelines.config.FieldSpec`.
    Every engine computes the same sums for the same rows, in any order; one changed row changes them.
    NULL and the empty string are the same value here, as they are in the published CSV. Columns are read
    by their lower-case names, as the published select names them: compiled for Redshift, an upper-case
    TIMESTAMP is quoted and would name no column where quoted names keep their case.
    """
    text = " || chr(31) || ".join(_fingerprint_text(name.lower(), kind) for name, kind in columns)
    return (
        "SELECT count(*), sum(hex8_to_bigint(substr(h, 1, 8))), sum(hex8_to_bigint(substr(h, 9, 8))) "
        f"FROM (SELECT md5({text}) AS h FROM {table}) hashed"
    )


def _fingerprint_text(name: str, kind: str) -> str:
    if kind in ("float", "double"):
        return f"coalesce(CAST(CAST(floor({name} * {FINGERPRINT_SCALE}) AS DECIMAL(38, 0)) AS VARCHAR), '')"
    return f"coalesce(CAST({name} AS VARCHAR), '')"


def fingerprint(rows: int, first: int | None, second: int | None) -> str:
    """:func:`fingerprint_sql`'s row as the manifest writes it: ``<rows>:<32 hex digits>``."""
    return f"{int(rows)}:{int(first or 0) % 2**64:016x}{int(second or 0) % 2**64:016x}"
