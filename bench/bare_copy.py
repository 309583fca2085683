"""A bare DuckDB `COPY (<select>) TO '<file>.csv'`, timed in its own process; prints the seconds.

`extraction` is the export's extraction select: every source over the same window, as read.
`cleaning` is the export's cleaning as one query: the same classification, deduplication, per-user
rules, writing the kept (training and holdout) rows — with no memory cap, no
staged tables, no validation and no S3, so no arrangement of the export's steps can beat it.

With `--dsn` (and `--schema`, the warehouse's schema, put on the connection's search_path since the
shop's SQL reads its tables unqualified) the extraction runs on Postgres instead: a bare
`COPY (<select>) TO STDOUT (FORMAT csv, HEADER)` through psycopg2's `copy_expert` into the file, so the
rows cross the wire to this process as the export's do.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WINDOW_END = "2026-11-01T00:00:00+00:00"


def select(which: str, months: int) -> str:
    from personalize_pipelines import cleaning
    from personalize_pipelines.cleaning import StagingNames
    from personalize_pipelines.export import ExportContext, render_sql
    from personalize_pipelines.project import Project
    from personalize_pipelines.windows import parse_instant, sliding_window

    shop = Project(ROOT).use_case("shop")
    uc = shop.model_copy(update={"window": shop.window.model_copy(update={"months": months})})
    window = sliding_window(parse_instant(WINDOW_END), months=months)
    union = cleaning.raw_union_sql(
        {
            s.name: render_sql(s.sql, window=window, use_case=uc, sql_root=uc.project.sql_dir)
            for s in uc.sources
        },
        uc,
    )
    if which == "extraction":
        return union
    classified = cleaning.classify_select(
        union, uc, window_start=window.start_epoch, window_end=window.end_epoch
    )
    ctx = ExportContext(use_case=uc, window=window, names=StagingNames(qualifier="", run_key="bare"))
    parted = cleaning.partition_select("classified", uc, holdout_start=ctx.holdout_start_epoch or 0)
    return (
        f"WITH classified AS ({classified}) SELECT user_id, item_id, timestamp, event_type, event_value "
        f"FROM ({parted}) p WHERE part IN ('train', 'holdout')"
    )


def postgres_copy_seconds(query: str, *, dsn: str, schema: str, out: Path) -> float:
    """Seconds of a bare `COPY (query) TO STDOUT (FORMAT csv, HEADER)` into `out`, on `schema`'s tables."""
    import psycopg2

    con = psycopg2.connect(dsn, options=f"-c search_path={schema}")
    try:
        with con.cursor() as cur, out.open("wb") as sink:
            started = time.perf_counter()
            cur.copy_expert(f"COPY ({query}) TO STDOUT (FORMAT csv, HEADER)", sink, size=1 << 20)
            return time.perf_counter() - started
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("which", choices=("extraction", "cleaning"))
    parser.add_argument("--warehouse", type=Path, help="the DuckDB file (without --dsn)")
    parser.add_argument("--dsn", help="a Postgres warehouse (libpq DSN) instead of a DuckDB file")
    parser.add_argument("--schema", default="public", help="with --dsn: the schema holding the tables")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--months", type=int, default=12)
    args = parser.parse_args()
    query = select(args.which, args.months)
    if args.dsn:
        if args.which != "extraction":
            parser.error("--dsn measures the extraction only (the floor is measured on DuckDB)")
        print(postgres_copy_seconds(query, dsn=args.dsn, schema=args.schema, out=args.out))
        return
    if args.warehouse is None:
        parser.error("--warehouse or --dsn is required")
    import duckdb

    con = duckdb.connect(str(args.warehouse), read_only=True)
    con.execute("SET enable_progress_bar = false")
    started = time.perf_counter()
    con.execute(f"COPY ({query}) TO '{args.out}' (HEADER)")
    print(time.perf_counter() - started)


if __name__ == "__main__":
    main()
