"""`make demo` (`make demo USE_CASE=movies`): the lifecycle on this machine, against personalize-local,
with real Airflow runs.

Builds the use case's embedded warehouse (build/demo/shop.duckdb: the synthetic shop; build/demo/movies.duckdb:
MovieLens as a streaming service's watch events, for the VIDEO_ON_DEMAND domain use case), starts
personalize-local for S3 and Personalize (state in build/demo/personalize-local, so it survives between
demos), runs `<use_case>__export` and then `<use_case>__train` on the version it published with
`dag.test()` on an Airflow home under build/, prints a summary and writes it to
build/demo-summary.json (build/demo-summary-<use_case>.json for another use case than the shop). A second `make demo` trains
on a new export version and compares against the champion the first one deployed. Nothing here is
special-cased for the demo: the DAGs read the same connections they read in production, pointed at the
local endpoint by `endpoint_url`; only the status-check interval is shortened
(``AIRFLOW__PERSONALIZE__POLL_SECONDS``), since local jobs take seconds, not hours.
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

from stack.native import ROOT as PROJECT_ROOT

BUILD = PROJECT_ROOT / "build"
DEMO = BUILD / "demo"
WINDOW_END = datetime(2026, 11, 1, tzinfo=UTC)
INTERACTIONS = int(os.environ.get("DEMO_INTERACTIONS", 200_000))
MOVIELENS = PROJECT_ROOT / "tests" / "fixtures" / "movielens"


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
            "AIRFLOW__PERSONALIZE__POLL_SECONDS": os.environ.get("AIRFLOW__PERSONALIZE__POLL_SECONDS", "2"),
        }
    )
    for key, value in {
        "AWS_ACCESS_KEY_ID": "demo",
        "AWS_SECRET_ACCESS_KEY": "demo",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(key, value)
    if not (home / "airflow.db").exists():
        say("creating the Airflow metadata DB (SQLite) under build/airflow-demo")
        subprocess.run(
            [str(Path(sys.executable).parent / "airflow"), "db", "migrate"], check=True, capture_output=True
        )


def build_shop_warehouse() -> Path:
    from personalize_pipelines.warehouse.synthetic import generate

    path = DEMO / "shop.duckdb"
    if not path.exists():
        say(
            f"generating the demo warehouse: {INTERACTIONS:,} interactions, 13 months → {path.relative_to(PROJECT_ROOT)}"
        )
        generate(path, interactions=INTERACTIONS)
    return path


def build_movies_warehouse() -> Path:
    from personalize_pipelines.warehouse.movielens import build

    path = DEMO / "movies.duckdb"
    if not path.exists():
        say(
            f"building the movies warehouse from {MOVIELENS.relative_to(PROJECT_ROOT)} → {path.relative_to(PROJECT_ROOT)}"
        )
        build(path, source=MOVIELENS, end=WINDOW_END)
    return path


WAREHOUSES = {"shop": build_shop_warehouse, "movies": build_movies_warehouse}
"""The example project's use cases the demo runs, each with the builder of its warehouse file."""


def connections(warehouse: Path, endpoint: str, *, warehouse_conn_id: str = "warehouse") -> dict[str, str]:
    """A use case's two connections as ``AIRFLOW_CONN_*`` variables: its DuckDB warehouse file and AWS at
    ``endpoint`` (personalize-local)."""
    return {
        f"AIRFLOW_CONN_{warehouse_conn_id.upper()}": json.dumps(
            {"conn_type": "duckdb", "host": str(warehouse)}
        ),
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(
            {"conn_type": "aws", "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"}}
        ),
    }


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


def xcom(run, task_id: str, key: str = "return_value"):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == run.dag_id,
                XComModel.run_id == run.run_id,
                XComModel.task_id == task_id,
                XComModel.key == key,
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
        "defects": {rule: n for rule, n in report["defects"].items() if n},
        "bots": report["bots"],
        "validation": "passed",
    }


METRICS_SHOWN = ("ndcg_at_10", "precision_at_10", "recall_at_10", "mrr_at_25", "coverage")


def train_summary(run) -> dict:
    """What the train run trained, measured, decided and deployed, from its tasks' return values."""
    plan = {key: xcom(run, "plan", key=key) for key in ("version", "eval_uri")}
    evaluation = xcom(run, "evaluate_models") or xcom(run, "evaluate_recommenders")  # a domain use case's
    sample = xcom(run, "holdout_sample")
    outcome = next(
        found
        for task_id in ("promote_champion", "keep_champion", "promote_recommenders", "keep_recommenders")
        if (found := xcom(run, task_id if task_id.startswith("keep") else f"deploy.{task_id}"))
    )
    solutions = {}
    for task_id in sorted(
        t.task_id for t in run.get_task_instances() if t.task_id.endswith(".solution_metrics")
    ):
        trained = xcom(run, task_id)
        solutions[trained["solution"]] = {
            "recipe": trained["recipe"],
            "solution_version_arn": trained["solution_version_arn"],
            "training_hours": trained["training_hours"],
            "get_solution_metrics": trained["metrics"],
        }
    return {
        "run_id": run.run_id,
        "export_version": plan["version"],
        "solutions": solutions,
        "recommenders": evaluation.get("recommenders", {}),
        "holdout_evaluation": {
            "users": sample["users"],
            "models": {
                name: {metric: round(values[metric], 4) for metric in METRICS_SHOWN if metric in values}
                for name, values in evaluation["models"].items()
            },
            "report": evaluation["report"],
        },
        "decision": {
            key: evaluation["decision"][key]
            for key in (
                "promote",
                "winner",
                "reason",
                "metric",
                "champion_value",
                "winner_value",
                "relative_lift",
            )
        },
        "estimated_cost_usd": outcome["cost"]["total_usd"] if "cost" in outcome else None,
        "smoke_users": sample["smoke_users"],
    }


