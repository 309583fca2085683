"""One export, end to end, in its own process: stage, validate, publish to an S3 endpoint.

Prints one JSON line: seconds per phase, rows, peak RSS. Run by bench/run.py, which owns the
warehouse files and the S3 server so that this process's memory is the export's alone.

`--engine duckdb` (the default) exports from a DuckDB file; `--engine postgres` from a Postgres
database (`--dsn`), the warehouse's tables in `--schema` (put on the connection's search_path, since
the shop's SQL reads them unqualified), staging in `--staging-schema`, validated by GX's own SQL
engine as the export DAG does on Postgres. The run's staged tables are dropped afterwards, untimed.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    """This process's high-water RSS (VmHWM; unlike ru_maxrss it is not inherited across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def postgres_engine(*, dsn: str, schema: str, staging_schema: str):
    """A PostgresEngine on `dsn` reading `schema`'s tables unqualified, and the SQLAlchemy URL for GX."""
    import psycopg2
    from psycopg2.extensions import parse_dsn
    from sqlalchemy.engine import URL

    from personalize_pipelines.engines import PostgresEngine

    connection = psycopg2.connect(dsn, options=f"-c search_path={schema}")
    fields = parse_dsn(dsn)
    url = URL.create(
        "postgresql+psycopg2",
        username=fields.get("user"),
        password=fields.get("password"),
        host=fields.get("host"),
        port=int(fields["port"]) if "port" in fields else None,
        database=fields.get("dbname"),
    )
    engine = PostgresEngine(connection=connection, schema=staging_schema)
    return engine, url.render_as_string(hide_password=False)


def run_export(
    *,
    endpoint: str,
    bucket: str,
    window_end: datetime,
    months: int,
    warehouse: Path | None = None,
    dsn: str | None = None,
    schema: str = "public",
    staging_schema: str = "bench_staging",
) -> dict:
    """One export from the DuckDB file `warehouse`, or from Postgres when `dsn` is given."""
    import boto3

    from personalize_pipelines.cleaning import StagingNames
    from personalize_pipelines.engines import DuckDBEngine
    from personalize_pipelines.export import ExportContext, drop_staging, publish, stage, validate
    from personalize_pipelines.project import Project
    from personalize_pipelines.windows import sliding_window

    shop = Project(ROOT).use_case("shop")
    use_case = shop.model_copy(
        update={
            "window": shop.window.model_copy(update={"months": months}),
            "s3": shop.s3.model_copy(update={"bucket": bucket}),
        }
    )
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    gx_url = None
    if dsn is not None:
        engine, gx_url = postgres_engine(dsn=dsn, schema=schema, staging_schema=staging_schema)
    elif warehouse is not None:
        engine = DuckDBEngine(
            database=warehouse, staging_path=warehouse.parent / "staging" / f"{warehouse.stem}.duckdb"
        )
    else:
        raise ValueError("a DuckDB warehouse file or a Postgres dsn is required")
    ctx = ExportContext(
        use_case=use_case,
        window=sliding_window(window_end, months=months),
        names=StagingNames(engine.qualifier, "bench"),
    )
    timings = {}
    steps: dict[str, list[str]] = {"stage": [], "publish": []}

    def progress(phase: str, since: float):
        """The export's progress lines, each after the seconds into its phase: where the time goes."""
        return lambda message: steps[phase].append(f"{time.perf_counter() - since:.2f}s {message}")

    started = time.perf_counter()
    report = stage(engine, ctx, progress=progress("stage", started))
    timings["stage_seconds"] = time.perf_counter() - started
    mark = time.perf_counter()
    if gx_url is not None:  # the validate task imports GX itself; its share of the phase, shown apart
        import great_expectations  # noqa: F401

        timings["gx_import_seconds"] = time.perf_counter() - mark
    validation = validate(engine, ctx, gx_connection_string=gx_url)
    timings["validate_seconds"] = time.perf_counter() - mark
    mark = time.perf_counter()
    manifest = publish(
        engine, ctx, s3_client=s3, report=report, validation=validation, progress=progress("publish", mark)
    )
    timings["publish_seconds"] = time.perf_counter() - mark
    timings["seconds"] = time.perf_counter() - started
    if dsn is not None:  # the DuckDB staging file is the bench's to reuse; Postgres staging is shared
        drop_staging(engine, ctx.names)
    engine.close()
    return {
        **{k: round(v, 3) for k, v in timings.items()},
        "raw_rows": report["raw_rows"],
        "train_rows": manifest["datasets"]["interactions"]["rows"],
        "parts": manifest["datasets"]["interactions"]["parts"],
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "stage_log": steps["stage"],
        "publish_log": steps["publish"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=("duckdb", "postgres"), default="duckdb")
    parser.add_argument("--warehouse", type=Path, help="--engine duckdb: the DuckDB file")
    parser.add_argument("--dsn", help="--engine postgres: the database (libpq DSN)")
    parser.add_argument("--schema", default="public", help="--engine postgres: the warehouse's schema")
    parser.add_argument("--staging-schema", default="bench_staging", help="--engine postgres")
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--window-end", default="2026-11-01T00:00:00+00:00")
    parser.add_argument("--months", type=int, default=12)
    args = parser.parse_args()
    if args.engine == "duckdb" and args.warehouse is None:
        parser.error("--engine duckdb needs --warehouse")
    if args.engine == "postgres" and args.dsn is None:
        parser.error("--engine postgres needs --dsn")
    postgres = args.engine == "postgres"
    result = run_export(
        warehouse=None if postgres else args.warehouse,
        dsn=args.dsn if postgres else None,
        schema=args.schema,
        staging_schema=args.staging_schema,
        endpoint=args.endpoint,
        bucket=args.bucket,
        window_end=datetime.fromisoformat(args.window_end).astimezone(UTC),
        months=args.months,
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
