"""Every AWS call a DAG's task makes in this test session, recorded through botocore's event hooks.

Each botocore session (boto3's, the Amazon provider's, aiobotocore's in triggers) gets a
``before-parameter-build`` handler, which sees the call's parameters. A call counts when it is made inside
a task ``dag.test()`` runs (its ``_run_task`` frame is on the stack, deferred triggers included) of a DAG
the project's flows built, whichever DAG file built it (or by the alerts' notifier): the tests' own fixtures, the emulator's thread and the
operators' test DAGs are left out.
One JSON line per call goes to :data:`CALLS_FILE`, with the use cases the DAG ran with (its config
folder at that moment), so ``tests/test_policy_coverage.py`` checks each call against the policy of the
configuration it really ran under.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import botocore.session

ROOT = Path(__file__).resolve().parents[1]
CALLS_DIR = ROOT / "build" / "aws-calls"
CALLS_FILE = CALLS_DIR / f"session-{os.getpid()}.jsonl"  # sessions running side by side keep apart
PROJECT_TAG = "personalize"  # every DAG the flows build carries it (personalize_airflow.flows.common)
TASK_RUNNER = ("_run_task", str(Path("airflow") / "sdk" / "definitions" / "dag.py"))
# alert_args() attaches these to any DAG: a test DAG's failure exercises the project's alerts too.
ALERT_NOTIFIER = str(Path("amazon") / "aws" / "notifications" / "sns.py")
# The request parameters the policy check needs, where a call acts: S3's, names and every ...Arn.
RESOURCE_PARAMS = ("Bucket", "Key", "Prefix", "name", "jobName", "datasetType", "trackingId")

_snapshot_ids: dict[tuple, int] = {}


def _task_dag_id() -> str | None:
    """The dag id of the task running on this thread under dag.test() when the call is the project's: a
    task of a DAG the flows built, or an alert; None otherwise (fixtures, the emulator, the operators' own
    test DAGs)."""
    alert = False
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        alert = alert or code.co_filename.endswith(ALERT_NOTIFIER)
        if code.co_name == TASK_RUNNER[0] and code.co_filename.endswith(TASK_RUNNER[1]):
            # Airflow 3.0's _run_task(*, ti) has no ``task`` local; the TI carries it.
            task = frame.f_locals.get("task") or frame.f_locals["ti"].task
            project = PROJECT_TAG in task.dag.tags
            return frame.f_locals["ti"].dag_id if project or alert else None
        frame = frame.f_back
    return None


def _use_cases(dag_id: str) -> int:
    """The use case a DAG ran with, as its DAG file loaded it (every use case of the config folder for a
    DAG not named ``<use_case>__<flow>``): the id of its snapshot line, written once."""
    import personalize_airflow.use_cases as use_cases

    folder = use_cases.project().config_dir
    name = dag_id.split("__")[0]
    files = (
        [folder / f"{name}.yaml"] if (folder / f"{name}.yaml").is_file() else sorted(folder.glob("*.yaml"))
    )
    key = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    if key not in _snapshot_ids:
        from personalize_pipelines.config import load_use_case

        _snapshot_ids[key] = len(_snapshot_ids)
        snapshot = [load_use_case(f).model_dump(mode="json") for f in files]
        _append({"snapshot": _snapshot_ids[key], "use_cases": snapshot})
    return _snapshot_ids[key]


def _append(line: dict) -> None:
    with CALLS_FILE.open("a") as out:
        out.write(json.dumps(line) + "\n")


def _record(model: Any, params: dict, **_: Any) -> None:
    dag_id = _task_dag_id()
    if dag_id is None:
        return
    recorded = {
        k: v for k, v in params.items() if isinstance(v, str) and (k in RESOURCE_PARAMS or k.endswith("Arn"))
    }
    if "Delete" in params:  # DeleteObjects: the keys it deletes
        recorded["Keys"] = [o["Key"] for o in params["Delete"].get("Objects", [])]
    line = {
        "dag_id": dag_id,
        "service": model.service_model.service_name,
        "operation": model.name,
        "params": recorded,
        "snapshot": _use_cases(dag_id),
    }
    _append(line)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def install() -> None:
    """Start a fresh record (dropping those of finished sessions) and hook every botocore session created
    from now on."""
    CALLS_DIR.mkdir(parents=True, exist_ok=True)
    for old in CALLS_DIR.glob("session-*.jsonl"):
        if not _running(int(old.stem.removeprefix("session-"))):
            old.unlink(missing_ok=True)
    CALLS_FILE.write_text("")
    original = botocore.session.Session.__init__

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.register("before-parameter-build", _record, unique_id="tests.aws_calls")

    botocore.session.Session.__init__ = __init__


def recorded() -> list[dict]:
    """The calls recorded so far in this session, each with ``use_cases``: the configs its DAG ran with."""
    if not CALLS_FILE.is_file():
        return []
    lines = [json.loads(line) for line in CALLS_FILE.read_text().splitlines() if line]
    snapshots = {line["snapshot"]: line["use_cases"] for line in lines if "use_cases" in line}
    return [{**line, "use_cases": snapshots[line["snapshot"]]} for line in lines if "operation" in line]
