"""A data team's project: the folder holding ``include/config`` (one YAML per use case), ``include/sql`` and
``include/expectations`` (GX suites), usually beside their ``dags/``.

The pipelines find it through one setting, never through where this package is installed: the Airflow
integration reads ``[personalize] project_dir`` (:func:`personalize_airflow.use_cases.project`). This
repository's own ``dags/`` and ``include/`` are such a project: the example the demo runs.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path

from personalize_pipelines import DISTRIBUTION
from personalize_pipelines.config import ConfigError, UseCase, discover_use_cases, load_use_case


class UnknownUseCaseError(ConfigError):
    """No YAML of that name in the project's include/config."""


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def include(self) -> Path:
        return Path(self.root) / "include"

    @property
    def config_dir(self) -> Path:
        return self.include / "config"

    @property
    def sql_dir(self) -> Path:
        return self.include / "sql"

    @property
    def expectations_dir(self) -> Path:
        return self.include / "expectations"

    def use_cases(self) -> list[UseCase]:
        """Every use case of the project, sorted by name; one bad file raises, naming that file."""
        if not self.config_dir.is_dir():
            raise ConfigError(
                f"project {self.root}: no {self.config_dir.relative_to(self.root)}/ folder; set "
                "[personalize] project_dir (AIRFLOW__PERSONALIZE__PROJECT_DIR) to the folder that holds include/"
            )
        return [self._bound(uc) for uc in discover_use_cases(self.config_dir, sql_root=self.sql_dir)]

    def use_case(self, name: str) -> UseCase:
        path = self.config_dir / f"{name}.yaml"
        if not path.is_file():
            known = sorted(p.stem for p in self.config_dir.glob("*.yaml"))
            raise UnknownUseCaseError(
                f"no use case {name!r}: {path} does not exist "
                f"(use cases in {self.config_dir}: {', '.join(known) or 'none'})"
            )
        return self._bound(load_use_case(path, sql_root=self.sql_dir))

    def _bound(self, use_case: UseCase) -> UseCase:
        use_case.bind_project(self)
        return use_case

    def code_version(self) -> str:
        """The installed pipelines' version, and the project's git commit when it is a checkout."""
        try:
            installed = package_version(DISTRIBUTION)
        except PackageNotFoundError:
            installed = "unknown"
        try:
            sha = subprocess.run(
                ["git", "-C", str(self.root), "rev-parse", "--short", "HEAD"],
                capture_output=True,
                text=True,
                timeout=5,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            sha = ""
        return f"{installed}+{sha}" if sha else installed
