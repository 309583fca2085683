"""How the pieces fit Airflow: trigger serialization, registered links, the deferrable default."""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred

from personalize_airflow.hooks.personalize import PersonalizeHook
from personalize_airflow.operators import personalize as operators
from personalize_airflow.sensors import personalize as sensors
from personalize_airflow.triggers import personalize as triggers

WAITERS = PersonalizeHook(aws_conn_id=None, region_name="us-east-1")._list_custom_waiters()
WAITING = [
    cls
    for module, base in (
        (operators, operators.PersonalizeBaseOperator),
        (sensors, sensors.PersonalizeResourceSensor),
    )
    for _, cls in inspect.getmembers(module, inspect.isclass)
    if issubclass(cls, base) and cls.waiter_name and cls is not base
]


def _task(cls):
    """A task of this class with every required parameter an ARN."""
    parameters = inspect.signature(cls).parameters.values()
    return cls(
        task_id="waits",
        **{p.name: "arn:x" for p in parameters if p.kind is p.KEYWORD_ONLY and p.default is p.empty},
    )


def _deferred_trigger(cls) -> triggers.PersonalizeWaiterTrigger:
    """The trigger a task of this class defers to."""
    with pytest.raises(TaskDeferred) as deferred:
        _task(cls).defer_until_done("arn:x", waiter_delay=1, waiter_max_attempts=1)
    return deferred.value.trigger


def test_there_is_a_trigger_per_waiter():
    assert sorted({_deferred_trigger(cls).waiter_name for cls in WAITING}) == sorted(WAITERS)


def _kind(waiter_name: str) -> str:
    return waiter_name.rsplit("_", 1)[0]


@pytest.mark.parametrize("waiter_name", WAITERS)
def test_trigger_survives_the_trip_to_the_triggerer(waiter_name):
    arn = "arn:aws:personalize:us-east-1:123456789012:thing/name"
    trigger = triggers.PersonalizeWaiterTrigger(
        kind=_kind(waiter_name),
        waiter_name=waiter_name,
        arn=arn,
        waiter_delay=7,
        waiter_max_attempts=9,
        aws_conn_id="personalize_conn",
        region_name="eu-west-1",
    )
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)
    assert (rebuilt.waiter_args, rebuilt.waiter_delay, rebuilt.attempts) == (trigger.waiter_args, 7, 9)
    assert isinstance(rebuilt.hook(), PersonalizeHook)
    assert rebuilt.hook().region_name == "eu-west-1"


def test_every_operator_waits_with_a_trigger_matching_its_waiter():
    assert len(WAITING) == 13 + 7 + 4
    for cls in WAITING:
        trigger = _deferred_trigger(cls)
        assert trigger.waiter_name == cls.waiter_name, cls.__name__


def test_the_provider_registers_every_link_an_operator_shows():
    from airflow.providers_manager import ProvidersManager

    registered = {
        importlib.import_module(path.rpartition(".")[0]).__dict__[path.rpartition(".")[2]]
        for path in ProvidersManager().extra_links_class_names
        if path.startswith("personalize_airflow.")
    }
    creates = [
        cls
        for _, cls in inspect.getmembers(operators, inspect.isclass)
        if issubclass(cls, operators.PersonalizeBaseOperator) and cls.__name__.startswith("PersonalizeCreate")
    ]
    assert len(creates) == 12
    for cls in creates:
        assert cls.link_class in registered, cls.__name__
        assert [type(link) for link in cls.operator_extra_links] == [cls.link_class]


def test_deferrable_unless_the_config_says_otherwise(monkeypatch):
    monkeypatch.delenv("AIRFLOW__PERSONALIZE__DEFAULT_DEFERRABLE", raising=False)
    monkeypatch.delenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", raising=False)
    assert operators.default_deferrable() is True
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "false")
    assert operators.default_deferrable() is False
    monkeypatch.setenv("AIRFLOW__PERSONALIZE__DEFAULT_DEFERRABLE", "true")
    assert operators.default_deferrable() is True


def test_waits_default_to_the_delay_and_attempts_of_their_waiter():
    waiters = json.loads(Path(PersonalizeHook(aws_conn_id=None).waiter_path).read_text())["waiters"]
    for cls in WAITING:
        task = _task(cls)
        timing = (
            (task.poke_interval, task.max_retries)
            if isinstance(task, sensors.PersonalizeResourceSensor)
            else (task.waiter_delay, task.waiter_max_attempts)
        )
        waiter = waiters[cls.waiter_name]
        assert timing == (waiter["delay"], waiter["maxAttempts"]), cls.__name__
        trigger = triggers.PersonalizeWaiterTrigger(kind=cls.kind, waiter_name=cls.waiter_name, arn="arn:x")
        assert (trigger.waiter_delay, trigger.attempts) == timing, cls.__name__
