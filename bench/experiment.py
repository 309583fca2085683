"""The retraining trade-off experiment on the demo warehouse (200,000 interactions): `make experiment`'s
run, in a process of its own (its own Airflow home), timed. Target: ≤ 10 minutes for 9 variants × 2
solutions with dag.test() against personalize-local."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 600


def run() -> dict:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "stack.experiment"], cwd=ROOT, check=True)
    summary = json.loads((ROOT / "build" / "experiment-summary.json").read_text())
    return {
        "experiment": {
            "dag_seconds": summary["seconds"],
            "process_seconds": round(time.monotonic() - started, 1),
            "target_seconds": TARGET_SECONDS,
            "variants": summary["variants"],
            "models": summary["rows"],
            "extraction": summary["extraction"],
            "recommendation": summary["recommendation"]["label"],
        }
    }
