"""`make demo`: the lifecycle on this machine, against personalize-local, with real Airflow runs.

Builds the embedded warehouse (build/demo/shop.duckdb), starts personalize-local for S3 and
Personalize, runs the DAGs with `dag.test()` on an Airflow home under build/, prints a summary and
writes it to build/demo-summary.json. Nothing here is special-cased for the demo: the DAGs read the
same connections they read in production, pointed at the local endpoint by `endpoint_url`.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from personalize_pipelines.paths import PROJECT_ROOT

BUILD = PROJECT_ROOT / "build"
DEMO = BUILD / "demo"
WINDOW_END = datetime(2026, 11, 1, tzinfo=UTC)
INTERACTIONS = int(os.environ.get("DEMO_INTERACTIONS", 200_000))


def say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


def prepare_airflow_home() -> None:
    home = BUILD / "airflow-demo"
    home.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING"),
        }
    )
    for key, value in {"AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ.setdefault(key, value)
    if not (home / "airflow.db").exists():
        say("creating the Airflow metadata DB (SQLite) under build/airflow-demo")
        subprocess.run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"], check=True, capture_output=True)


def build_warehouse() -> Path:
    from personalize_pipelines.warehouse.synthetic import generate

    path = DEMO / "shop.duckdb"
    if not path.exists():
        say(f"generating the demo warehouse: {INTERACTIONS:,} interactions, 13 months → {path.relative_to(PROJECT_ROOT)}")
        generate(path, interactions=INTERACTIONS)
    return path


def point_connections(warehouse: Path, endpoint: str) -> None:
    os.environ["AIRFLOW_CONN_WAREHOUSE"] = json.dumps({"conn_type": "duckdb", "host": str(warehouse)})
    os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = json.dumps(
        {"conn_type": "aws", "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"}}
    )


def run_dag(dag_id: str, **kwargs):
    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils.state import DagRunState

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    if bag.import_errors:
        raise SystemExit(f"DAG import errors: {bag.import_errors}")
    started = time.monotonic()
    run = bag.dags[dag_id].test(**kwargs)
    say(f"{dag_id}: {run.state} in {time.monotonic() - started:.1f}s")
    if run.state != DagRunState.SUCCESS:
        raise SystemExit(f"{dag_id} ended {run.state}; see the task logs above")
    return run


def xcom(run, task_id: str):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == run.dag_id, XComModel.run_id == run.run_id,
                XComModel.task_id == task_id, XComModel.key == "return_value",
            )
        ).first()
        return None if row is None else XComModel.deserialize_value(row)


def export_summary(published: dict, staged: dict) -> dict:
    report = staged["report"]
    return {
        "version": published["version"],
        "uri": published["uri"],
        "window": published["window"],
        "rows": {name: dataset["rows"] for name, dataset in published["datasets"].items()},
        "raw_rows": report["raw_rows"],
        "dropped": {rule: n for rule, n in report["dropped"].items() if n},
        "changed": report["changed"],
        "defect_fraction": report["defect_fraction"],
        "validation": "passed",
    }


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    started = time.monotonic()
    prepare_airflow_home()
    warehouse = build_warehouse()
    from personalize_local.testing import running_endpoint

    with running_endpoint(state_dir=DEMO / "personalize-local") as endpoint:
        say(f"personalize-local serving S3 and Personalize at {endpoint}")
        point_connections(warehouse, endpoint)
        _ensure_bucket(endpoint)
        export_run = run_dag("shop__export", logical_date=WINDOW_END)
        summary = {"export": export_summary(xcom(export_run, "publish"), xcom(export_run, "extract_and_clean"))}
    summary["seconds"] = round(time.monotonic() - started, 1)
    out = BUILD / "demo-summary.json"
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    say(f"summary written to {out.relative_to(PROJECT_ROOT)}")


def _ensure_bucket(endpoint: str) -> None:
    import boto3

    from personalize_airflow.use_cases import use_case

    bucket = use_case("shop").s3.bucket
    client = boto3.client("s3", endpoint_url=endpoint)
    if bucket not in [b["Name"] for b in client.list_buckets().get("Buckets", [])]:
        client.create_bucket(Bucket=bucket)


if __name__ == "__main__":
    main()
