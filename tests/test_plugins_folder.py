"""Airflow's plugin manager, started on this repository's plugins folder, loads the plugin and imports no
project module a second time under another name (it imports every `.py` there as a top-level module)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

PROBE = """
import json, sys
from pathlib import Path
from airflow import plugins_manager
plugins, errors = plugins_manager._get_plugins()
root = Path(sys.argv[1]).resolve()
files = {}
for name, module in list(sys.modules.items()):
    path = getattr(module, "__file__", None)
    path = Path(path).resolve() if path else None
    if path and any(path.is_relative_to(root / folder) for folder in ("src", "packages", "plugins", "dags")):
        files.setdefault(str(path.relative_to(root)), []).append(name)
print(json.dumps({"plugins": sorted(p.name for p in plugins), "errors": errors, "files": files}))
"""


def load_plugins() -> dict:
    env = {**os.environ, "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins")}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_plugin_loads_without_errors():
    loaded = load_plugins()
    assert "personalize" in loaded["plugins"]
    assert loaded["errors"] == {}


def test_no_project_module_is_imported_twice():
    loaded = load_plugins()
    twice = {path: names for path, names in loaded["files"].items() if len(names) > 1}
    assert twice == {}
    assert loaded["files"]["plugins/personalize_plugin.py"] == ["personalize_plugin"]
    assert any(path.startswith("src/personalize_airflow/") for path in loaded["files"])
