"""The integration's wheel, as a team's Airflow would install it: ranges that leave their Airflow alone, and
none of the emulator's dependencies."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.wheels import INTEGRATION, UV, wheel_of


@pytest.fixture(scope="module")
def wheel(wheels) -> Path:
    built = wheel_of(wheels, INTEGRATION)
    assert built is not None, sorted(p.name for p in wheels.iterdir())
    return built


def metadata(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return archive.read(name).decode().splitlines()


def test_the_wheel_requires_none_of_the_emulators_packages(wheel):
    required = [
        line.split(":", 1)[1].strip() for line in metadata(wheel) if line.startswith("Requires-Dist:")
    ]
    base = [r for r in required if "extra ==" not in r]
    assert any(r.startswith("apache-airflow<4,>=3.3.0") for r in base)
    assert not [
        r for r in base if r.split("[")[0].split("<")[0].split(">")[0] in {"moto", "implicit", "scipy"}
    ]
    assert all("==" not in r for r in base), "ranges, never pins"


def test_the_wheel_ships_the_provider_entry_point_the_waiters_and_the_page(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = archive.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "[apache_airflow_provider]" in entry_points
    assert "personalize_airflow/waiters/personalize.json" in names
    assert "personalize_airflow/ui/templates/use_case.html" in names


def test_installing_it_leaves_the_installed_airflow_unchanged(wheel):
    plan = subprocess.run(
        [str(UV), "pip", "install", "--dry-run", "--python", sys.executable, str(wheel)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    changes = [line for line in (plan.stdout + plan.stderr).splitlines() if line.startswith((" - ", " + "))]
    assert changes, plan.stderr
    assert all("airflow-provider-personalize-pipelines" in line for line in changes), changes
