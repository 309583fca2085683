"""`make bench`: every benchmark, as ratios against a bare baseline measured in the same run.

Writes build/bench.json. Each measured export runs in its own process so its peak RSS is its own.
Set BENCH_ROWS (default 10000000) and BENCH_SMALL_ROWS (default 1000000) to change the sizes.
The Postgres export reads PG_HOST, PG_PORT and PG_USER (default 127.0.0.1, 5432, postgres), as the
tests do, and is skipped, with the reason, when that server is unreachable.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / "bench"
PYTHON = sys.executable


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def warehouse(rows: int) -> Path:
    path = BUILD / f"shop-{rows}.duckdb"
    if not path.exists():
        log(f"generating a {rows:,}-interaction warehouse")
        subprocess.run(
            [
                PYTHON,
                "-m",
                "personalize_pipelines.warehouse.synthetic",
                "--interactions",
                str(rows),
                "--out",
                str(path),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return path


def _bare_copy(*arguments: str) -> float:
    result = subprocess.run(
        [PYTHON, "-m", "bench.bare_copy", *arguments], check=True, capture_output=True, text=True, cwd=ROOT
    )
    return float(result.stdout.strip().splitlines()[-1])


def bare_copy_seconds(which: str, path: Path, months: int, out: Path) -> float:
    """bench/bare_copy.py in a fresh process: `extraction` is the baseline, `cleaning` the floor."""
    return _bare_copy(which, "--warehouse", str(path), "--out", str(out), "--months", str(months))


def floor_upload_seconds(endpoint: str, bucket: str, path: Path, *, parts: int = 9) -> float:
    """A bare upload of the floor's CSV to the S3 server: split into `parts` objects, as many uploads at
    once as publishing uses, no hashing, no CSV writing."""
    from concurrent.futures import ThreadPoolExecutor

    import boto3

    from personalize_pipelines.publish import UPLOADERS

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    data = path.read_bytes()
    size = len(data) // parts + 1
    chunks = [data[n * size : (n + 1) * size] for n in range(parts)]
    started = time.perf_counter()
    with ThreadPoolExecutor(UPLOADERS) as pool:
        list(
            pool.map(
                lambda n: client.put_object(Bucket=bucket, Key=f"part-{n:05d}.csv", Body=chunks[n]),
                range(parts),
            )
        )
    return time.perf_counter() - started


def s3_server() -> tuple[subprocess.Popen, str]:
    from tests.conftest import free_port

    port = free_port()
    proc = subprocess.Popen(
        [str(Path(PYTHON).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    for _ in range(100):
        try:
            client.list_buckets()
            break
        except Exception:
            time.sleep(0.1)
    return proc, endpoint


def export_run(
    path: Path | None, endpoint: str, bucket: str, months: int, *, postgres: Sequence[str] = ()
) -> dict:
    """bench/export_bench.py in a fresh process: from the DuckDB file `path`, or with `postgres` (its
    `--engine postgres ...` arguments) from Postgres."""
    import boto3

    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    source = list(postgres) if postgres else ["--warehouse", str(path)]
    out = subprocess.run(
        [
            PYTHON,
            "-m",
            "bench.export_bench",
            *source,
            "--endpoint",
            endpoint,
            "--bucket",
            bucket,
            "--months",
            str(months),
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def export_benchmark() -> dict:
    rows = int(os.environ.get("BENCH_ROWS", 10_000_000))
    small_rows = int(os.environ.get("BENCH_SMALL_ROWS", 1_000_000))
    months = 12
    big, small = warehouse(rows), warehouse(small_rows)
    proc, endpoint = s3_server()
    try:
        log("baseline: bare DuckDB COPY of the extraction select")
        baseline = bare_copy_seconds("extraction", big, months, BUILD / "baseline.csv")
        log(f"baseline {baseline:.2f}s; floor: the cleaning as one bare COPY")
        floor = bare_copy_seconds("cleaning", big, months, BUILD / "floor.csv")
        floor_upload = floor_upload_seconds(endpoint, "bench-floor", BUILD / "floor.csv")
        log(f"floor {floor:.2f}s + upload {floor_upload:.2f}s; export of {small_rows:,}")
        small_result = export_run(small, endpoint, "bench-small", months)
        log(f"export of {rows:,}")
        big_result = export_run(big, endpoint, "bench-big", months)
    finally:
        proc.terminate()
        proc.wait()
    log(f"export {big_result['seconds']:.2f}s, peak RSS {big_result['peak_rss_mb']:.0f} MB")
    return {
        "rows": big_result["raw_rows"],
        "train_rows": big_result["train_rows"],
        "seconds": big_result["seconds"],
        "phases": {k: big_result[k] for k in ("stage_seconds", "validate_seconds", "publish_seconds")},
        "baseline_copy_seconds": round(baseline, 3),
        "ratio_vs_copy": round(big_result["seconds"] / baseline, 2),
        "floor_copy_seconds": round(floor, 3),
        "floor_upload_seconds": round(floor_upload, 3),
        "floor_ratio_vs_copy": round((floor + floor_upload) / baseline, 2),
        "peak_rss_mb": big_result["peak_rss_mb"],
        "peak_rss_mb_small": small_result["peak_rss_mb"],
        "small_rows": small_result["raw_rows"],
        "rss_growth_1m_to_10m": round(big_result["peak_rss_mb"] / small_result["peak_rss_mb"], 2),
    }


PG_DATABASE = "personalize_bench"  # the bench's own database: nothing of the tests' is touched
PG_STAGING_SCHEMA = "bench_staging"


def pg_settings() -> dict:
    return {
        "host": os.environ.get("PG_HOST", "127.0.0.1"),
        "port": int(os.environ.get("PG_PORT", "5432")),
        "user": os.environ.get("PG_USER", "postgres"),
    }


def pg_dsn(dbname: str) -> str:
    pg = pg_settings()
    return f"host={pg['host']} port={pg['port']} user={pg['user']} dbname={dbname}"


def pg_database() -> str:
    """Create the bench's database if missing; its DSN. Raises psycopg2.OperationalError when the server
    cannot be reached."""
    import psycopg2
    from psycopg2 import sql

    admin = psycopg2.connect(pg_dsn("postgres"), connect_timeout=5)
    try:
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DATABASE,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(PG_DATABASE)))
    finally:
        admin.close()
    return pg_dsn(PG_DATABASE)


def pg_schema(rows: int) -> str:
    """One schema per warehouse size: bench_1m, bench_10m, bench_60k..."""
    for unit, size in (("m", 1_000_000), ("k", 1_000)):
        if rows % size == 0:
            return f"bench_{rows // size}{unit}"
    return f"bench_{rows}"


def pg_table_rows(dsn: str, schema: str, tables: tuple[str, ...]) -> dict[str, int | None]:
    """Rows per table in `schema`; None for a table that is not there."""
    import psycopg2
    from psycopg2 import sql

    con = psycopg2.connect(dsn)
    try:
        con.autocommit = True
        with con.cursor() as cur:
            counts: dict[str, int | None] = {}
            for table in tables:
                cur.execute("SELECT to_regclass(%s)", (f"{schema}.{table}",))
                if cur.fetchone()[0] is None:
                    counts[table] = None
                    continue
                cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table)))
                counts[table] = cur.fetchone()[0]
            return counts
    finally:
        con.close()


def load_postgres(path: Path, dsn: str, schema: str) -> float | None:
    """The DuckDB warehouse `path` in Postgres schema `schema`, loaded with copy_to_postgres only when a
    table's row count differs from the file's; the seconds it took, or None when nothing was loaded."""
    import duckdb

    from personalize_pipelines.warehouse.postgres_copy import TABLES, copy_to_postgres

    con = duckdb.connect(str(path), read_only=True)
    try:
        expected = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in TABLES}
    finally:
        con.close()
    if pg_table_rows(dsn, schema, TABLES) == expected:
        return None
    log(f"loading {path.name} into Postgres schema {schema}")
    started = time.perf_counter()
    copy_to_postgres(duckdb_path=path, dsn=dsn, schema=schema)
    return round(time.perf_counter() - started, 3)


def pg_bare_copy_seconds(dsn: str, schema: str, months: int, out: Path) -> float:
    """bench/bare_copy.py's extraction on Postgres in a fresh process: COPY ... TO STDOUT into `out`."""
    return _bare_copy(
        "extraction", "--dsn", dsn, "--schema", schema, "--out", str(out), "--months", str(months)
    )


