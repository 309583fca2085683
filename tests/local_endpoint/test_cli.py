"""``personalize-local serve`` as a user starts it: a process serving S3 and Personalize on one URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from personalize_local.settings import Settings
from tests.local_endpoint.conftest import make_clients, unique

SCRIPT = Path(sys.executable).parent / "personalize-local"


def test_serve_binds_loopback_and_serves_s3_and_personalize(tmp_path):
    environment = {**os.environ, "PERSONALIZE_LOCAL_PHASE_SECONDS": "0.01"}
    process = subprocess.Popen([str(SCRIPT), "serve", "--port", "0", "--state-dir", str(tmp_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=environment)
    try:
        line = process.stdout.readline().strip()
        assert line.startswith("personalize-local serving http://127.0.0.1:"), line
        clients = make_clients(line.rsplit(" ", 1)[1])
        bucket = unique("cli")
        clients.s3.create_bucket(Bucket=bucket)
        assert [b["Name"] for b in clients.s3.list_buckets()["Buckets"]] == [bucket]
        assert len(clients.personalize.list_recipes()["recipes"]) == 7
        clients.personalize.create_schema(name="cli-schema", schema='{"type": "record", "name": "Items", '
                                          '"fields": [{"name": "ITEM_ID", "type": "string"}]}')
        assert "cli-schema" in (tmp_path / "state.json").read_text()
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_settings_come_from_env_and_flags_override():
    settings = Settings.from_env({"PERSONALIZE_LOCAL_TRAIN_SECONDS": "120", "PERSONALIZE_LOCAL_FAIL_JOBS": "a, b",
                                  "PERSONALIZE_LOCAL_THROTTLE_RATE": "0.5"}, throttle_rate=0.1)
    assert (settings.train_seconds, settings.fail_jobs, settings.throttle_rate) == (120.0, {"a", "b"}, 0.1)
    assert settings.host == "127.0.0.1"
