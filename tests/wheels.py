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
    """Build a wheel of every distribution into ``out`` (returned)."""
    out.mkdir(parents=True, exist_ok=True)
    for project in distribution_roots():
        subprocess.run(
            [str(UV), "build", "-q", "--wheel", "-o", str(out), str(project)], check=True, timeout=300
        )
    return out


def wheel_of(folder: Path, distribution: str) -> Path | None:
    """The wheel of ``distribution`` (its project name) in ``folder``, if one was built."""
    found = list(folder.glob(f"{distribution.replace('-', '_')}-*.whl"))
    assert len(found) <= 1, found
    return found[0] if found else None
