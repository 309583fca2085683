"""How the pieces fit Airflow: trigger serialization, registered links, the deferrable default."""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

import pytest
from personalize_airflow.hooks.personalize import PersonalizeHook
from personalize_airflow.operators import personalize as operators
from personalize_airflow.sensors import personalize as sensors
from personalize_airflow.triggers import personalize as triggers

TRIGGERS = [
    cls
    for _, cls in inspect.getmembers(triggers, inspect.isclass)
    if issubclass(cls, triggers.PersonalizeWaiterTrigger) and cls is not triggers.PersonalizeWaiterTrigger
]
WAITERS = PersonalizeHook(aws_conn_id=None, region_name="us-east-1")._list_custom_waiters()


def test_there_is_a_trigger_per_waiter():
    assert sorted(cls(**{_arn_param(cls): "arn:x"}).waiter_name for cls in TRIGGERS) == sorted(WAITERS)


def _arn_param(cls) -> str:
    [param] = [p for p in inspect.signature(cls).parameters if p.endswith("_arn")]
    return param


@pytest.mark.parametrize("trigger_class", TRIGGERS, ids=lambda c: c.__name__)
def test_trigger_survives_the_trip_to_the_triggerer(trigger_class):
    arn = "arn:aws:personalize:us-east-1:123456789012:thing/name"
    trigger = trigger_class(
        **{_arn_param(trigger_class): arn},
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
    waiting = [
        cls
        for _, cls in inspect.getmembers(operators, inspect.isclass)
        if issubclass(cls, operators.PersonalizeBaseOperator) and cls.waiter_name
    ]
    waiting += [
        cls
        for _, cls in inspect.getmembers(sensors, inspect.isclass)
        if issubclass(cls, sensors.PersonalizeResourceSensor) and cls is not sensors.PersonalizeResourceSensor
    ]
    assert len(waiting) == 9 + 7 + 4
    for cls in waiting:
        trigger = cls.trigger_class(**{_arn_param(cls.trigger_class): "arn:x"})
        assert trigger.waiter_name == cls.waiter_name, cls.__name__


def test_plugin_registers_every_link_an_operator_shows():
    sys.path.insert(0, str(Path(operators.__file__).parents[2]))
    try:
        plugin = importlib.import_module("personalize_plugin").PersonalizePlugin
    finally:
        sys.path.pop(0)
    registered = {type(link) for link in plugin.operator_extra_links}
    creates = [
        cls
        for _, cls in inspect.getmembers(operators, inspect.isclass)
        if issubclass(cls, operators.PersonalizeBaseOperator) and cls.__name__.startswith("PersonalizeCreate")
    ]
    assert len(creates) == 10
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
