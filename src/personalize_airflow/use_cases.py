"""Use cases as DAG files see them: configs from include/config/, and the Assets that link the DAGs."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Asset

from personalize_pipelines.config import UseCase, discover_use_cases, load_use_case
from personalize_pipelines.layout import UseCaseLayout
from personalize_pipelines.paths import CONFIG_DIR, SQL_DIR
from personalize_pipelines.windows import parse_instant


def all_use_cases() -> list[UseCase]:
    return discover_use_cases(CONFIG_DIR, sql_root=SQL_DIR)


def use_case(name: str) -> UseCase:
    return load_use_case(CONFIG_DIR / f"{name}.yaml", sql_root=SQL_DIR)


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
