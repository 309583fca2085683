"""bench/waiting.py: its DAGs parse as the two ways of waiting, and its slot accounting adds up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench.waiting import Observed
from tests.conftest import ROOT

T0 = datetime(2026, 11, 29, 6, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_the_bench_dags_wait_deferred_and_in_poke_mode(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "bench" / "dags"))
    assert bag.import_errors == {}
    deferred = bag.dags["bench_waiting__deferrable"].get_task("solution_version")
    assert deferred.deferrable and deferred.wait_for_completion
    poke = bag.dags["bench_waiting__poke"]
    assert poke.get_task("solution_version").wait_for_completion is False
    sensor = poke.get_task("wait_for_training")
    assert sensor.mode == "poke" and sensor.deferrable is False
    assert sensor.poke_interval == deferred.waiter_delay


def test_a_deferred_task_holds_a_slot_only_before_deferring_and_after_resuming():
    ti = Observed()
    ti.see(at(0.1), "running", at(0), None, None)
    ti.see(at(3.2), "deferred", at(0), None, at(3.0))
    ti.see(at(120.0), "scheduled", at(0), None, None)
    ti.see(at(120.4), "queued", at(0), None, None)
    ti.see(at(121.0), "running", at(0), None, None)
    ti.see(at(121.8), "success", at(0), at(121.6), None)

    assert ti.deferred_at == at(3.0)
    assert ti.resumed_at() == at(120.7)  # midpoint of the last queued and the first running sample
    assert ti.seconds_before_deferral() == 3.0
    assert round(ti.worker_slot_seconds(), 3) == round(3.0 + 0.9, 3)
    assert round(ti.deferred_seconds(), 3) == 117.7


def test_a_poking_task_holds_its_slot_from_start_to_end():
    ti = Observed()
    ti.see(at(0.2), "running", at(0), None, None)
    ti.see(at(125.1), "success", at(0), at(124.9), None)
    assert ti.worker_slot_seconds() == 124.9
    assert ti.deferred_seconds() == 0.0
