"""What the serving task modules (batch, events, cleanup) share on the Airflow side: the use case and its
serving settings, its S3 client, and the core's errors as Airflow outcomes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSkipException

from personalize_pipelines.serving import NothingToServe, ServingError


@contextmanager
def airflow_outcomes() -> Iterator[None]:
    """:class:`ServingError` fails the task without retry; :class:`NothingToServe` skips it."""
    try:
        yield
    except NothingToServe as exc:
        raise AirflowSkipException(str(exc)) from exc
    except ServingError as exc:
        raise AirflowFailException(str(exc)) from exc


def serving_use_case(name: str, section: str | None = None) -> tuple[Any, Any]:
    """The use case and its ``serving`` settings (or one section of them); fails when they are absent."""
    from personalize_airflow.use_cases import use_case
    from personalize_pipelines.serving import serving_settings

    uc = use_case(name)
    with airflow_outcomes():
        return uc, serving_settings(uc, section)


def s3_client(uc: Any) -> Any:
    """The S3 client of the use case's AWS connection."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id=uc.s3.conn_id).get_conn()


def warehouse_query(uc: Any) -> Any:
    """``sql → rows`` on the use case's warehouse connection, for the core's ``query`` parameters."""
    from functools import partial

    from personalize_airflow.warehouse import query_warehouse

    return partial(query_warehouse, uc.warehouse_conn_id)


def personalize_client(uc: Any) -> Any:
    """The Personalize client of the use case's AWS connection."""
    from personalize_airflow.hooks.personalize import PersonalizeHook

    return PersonalizeHook(aws_conn_id=uc.s3.conn_id).conn
