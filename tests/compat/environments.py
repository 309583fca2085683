"""Fresh virtualenvs holding a team's Airflow, the integration installed into them from its wheel, and the
Airflow CLI run in them: what the compatibility matrix (test_matrix.py) drives, all in subprocesses.

Installs go through the repository's uv and its default cache, so a warm cache makes a venv in seconds.
When uv cannot reach the package index, an install is tried again offline from the cache; when that fails
too, the test is skipped with the reason (failed under ``CI=true``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tests.conftest import IN_CI
from tests.wheels import ROOT, UV

LOCK = ROOT / "requirements.lock"
# What an Airflow 3.0 install needs beside Airflow's own dependency ranges (README "Use it in your Airflow").
AIRFLOW_3_0_CONSTRAINTS = Path(__file__).with_name("airflow-3.0-constraints.txt")
# What the team's Airflow is made of: installing the integration must leave each of these as it was.
AIRFLOW_DISTRIBUTIONS = (
    "apache-airflow",
    "apache-airflow-core",
    "apache-airflow-task-sdk",
    "apache-airflow-providers-amazon",
)
# uv's wording when the index is out of reach (then the cache alone is tried, and the test skips).
UNREACHABLE = re.compile(
    r"error sending request|dns error|failed to lookup|connection refused|connect error|timed out|"
    r"network is unreachable|failed to fetch",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class AirflowLine:
    """One supported Airflow a team may run: Airflow and the Amazon provider at these versions, resolved
    with ``constraints`` (none: whatever the index has today for the rest)."""

    name: str
    airflow: str
    amazon: str
    constraints: Path | None = None
    python: str | None = None  # a minor version ("3.12"); None: the interpreter running the tests

    @property
    def requirements(self) -> list[str]:
        return [f"apache-airflow=={self.airflow}", f"apache-airflow-providers-amazon=={self.amazon}"]


def _floor(requirements: list[str], name: str) -> str:
    for requirement in map(Requirement, requirements):
        if requirement.name == name:
            (floor,) = [spec.version for spec in requirement.specifier if spec.operator == ">="]
            return floor
    raise AssertionError(f"{name} is not among {requirements}")


def _pin(lock: Path, name: str) -> str:
    pattern = re.compile(rf"^{re.escape(name)}(\[[^\]]*\])?==([^\s;#]+)", re.MULTILINE)
    match = pattern.search(lock.read_text())
    assert match, f"{name} is not pinned in {lock.name}"
    return match.group(2)


def oldest() -> AirflowLine:
    """The floors the integration's pyproject declares (its oldest supported Airflow and Amazon provider),
    with the constraints an Airflow 3.0 install needs when the floor is a 3.0."""
    requirements = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    airflow = _floor(requirements, "apache-airflow")
    return AirflowLine(
        "oldest",
        airflow=airflow,
        amazon=_floor(requirements, "apache-airflow-providers-amazon"),
        constraints=AIRFLOW_3_0_CONSTRAINTS if Version(airflow) < Version("3.1") else None,
        python=newest_python(),
    )


def newest_python() -> str:
    """The newest Python minor the distributions admit (``requires-python``'s ``<3.N`` bound, less one): the
    floor line runs on it, the lock's line on the tests' own 3.11, so both ends of the Python range run."""
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    (bound,) = re.findall(r"<\s*3\.(\d+)", requires)
    return f"3.{int(bound) - 1}"


def find_python(minor: str) -> Path:
    """An interpreter of that minor version on this machine (PATH, then pyenv's versions); the test skips
    with the reason when there is none (fails under CI=true)."""
    candidates = [Path(found)] if (found := shutil.which(f"python{minor}")) else []
    candidates += sorted(Path.home().glob(f".pyenv/versions/{minor}.*/bin/python{minor}"), reverse=True)
    for candidate in candidates:
        probe = subprocess.run([str(candidate), "--version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return candidate
    reason = f"no Python {minor} on this machine (PATH, ~/.pyenv/versions) for the matrix's floor line"
    if IN_CI:
        pytest.fail(f"{reason}; CI=true requires the matrix")
    pytest.skip(reason)


def newest() -> AirflowLine:
    """Today's lock: its Airflow and Amazon provider, everything resolved within it."""
    return AirflowLine(
        "newest",
        airflow=_pin(LOCK, "apache-airflow"),
        amazon=_pin(LOCK, "apache-airflow-providers-amazon"),
        constraints=LOCK,
    )


class Progress:
    """Step timings on the terminal as they happen (pytest's capture left aside), so a CI log shows where
    the matrix spent its time."""

    def __init__(self, label: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.label = label
        self.capsys = capsys
        self.started = time.monotonic()
        self.seconds: dict[str, float] = {}

    def say(self, message: str) -> None:
        with self.capsys.disabled():
            print(f"\n[compat {self.label}] {message}", end="", flush=True)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        began = time.monotonic()
        self.say(f"{name} …")
        try:
            yield
        finally:
            self.seconds[name] = round(time.monotonic() - began, 1)
            self.say(f"{name}: {self.seconds[name]}s")

    def done(self) -> None:
        steps = ", ".join(f"{name.split('.')[0]}: {seconds}s" for name, seconds in self.seconds.items())
        self.say(f"done in {time.monotonic() - self.started:.1f}s (steps {steps})\n")


def clean_environment(**values: str) -> dict[str, str]:
    """This process's environment without what points at this repository's Airflow, Python or AWS, plus
    ``values``."""
    dropped = ("AIRFLOW", "PERSONALIZE_LOCAL_", "AWS_", "PYTHON", "VIRTUAL_ENV", "UV_PYTHON")
    env = {key: value for key, value in os.environ.items() if not key.startswith(dropped)}
    return {**env, **values}


def json_output(stdout: str) -> object:
    """The JSON document an ``airflow … -o json`` command printed, among whatever else it printed."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"^[\[{]", stdout, re.MULTILINE):
        with contextlib.suppress(ValueError):
            return decoder.raw_decode(stdout[match.start() :])[0]
    raise AssertionError(f"no JSON in the output:\n{stdout[-3000:]}")


class Venv:
    """A virtualenv under ``path``, with commands run in it from ``cwd`` with ``env`` (its bin/ first)."""

    def __init__(self, path: Path, *, cwd: Path, env: dict[str, str]) -> None:
        self.path = path
        self.cwd = cwd
        self.bin = path / "bin"
        self.python = self.bin / "python"
        self.env = {**env, "PATH": f"{self.bin}{os.pathsep}{env.get('PATH', '')}", "VIRTUAL_ENV": str(path)}

    def create(self, python: str | None = None) -> None:
        """The venv, on Python ``python`` (a minor version) or on the interpreter running the tests."""
        interpreter = str(find_python(python)) if python else sys.executable
        subprocess.run(
            [str(UV), "venv", "-q", "--python", interpreter, str(self.path)],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def install(
        self, *requirements: str, constraints: Path | None = None, find_links: Path | None = None
    ) -> str:
        """``uv pip install`` into the venv; returns what uv reported (the packages added and removed)."""
        command = [str(UV), "pip", "install", "--python", str(self.python), *requirements]
        if constraints:
            command += ["-c", str(constraints)]
        if find_links:
            command += ["--find-links", str(find_links)]
        online = self._uv(command)
        if online.returncode == 0:
            return online.stderr
        offline = self._uv([*command, "--offline"])
        if offline.returncode == 0:
            return offline.stderr
        if UNREACHABLE.search(online.stderr):
            reason = (
                f"uv cannot reach the package index and its cache lacks {' '.join(requirements)}: "
                f"{online.stderr.strip().splitlines()[-1]}"
            )
            if IN_CI:
                pytest.fail(f"{reason}; CI=true requires the matrix")
            pytest.skip(reason)
        raise AssertionError(f"{' '.join(command)} failed:\n{online.stderr}")

    def _uv(self, command: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=self.cwd)

    def versions(self) -> dict[str, str]:
        """Every installed distribution's version, by normalised name."""
        script = (
            "import importlib.metadata as m, json, re; print(json.dumps({re.sub(r'[-_.]+', '-', "
            "d.metadata['Name']).lower(): d.version for d in m.distributions()}))"
        )
        return json.loads(self.run("python", "-c", script).stdout)

    def imports(self, module: str) -> bool:
        return self.run("python", "-c", f"import {module}", check=False).returncode == 0

    def run(
        self, program: str, *args: str, check: bool = True, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(self.bin / program), *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.cwd,
            timeout=timeout,
        )
        if check and done.returncode:
            raise AssertionError(
                f"{program} {' '.join(args)} exited {done.returncode}\n--- stdout\n{done.stdout[-6000:]}"
                f"\n--- stderr\n{done.stderr[-6000:]}"
            )
        return done

    def airflow(self, *args: str, timeout: float = 300) -> str:
        return self.run("airflow", *args, timeout=timeout).stdout

    @contextlib.contextmanager
    def serving(self, program: str, *args: str, ready: Callable[[str], str | None]) -> Iterator[str]:
        """Start ``program`` in the background; yields what ``ready`` finds in its output (polled until it
        returns a value); stops it on exit."""
        log = self.cwd / f"{program}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [str(self.bin / program), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
            )
        try:
            deadline = time.monotonic() + 60
            while (found := ready(log.read_text())) is None:
                assert process.poll() is None, f"{program} exited {process.returncode}:\n{log.read_text()}"
                assert time.monotonic() < deadline, f"{program} not ready in 60 s:\n{log.read_text()}"
                time.sleep(0.2)
            yield found
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)