def postgres_export_benchmark() -> dict:
    """The export from Postgres at BENCH_SMALL_ROWS and BENCH_ROWS, each against a bare Postgres COPY
    of its extraction select measured in the same run; {"skipped": reason} when Postgres is unreachable."""
    import psycopg2

    rows = int(os.environ.get("BENCH_ROWS", 10_000_000))
    small_rows = int(os.environ.get("BENCH_SMALL_ROWS", 1_000_000))
    months = 12
    try:
        dsn = pg_database()
    except psycopg2.OperationalError as exc:
        pg = pg_settings()
        reason = f"PostgreSQL unreachable or refused at {pg['host']}:{pg['port']} ({str(exc).strip()})"
        log(f"Postgres export skipped: {reason}")
        return {"skipped": reason}
    load_average = {"before": [round(x, 2) for x in os.getloadavg()]}
    sizes = {"small": small_rows, "big": rows}
    loaded = {}
    for label, n in sizes.items():
        loaded[label] = load_postgres(warehouse(n), dsn, pg_schema(n))
    proc, endpoint = s3_server()
    measured = {}
    try:
        for label, n in sizes.items():
            schema = pg_schema(n)
            log(f"Postgres baseline: bare COPY TO STDOUT of the extraction select ({schema})")
            baseline = pg_bare_copy_seconds(dsn, schema, months, BUILD / f"pg-baseline-{schema}.csv")
            log(f"Postgres baseline {baseline:.2f}s; export of {n:,} from {schema}")
            result = export_run(
                None,
                endpoint,
                f"bench-pg-{label}",
                months,
                postgres=[
                    "--engine",
                    "postgres",
                    "--dsn",
                    dsn,
                    "--schema",
                    schema,
                    "--staging-schema",
                    PG_STAGING_SCHEMA,
                ],
            )
            log(
                f"Postgres export {result['seconds']:.2f}s ({result['seconds'] / baseline:.1f}x), "
                f"peak RSS {result['peak_rss_mb']:.0f} MB"
            )
            (BUILD / f"pg-baseline-{schema}.csv").unlink(missing_ok=True)
            measured[label] = {
                "interactions": n,
                "schema": schema,
                "raw_rows": result["raw_rows"],
                "train_rows": result["train_rows"],
                "seconds": result["seconds"],
                "phases": {k: result[k] for k in ("stage_seconds", "validate_seconds", "publish_seconds")},
                "baseline_copy_seconds": round(baseline, 3),
                "ratio_vs_copy": round(result["seconds"] / baseline, 2),
                "gx_import_seconds": result.get("gx_import_seconds"),
                "peak_rss_mb": result["peak_rss_mb"],
                "load_seconds": loaded[label],
                "stage_log": result["stage_log"],
                "publish_log": result["publish_log"],
            }
    finally:
        proc.terminate()
        proc.wait()
    load_average["after"] = [round(x, 2) for x in os.getloadavg()]
    small, big = measured["small"], measured["big"]
    return {
        "database": PG_DATABASE,
        **measured,
        "seconds_growth_1m_to_10m": round(big["seconds"] / small["seconds"], 2),
        "rss_growth_1m_to_10m": round(big["peak_rss_mb"] / small["peak_rss_mb"], 2),
        "load_average": load_average,
    }


