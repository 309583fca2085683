"""The custom waiter file: found by the hook, and every waiter speaks the real Personalize service model."""

from __future__ import annotations

import re

import botocore.session
import pytest

from personalize_airflow.hooks.personalize import RESOURCES, PersonalizeHook, derive_name

SERVICE = botocore.session.get_session().get_service_model("personalize")
HOOK = PersonalizeHook(aws_conn_id=None, region_name="us-east-1")
WAITERS = HOOK._list_custom_waiters()
NAME_PATTERN = re.compile(SERVICE.shape_for("Name").metadata["pattern"])


def _resolves(shape, dotted: str) -> bool:
    for part in dotted.split("."):
        if shape.type_name != "structure" or part not in shape.members:
            return False
        shape = shape.members[part]
    return True


def test_hook_finds_every_waiter_the_operators_need():
    needed = {
        f"{kind}_{suffix}" for kind in RESOURCES for suffix in ("active", "complete", "deleted", "stopped")
    }
    assert set(WAITERS) <= needed
    for name in [
        "dataset_group_active",
        "dataset_active",
        "dataset_import_job_complete",
        "solution_active",
        "solution_version_complete",
        "campaign_active",
        "batch_inference_job_complete",
        "event_tracker_active",
        "filter_active",
        "recommender_active",
        "recommender_stopped",
        "dataset_group_deleted",
        "dataset_deleted",
        "schema_deleted",
        "solution_deleted",
        "campaign_deleted",
        "event_tracker_deleted",
        "filter_deleted",
    ]:
        assert name in WAITERS


@pytest.mark.parametrize("waiter_name", WAITERS)
def test_waiter_paths_exist_in_the_describe_output(waiter_name):
    waiter = HOOK.get_waiter(waiter_name)
    operation = SERVICE.operation_model(waiter.config.operation)
    for acceptor in waiter.config.acceptors:
        if acceptor.matcher == "path":
            assert _resolves(operation.output_shape, acceptor.argument), acceptor.argument
        else:
            assert acceptor.matcher == "error"
            assert acceptor.expected in {shape.name for shape in operation.error_shapes}


@pytest.mark.parametrize("waiter_name", [w for w in WAITERS if not w.endswith("_deleted")])
def test_create_failed_is_a_failure_state(waiter_name):
    acceptors = HOOK.get_waiter(waiter_name).config.acceptors
    assert any(a.expected == "CREATE FAILED" and a.state == "failure" for a in acceptors)


def test_derived_names_are_valid_deterministic_and_distinct():
    first = derive_name("movies train/solution.version", "dag", "task", "manual__2026-11-29T00:00:00+00:00")
    assert first == derive_name(
        "movies train/solution.version", "dag", "task", "manual__2026-11-29T00:00:00+00:00"
    )
    assert first != derive_name(
        "movies train/solution.version", "dag", "task", "manual__2026-11-30T00:00:00+00:00"
    )
    long = derive_name("x" * 200, "a")
    for name in (first, long, derive_name("__", "a")):
        assert NAME_PATTERN.fullmatch(name) and len(name) <= 63, name
