"""A data engineer's first hour: the README's "Run it on your own warehouse" block, run exactly as written,
on a use case made only from the README's instructions (tests/first_hour/project/) and a warehouse shaped
unlike the shop's (tests/first_hour/marketplace.py), with every cleaning rule's rows planted.

The block runs in bash (``set -euo pipefail`` in front of it), with this repository's .venv/bin first on
PATH as an activated venv has it, and its variables set through the environment (``NAME=${NAME:-…}``):
a temporary project, Airflow home and personalize-local state, a free port. Then what it left in S3 is
read against the emulator it started: the manifest's counts equal what was planted, rule by rule, the
bot is no defect although its rows alone exceed ``cleaning.max_defect_fraction``, the unknown raw event
types are listed with their counts, the published CSV holds exactly the planted rows (ids needing CSV
quoting byte for byte), and the train run deployed a champion.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import boto3
import pytest

from personalize_pipelines.layout import UseCaseLayout
from personalize_pipelines.project import Project
from personalize_pipelines.registry import read_champion
from tests.compat.environments import clean_environment
from tests.conftest import ROOT, free_port
from tests.first_hour import marketplace

MARKER = "<!-- own-warehouse-steps -->"
HERE = Path(__file__).resolve().parent
VENV_BIN = ROOT / ".venv" / "bin"
BLOCK_TIMEOUT = 300
# bash takes no PS4 from the environment when run as root, so the trace's format is set in the script.
PRELUDE = "set -euo pipefail\nPS4='+ ${EPOCHREALTIME} '\nset -x\n"


def readme_block() -> str:
    """The fenced bash block right after the marker in README.md."""
    readme = (ROOT / "README.md").read_text()
    if MARKER not in readme:
        pytest.fail(f"README.md has no {MARKER} marker: the 'Run it on your own warehouse' steps are gone")
    match = re.match(r"\s*```bash\n(.*?)\n```", readme.split(MARKER, 1)[1], re.DOTALL)
    if not match:
        pytest.fail(f"README.md: no ```bash block right after {MARKER}")
    return match.group(1)


def say(capsys: pytest.CaptureFixture[str], message: str) -> None:
    with capsys.disabled():
        print(f"\n[first hour] {message}", end="", flush=True)


def run_block(script: str, env: dict[str, str], cwd: Path, log: Path, capsys) -> dict[str, float]:
    """Run ``script`` in bash, tracing each top-level command with its start time; returns the seconds each
    command that took a second or more spent (its line → seconds) and prints them as they happen."""
    steps: list[tuple[float, str]] = []
    began = time.monotonic()
    with log.open("w") as out:
        process = subprocess.Popen(
            ["bash", "-c", PRELUDE + script],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            text=True,
            start_new_session=True,
        )
        watchdog = threading.Timer(BLOCK_TIMEOUT, os.killpg, (process.pid, signal.SIGTERM))
        watchdog.start()
        try:
            assert process.stdout is not None
            for line in process.stdout:
                out.write(line)
                traced = re.match(r"^\+ (\d+\.\d+) (.*)$", line.rstrip("\n"))  # top level only: one '+'
                if traced:
                    at, command = float(traced.group(1)), traced.group(2)
                    if steps and at - steps[-1][0] >= 1:
                        say(capsys, f"{at - steps[-1][0]:6.1f}s  {steps[-1][1][:100]}")
                    steps.append((at, command))
            process.wait(timeout=30)
        finally:
            watchdog.cancel()
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
    end = time.time()
    if steps and end - steps[-1][0] >= 1:
        say(capsys, f"{end - steps[-1][0]:6.1f}s  {steps[-1][1][:100]}")
    if time.monotonic() - began >= BLOCK_TIMEOUT:
        raise AssertionError(f"the README block ran over {BLOCK_TIMEOUT}s and was stopped; log: {log}")
    if process.returncode:
        raise AssertionError(
            f"the README block exited {process.returncode} at: {steps[-1][1] if steps else '?'}\n"
            f"--- last output ({log})\n{log.read_text()[-8000:]}"
        )
    timings = {}
    for (at, command), (following, _) in zip(steps, [*steps[1:], (end, "")], strict=True):
        if following - at >= 1:
            timings[command] = round(following - at, 1)
    return timings


def stop(pid_file: Path) -> None:
    """Stop the personalize-local the block started (by its pid), if it did."""
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text().strip())
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)


def read_csv(s3, bucket: str, prefix: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]
    for key in sorted(o["Key"] for o in listed if o["Key"].endswith(".csv")):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
        rows += list(csv.DictReader(io.StringIO(body, newline="")))
    return rows


def test_the_readme_steps_export_and_deploy_a_new_use_case_on_its_own_warehouse(tmp_path, capsys):
    started = time.monotonic()
    block = readme_block()
    project = tmp_path / "project"
    shutil.copytree(HERE / "project", project, ignore=shutil.ignore_patterns("__pycache__"))
    use_case = Project(project).use_case("marketplace")
    layout = UseCaseLayout.for_use_case(use_case)
    warehouse = project / "warehouse" / "marketplace.duckdb"
    planted = marketplace.build(warehouse)
    say(capsys, f"warehouse built in {time.monotonic() - started:.1f}s: {planted.raw_rows} rows returned")

    port = free_port()
    run_dir = tmp_path / "run"
    variables = {
        "PROJECT": str(project),
        "USE_CASE": use_case.name,
        "WAREHOUSE": str(warehouse),
        "BUCKET": use_case.s3.bucket,
        "PREFIX": use_case.s3.prefix,
        "WINDOW_END": marketplace.WINDOW_END.date().isoformat(),
        "PORT": str(port),
        "RUN_DIR": str(run_dir),
    }
    not_overridable = [name for name in variables if f"{name}=${{{name}:-" not in block]
    assert not not_overridable, f"the README block does not take {not_overridable} from the environment"
    assert VENV_BIN.is_dir(), f"{VENV_BIN} is missing: make install"
    env = clean_environment(
        **variables,
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        VIRTUAL_ENV=str(VENV_BIN.parent),
        AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",  # only the log's volume; the block sets everything else
    )
    pid_file = run_dir / "personalize-local.pid"
    try:
        timings = run_block(block, env, tmp_path, tmp_path / "block.log", capsys)
        output = (tmp_path / "block.log").read_text()
        endpoint = f"http://127.0.0.1:{port}"
        clients = {
            name: boto3.client(
                name,
                endpoint_url=endpoint,
                region_name="us-east-1",
                aws_access_key_id="local",
                aws_secret_access_key="local",
            )
            for name in ("s3", "personalize")
        }
        check(planted, use_case, layout, clients["s3"], clients["personalize"], output)
        imported_ids(planted, run_dir / "personalize-local")
    finally:
        stop(pid_file)
    total = time.monotonic() - started
    steps = "; ".join(f"{command[:60]}: {seconds}s" for command, seconds in timings.items())
    say(capsys, f"done in {total:.1f}s (steps of 1 s or more: {steps})\n")


def imported_ids(planted: marketplace.Planted, state_dir: Path) -> None:
    """What personalize-local's dataset import read from the CSV (the files its state dir keeps): the ids
    that needed quoting, as they are in the warehouse."""
    import pandas as pd

    (interactions,) = state_dir.glob("datasets/*__INTERACTIONS/*.parquet")
    imported = pd.read_parquet(interactions)
    assert len(imported) == planted.train_rows
    assert set(planted.quoted_ids["USER_ID"]) <= set(imported["USER_ID"])
    assert set(planted.quoted_ids["ITEM_ID"]) <= set(imported["ITEM_ID"])


def check(
    planted: marketplace.Planted, use_case, layout: UseCaseLayout, s3, personalize, output: str
) -> None:
    bucket = use_case.s3.bucket
    latest = json.loads(s3.get_object(Bucket=bucket, Key=layout.latest)["Body"].read())
    version = latest["version"]
    assert version.startswith(marketplace.WINDOW_END.strftime("%Y%m%d")), latest
    assert f"published {version}" in output
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=layout.version(version).manifest)["Body"].read())
    cleaning = manifest["cleaning"]

    # Every planted row under its rule; the queries' own filter counted nowhere.
    assert cleaning["dropped"] == planted.dropped
    assert cleaning["defects"] == planted.defects
    assert {s: e["raw"] for s, e in cleaning["by_source"].items()} == planted.raw_rows
    assert cleaning["raw_rows"] == sum(planted.raw_rows.values())
    assert (cleaning["train_rows"], cleaning["holdout_rows"]) == (planted.train_rows, planted.holdout_rows)
    assert cleaning["changed"] == planted.changed
    assert cleaning["users_below_min"] == 1

    # The bot: dropped, shown apart, and no defect, although its rows alone are over the limit.
    assert cleaning["bots"] == planted.bots == {"users": 1, "rows": marketplace.BOT_EVENTS}
    assert cleaning["in_window_rows"] == planted.in_window_rows
    limit = use_case.cleaning.max_defect_fraction
    assert limit == marketplace.MAX_DEFECT_FRACTION
    assert cleaning["bots"]["rows"] / cleaning["in_window_rows"] > limit
    assert planted.defect_fraction_if_bots_counted > limit
    assert cleaning["defect_fraction"] == round(sum(planted.defects.values()) / planted.in_window_rows, 6)
    assert cleaning["defect_fraction"] <= limit
    assert manifest["validation"]["success"] is True

    # Event types: the unknown raw values as the table spells them, the mapped ones, the unmatched mapping.
    unknown = {s: e["unknown_event_types"] for s, e in cleaning["by_source"].items()}
    assert unknown == planted.unknown_event_types == {"app_events": marketplace.UNKNOWN, "orders": {}}
    assert cleaning["event_types"] == planted.event_types
    assert set(cleaning["event_types"]) == {"View", "Click", "Save", "Purchase"}
    assert cleaning["by_source"]["app_events"]["kept_by_event_type"]["Contact"] == 0
    assert cleaning["warnings"] == [
        "source 'app_events': no row in the window is Contact (mapped from 'contact_seller')"
    ]

    # The published CSV: exactly the planted rows, ids needing quoting as they were, the padded one trimmed.
    folder = layout.version(version)
    for part in ("interactions", "holdout"):
        rows = read_csv(s3, bucket, folder.data(part))
        published = sorted((r["USER_ID"], r["ITEM_ID"], int(r["TIMESTAMP"]), r["EVENT_TYPE"]) for r in rows)
        assert published == planted.published[part], part
        assert manifest["datasets"][part]["rows"] == len(published)
    rows = read_csv(s3, bucket, folder.data("interactions"))
    users, items = {r["USER_ID"] for r in rows}, {r["ITEM_ID"] for r in rows}
    assert set(planted.quoted_ids["USER_ID"]) <= users
    assert set(planted.quoted_ids["ITEM_ID"]) <= items
    assert marketplace.MEMBER_PADDED_RAW not in users
    catalogue = {r["ITEM_ID"] for r in read_csv(s3, bucket, folder.data("items"))}
    assert set(planted.quoted_ids["ITEM_ID"]) <= catalogue
    assert len(catalogue) == marketplace.LISTINGS  # the listing after the window's end is left out

    # The train run: an evaluation of this version, and a champion serving from an ACTIVE campaign.
    evaluations = s3.list_objects_v2(Bucket=bucket, Prefix=folder.evaluations).get("Contents", [])
    assert any(o["Key"].endswith("/evaluation.json") for o in evaluations), evaluations
    champion = read_champion(s3, location=layout.registry)
    assert champion is not None, "no registry/champion.json after the train run"
    assert champion.export_version == version
    assert champion.campaign_arn
    campaign = personalize.describe_campaign(campaignArn=champion.campaign_arn)["campaign"]
    assert campaign["status"] == "ACTIVE", campaign
    assert campaign["solutionVersionArn"] == champion.solution_version_arn
    assert f"champion: {champion.campaign_arn}" in output