def dag_parse_ms() -> dict[str, float]:
    """Per DAG file: ms to import it in a fresh interpreter with Airflow and the Amazon provider loaded.

    Pre-imported, as in a dag-processor: Airflow's models and SDK, the standard provider's @task
    operator, cron timetables, and the Amazon provider's base hook, S3 operator and sensor. The project's
    own modules are imported cold, inside the measurement, but for the provider metadata Airflow loads.
    """
    code = """
import importlib.util, json, sys, time
import airflow.sdk, airflow.models.dag, airflow.models.asset, airflow.sdk.exceptions
import airflow.providers.standard.operators.python, airflow.providers.common.compat.assets
import airflow.sdk.definitions.timetables.interval, airflow.sdk.definitions.timetables.trigger
import airflow.providers.amazon.aws.hooks.base_aws, airflow.providers.amazon.aws.operators.s3
import airflow.providers.amazon.aws.sensors.s3
# Airflow itself loads the provider's metadata (get_provider_info) with its configuration; the rest is cold.
metadata = {"personalize_airflow", "personalize_pipelines", "personalize_airflow.get_provider_info"}
loaded = {m for m in sys.modules if m.startswith(("personalize_airflow", "personalize_pipelines"))}
assert loaded <= metadata, loaded - metadata
path = sys.argv[1]
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("dag_under_test", path)
module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
print(json.dumps((time.perf_counter() - started) * 1000))
"""
    results = {}
    for dag_file in sorted((ROOT / "dags").glob("*.py")):
        runs = []
        for _ in range(3):  # best of three fresh interpreters: other load on the machine only adds time
            out = subprocess.run(
                [PYTHON, "-c", code, str(dag_file)],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
                env={**os.environ, "AIRFLOW__PERSONALIZE__PROJECT_DIR": str(ROOT)},
            )
            runs.append(float(out.stdout.strip().splitlines()[-1]))
        results[dag_file.name] = round(min(runs), 1)
    return results


def optional(module: str) -> dict | None:
    """Benchmarks contributed by other parts of the project (bench/<module>.py with run())."""
    try:
        return importlib.import_module(f"bench.{module}").run()
    except ModuleNotFoundError:
        return None


def main() -> None:
    BUILD.mkdir(parents=True, exist_ok=True)
    results: dict = {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    results["dag_parse_ms"] = dag_parse_ms()
    log(f"dag_parse_ms {results['dag_parse_ms']}")
    results["export"] = export_benchmark()
    results["export_postgres"] = postgres_export_benchmark()
    local = {}
    for module in ("training_quality", "local_endpoint_quality", "local_endpoint_serving"):
        log(f"running bench/{module}.py")
        measured = optional(module)
        if measured:
            local.update(measured)
    if local:
        results["local_endpoint"] = local
    log("running bench/waiting.py (a real scheduler and triggerer; training takes >= 120 s)")
    waiting = optional("waiting")
    if waiting:
        results["waiting"] = waiting
    log("running bench/experiment.py (the retraining trade-off on the demo warehouse)")
    experiment = optional("experiment")
    if experiment:
        results.update(experiment)
    out = ROOT / "build" / "bench.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    log(f"wrote {out}")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