def serving_summary(endpoint: str, users: list[str], *, name: str) -> dict:
    """The registry's champion, and what its campaign (or judged recommender) recommends to three holdout
    users right now."""
    import boto3

    from personalize_airflow.use_cases import use_case
    from personalize_pipelines.registry import RegistryLocation, read_champion

    champion = read_champion(
        boto3.client("s3", endpoint_url=endpoint), location=RegistryLocation.for_use_case(use_case(name))
    )
    runtime = boto3.client("personalize-runtime", endpoint_url=endpoint)
    through = (
        {"recommenderArn": champion.recommender_arn}
        if champion.recommender_arn
        else {"campaignArn": champion.campaign_arn}
    )
    recommendations = {
        user: [
            item["itemId"]
            for item in runtime.get_recommendations(**through, userId=user, numResults=5)["itemList"]
        ]
        for user in users[:3]
    }
    return {
        "through": champion.recommender_arn or champion.campaign_arn,
        "model": champion.serving_arn,
        "recommenders": champion.recommenders,
        "recipe": champion.recipe,
        "export_version": champion.export_version,
        "promoted_at": champion.promoted_at,
        "event_tracker_arn": champion.event_tracker_arn,
        "sample_recommendations": recommendations,
    }


def print_summary(summary: dict) -> None:
    export, train, serving = summary["export"], summary["train"], summary["serving"]
    say(f"export {export['version']}: {export['rows']} rows, validation {export['validation']}")
    for name, solution in train["solutions"].items():
        offline = solution["get_solution_metrics"]
        say(
            f"solution {name} ({solution['recipe']}): GetSolutionMetrics "
            f"ndcg@10={offline.get('normalized_discounted_cumulative_gain_at_10', 0):.4f} "
            f"precision@10={offline.get('precision_at_10', 0):.4f} coverage={offline.get('coverage', 0):.3f}"
        )
    say(f"holdout evaluation on {train['holdout_evaluation']['users']} users:")
    for name, values in train["holdout_evaluation"]["models"].items():
        say(f"  {name:>14}: " + "  ".join(f"{metric}={value:.4f}" for metric, value in values.items()))
    decision = train["decision"]
    say(f"decision: {'PROMOTE' if decision['promote'] else 'KEEP CHAMPION'} — {decision['reason']}")
    if serving["recommenders"]:
        say(f"serving through recommenders: {', '.join(sorted(serving['recommenders']))}")
    say(f"serving: {serving['recipe']} {serving['model']} ({serving['through']})")
    for user, items in serving["sample_recommendations"].items():
        say(f"  {user}: {', '.join(items)}")
    say(f"evaluation page: {train['holdout_evaluation']['report']['html']}")


def main(name: str = "shop") -> None:
    if name not in WAREHOUSES:
        raise SystemExit(f"make demo USE_CASE={name}: the demo runs {', '.join(sorted(WAREHOUSES))}")
    logging.basicConfig(level=logging.WARNING)
    started = time.monotonic()
    prepare_airflow_home()
    warehouse = WAREHOUSES[name]()
    from personalize_local.testing import running_endpoint

    seconds = {}
    from personalize_airflow.use_cases import use_case

    uc = use_case(name)
    with running_endpoint(
        state_dir=DEMO / "personalize-local", persist_s3=True, buckets={uc.s3.bucket}
    ) as endpoint:
        say(f"personalize-local serving S3 (bucket {uc.s3.bucket}) and Personalize at {endpoint}")
        os.environ.update(connections(warehouse, endpoint, warehouse_conn_id=uc.warehouse_conn_id))
        export_run = run_dag(f"{name}__export", logical_date=WINDOW_END)
        seconds["export"] = round(time.monotonic() - started, 1)
        export = export_summary(xcom(export_run, "publish"), xcom(export_run, "extract_and_clean"))
        now = datetime.now(UTC)
        train_run = run_dag(
            f"{name}__train", logical_date=now, run_after=now, run_conf={"version": export["version"]}
        )
        seconds["train"] = round(time.monotonic() - started - seconds["export"], 1)
        train = train_summary(train_run)
        summary = {
            "use_case": name,
            "export": export,
            "train": train,
            "serving": serving_summary(endpoint, train["smoke_users"], name=name),
        }
    seconds["total"] = round(time.monotonic() - started, 1)
    summary["seconds"] = seconds
    out = BUILD / ("demo-summary.json" if name == "shop" else f"demo-summary-{name}.json")
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print_summary(summary)
    say(
        f"{seconds['total']}s in all (export {seconds['export']}s, train {seconds['train']}s); "
        f"summary written to {out.relative_to(PROJECT_ROOT)}"
    )


if __name__ == "__main__":
    main(*sys.argv[1:2])
