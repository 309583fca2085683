"""The run's moment is plain UTC: windows computed from it do not move with the worker's time zone."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pendulum
import pytest

from personalize_airflow.moments import run_moment
from personalize_pipelines.batch_scoring import template_context


@pytest.fixture
def worker_in_new_york(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_batch_users_window_is_the_same_on_a_worker_in_another_time_zone(worker_in_new_york):
    logical_date = pendulum.datetime(2026, 11, 1, 6, 30, tz="UTC")
    context = template_context(SimpleNamespace(active_days=30), run_moment({"logical_date": logical_date}))

    assert context["active_since_epoch"] == int(datetime(2026, 10, 2, 6, 30, tzinfo=UTC).timestamp())
    assert context["active_since"] == "2026-10-02 06:30:00"


def test_a_manual_run_without_a_logical_date_uses_the_time_it_was_asked_to_run():
    asked = pendulum.datetime(2026, 11, 29, 8, 15, 30, 123456, tz="Europe/Paris")
    moment = run_moment({"logical_date": None, "dag_run": SimpleNamespace(run_after=asked)})

    assert moment == datetime(2026, 11, 29, 7, 15, 30, 123456, tzinfo=UTC)
    assert (moment - timedelta(hours=1)).tzinfo is UTC
