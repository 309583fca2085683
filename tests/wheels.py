"""The project's wheels, built as a release would build them: one per pyproject of the repository (the root's
and each of ``packages/*``), into one folder that installs can use as ``--find-links``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).parent / "uv"
INTEGRATION = "airflow-provider-personalize-pipelines"


def distribution_roots() -> list[Path]:
    """Every folder of this repository holding a ``pyproject.toml``: the root, then ``packages/*``."""
    return [ROOT, *sorted(p.parent for p in (ROOT / "packages").glob("*/pyproject.toml"))]


def build_wheels(out: Path) -> Path:
    """Build every distribution into ``out`` (returned): its source distribution, and the wheel built from
    that, as an index would hold it. Not ``--wheel`` straight from the tree: setuptools reuses the tree's
    build/lib/, where a checkout that built before a module moved still has it (personalize_local/ was in
    the integration's until it became a distribution of its own)."""
    out.mkdir(parents=True, exist_ok=True)
    for project in distribution_roots():
        subprocess.run([str(UV), "build", "-q", "-o", str(out), str(project)], check=True, timeout=300)
    return out


def wheel_of(folder: Path, distribution: str) -> Path:
    """The wheel of ``distribution`` (its project name) in ``folder``."""
    found = list(folder.glob(f"{distribution.replace('-', '_')}-*.whl"))
    assert len(found) == 1, f"{distribution}: {sorted(p.name for p in folder.iterdir())}"
    return found[0]
