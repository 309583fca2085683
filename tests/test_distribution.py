"""The three wheels, as they would be installed: the integration's, with ranges that leave a team's Airflow
alone and none of the emulator's dependencies or code; personalize-local's, with the emulator's packages and
none of the integration; personalize-metrics', which both require, with numpy only."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from tests.wheels import INTEGRATION, UV, wheel_of

AIRFLOW_RANGE = ">=3.0.6,!=3.2.*,<4"  # README "Use it in your Airflow"


@pytest.fixture(scope="module")
def wheel(wheels) -> Path:
    return wheel_of(wheels, INTEGRATION)


@pytest.fixture(scope="module")
def metrics_wheel(wheels) -> Path:
    return wheel_of(wheels, "personalize-metrics")


@pytest.fixture(scope="module")
def local_wheel(wheels) -> Path:
    return wheel_of(wheels, "personalize-local")


def metadata(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return archive.read(name).decode().splitlines()


def base_requirements(wheel: Path) -> list[str]:
    required = [
        line.split(":", 1)[1].strip() for line in metadata(wheel) if line.startswith("Requires-Dist:")
    ]
    return [r for r in required if "extra ==" not in r]


def required_names(wheel: Path) -> set[str]:
    return {Requirement(r).name for r in base_requirements(wheel)}


def files(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_the_wheel_requires_none_of_the_emulators_packages(wheel):
    base = base_requirements(wheel)
    airflow = [Requirement(r) for r in base if Requirement(r).name == "apache-airflow"]
    assert [str(r.specifier) for r in airflow] == [str(SpecifierSet(AIRFLOW_RANGE))], airflow
    assert not [
        r for r in base if r.split("[")[0].split("<")[0].split(">")[0] in {"moto", "implicit", "scipy"}
    ]
    assert all("==" not in r for r in base), "ranges, never pins"
    assert "personalize-metrics" in required_names(wheel)
    assert "personalize-local" not in required_names(wheel)


def test_the_wheel_ships_the_provider_entry_point_the_waiters_and_the_page(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = archive.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "[apache_airflow_provider]" in entry_points
    assert "personalize_airflow/waiters/personalize.json" in names
    assert "personalize_airflow/ui/templates/use_case.html" in names


def test_the_wheel_holds_none_of_the_emulators_or_the_metrics_code(wheel):
    assert not [n for n in files(wheel) if n.startswith(("personalize_local/", "personalize_metrics/"))]
    assert "personalize_pipelines/evaluation.py" in files(wheel)


def test_the_emulators_wheel_requires_its_packages_and_holds_none_of_the_integration(local_wheel):
    names = required_names(local_wheel)
    assert {"moto", "implicit", "scipy", "personalize-metrics"} <= names
    assert not [n for n in names if n.startswith(("apache-airflow", "airflow-provider-personalize"))]
    assert all("==" not in r for r in base_requirements(local_wheel)), "ranges, never pins"
    assert "personalize_local/training/trainer.py" in files(local_wheel)
    assert not [
        n for n in files(local_wheel) if n.startswith(("personalize_airflow/", "personalize_pipelines/"))
    ]
    with zipfile.ZipFile(local_wheel) as archive:
        entry_points = archive.read(next(n for n in archive.namelist() if n.endswith("entry_points.txt")))
    assert "personalize-local = personalize_local.cli:main" in entry_points.decode()


def test_the_metrics_wheel_requires_numpy_only(metrics_wheel):
    assert required_names(metrics_wheel) == {"numpy"}
    assert {n for n in files(metrics_wheel) if not n.startswith("personalize_metrics-")} == {
        "personalize_metrics/__init__.py"
    }


def test_installing_it_leaves_the_installed_airflow_unchanged(wheel, metrics_wheel):
    plan = subprocess.run(
        [
            str(UV),
            "pip",
            "install",
            "--dry-run",
            "--python",
            sys.executable,
            "--find-links",
            str(metrics_wheel.parent),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    changes = [line for line in (plan.stdout + plan.stderr).splitlines() if line.startswith((" - ", " + "))]
    assert changes, plan.stderr
    assert all("airflow-provider-personalize-pipelines" in line for line in changes), changes
