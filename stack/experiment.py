"""`make experiment` (`make experiment USE_CASE=...`): the retraining trade-off on the demo warehouse.

Builds (or reuses) the demo's warehouse, starts personalize-local, runs `<use_case>__experiment` with
`dag.test()` for the demo's window end (every variant, trained and scored; everything it made deleted at the end), prints the
report's table and recommendation, and writes build/experiment-summary.json with the wall time.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from datetime import UTC, datetime

from stack.demo import (
    BUILD,
    DEMO,
    WAREHOUSES,
    WINDOW_END,
    connections,
    prepare_airflow_home,
    run_dag,
    say,
    xcom,
)


def run(name: str = "shop") -> dict:
    """The experiment on the demo warehouse: its result, the report and the wall seconds."""
    prepare_airflow_home()  # before Airflow is first imported: it reads AIRFLOW_HOME once
    from personalize_airflow.use_cases import use_case
    from personalize_local.testing import running_endpoint
    from personalize_pipelines.publish import read_json

    warehouse = WAREHOUSES[name]()
    uc = use_case(name)
    with running_endpoint(state_dir=DEMO / "personalize-local", buckets={uc.s3.bucket}) as endpoint:
        os.environ.update(connections(warehouse, endpoint, warehouse_conn_id=uc.warehouse_conn_id))
        import boto3

        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        started = time.monotonic()
        finished = run_dag(f"{name}__experiment", logical_date=WINDOW_END, run_after=datetime.now(UTC))
        seconds = round(time.monotonic() - started, 1)
        result = xcom(finished, "report")
        report = read_json(s3, uc.s3.bucket, result["report"].removeprefix(f"s3://{uc.s3.bucket}/"))
    return {"result": result, "report": report, "seconds": seconds}


def main(name: str = "shop") -> None:
    from personalize_pipelines.experiment.report import table_text

    logging.basicConfig(level=logging.WARNING)
    ran = run(name)
    print(table_text(ran["report"]))
    out = BUILD / "experiment-summary.json"
    summary = {
        "use_case": name,
        "seconds": ran["seconds"],
        "variants": ran["report"]["extraction"]["variants"],
        "rows": len(ran["report"]["rows"]),
        "extraction": ran["report"]["extraction"],
        "recommendation": ran["result"]["recommendation"],
    }
    out.write_text(json.dumps(summary, indent=2) + "\n")
    say(f"experiment: {ran['seconds']}s wall time; summary in {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
