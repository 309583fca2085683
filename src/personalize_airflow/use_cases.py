"""Use cases as DAG files see them: the team's project (``[personalize] project_dir``), its use cases, and the
Assets that link the DAGs."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import Asset

from personalize_pipelines.config import UseCase
from personalize_pipelines.layout import UseCaseLayout
from personalize_pipelines.project import Project
from personalize_pipelines.windows import parse_instant


def project() -> Project:
    """The team's project: ``[personalize] project_dir`` (``AIRFLOW__PERSONALIZE__PROJECT_DIR``) when set,
    else the folder above the DAGs folder (an Astro project's layout: ``dags/`` beside ``include/``)."""
    from airflow.configuration import conf

    configured = conf.get("personalize", "project_dir", fallback=None)
    root = Path(configured) if configured else Path(conf.get("core", "dags_folder")).parent
    return Project(root.expanduser().resolve())


def all_use_cases() -> list[UseCase]:
    return project().use_cases()


def use_case(name: str) -> UseCase:
    return project().use_case(name)


def export_asset(uc: UseCase) -> Asset:
    """Updated by each published export version; the event's extra carries the version's URI."""
    layout = use_case_layout(uc)
    return Asset(name=f"{uc.name}__export", uri=layout.uri(layout.folder))


def use_case_layout(uc: UseCase) -> UseCaseLayout:
    """Where the use case's objects live in its bucket (for DAG docs and tasks)."""
    return UseCaseLayout.for_use_case(uc)


def start_date(uc: UseCase) -> datetime:
    """The first logical date of every DAG of the use case (``schedule.start_date``, UTC)."""
    return parse_instant(uc.schedule.start_date)


def retry_delay(default_seconds: int) -> timedelta:
    """The wait before a failed task's next try: ``[personalize] retry_delay_seconds`` if set (for every DAG
    of every use case, e.g. ``AIRFLOW__PERSONALIZE__RETRY_DELAY_SECONDS=5`` on a test stack), else the DAG's
    default."""
    from airflow.configuration import conf

    return timedelta(seconds=conf.getint("personalize", "retry_delay_seconds", fallback=default_seconds))
