"""The retention plan's rules: what stays when something young or protected depends on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from personalize_pipelines.retention import ORDER, Inventory, Resource, describe_plan, plan, protected_arns

NOW = datetime(2026, 11, 29, tzinfo=UTC)
OLD = NOW - timedelta(days=60)
YOUNG = NOW - timedelta(days=1)
CUTOFF = NOW - timedelta(days=14)


def group_with(
    inventory: Inventory, name: str, *, created=OLD, campaign_created=OLD, schema: str | None = None
):
    """A dataset group with a dataset, tracker, filter, solution and campaign, all named after it."""
    arn = f"arn:dg/{name}"
    schema = schema or f"arn:schema/{name}"
    inventory.add(Resource("dataset_group", arn, name, created))
    inventory.add(
        Resource("dataset", f"arn:ds/{name}", name, created, dataset_group_arn=arn, schema_arn=schema)
    )
    inventory.add(Resource("event_tracker", f"arn:et/{name}", name, created, dataset_group_arn=arn))
    inventory.add(Resource("filter", f"arn:f/{name}", name, created, dataset_group_arn=arn))
    inventory.add(Resource("solution", f"arn:sol/{name}", name, created, dataset_group_arn=arn))
    inventory.add(
        Resource("campaign", f"arn:c/{name}", name, campaign_created, solution_arn=f"arn:sol/{name}")
    )
    if schema not in {s.arn for s in inventory.of("schema")}:
        inventory.add(Resource("schema", schema, schema.rsplit("/", 1)[-1], created))
    return arn


def champion(name: str, **fields) -> SimpleNamespace:
    """A promotion as :class:`personalize_pipelines.registry.Champion` records it."""
    recorded = {
        "campaign_arn": f"arn:c/{name}",
        "solution_arn": f"arn:sol/{name}",
        "solution_version_arn": f"arn:sol/{name}/v1",
        "dataset_group_arn": f"arn:dg/{name}",
        "event_tracker_arn": f"arn:et/{name}",
        "recommenders": {},
    }
    return SimpleNamespace(**(recorded | fields))


def domain_group(inventory: Inventory, name: str, *, created=OLD) -> str:
    """A domain dataset group serving through two recommenders (no solution, no campaign)."""
    arn = f"arn:dg/{name}"
    inventory.add(Resource("dataset_group", arn, name, created))
    inventory.add(
        Resource(
            "dataset", f"arn:ds/{name}", name, created, dataset_group_arn=arn, schema_arn=f"arn:schema/{name}"
        )
    )
    inventory.add(Resource("schema", f"arn:schema/{name}", name, created))
    for use in ("top-picks", "more-like"):
        inventory.add(Resource("recommender", f"arn:rec/{name}-{use}", use, created, dataset_group_arn=arn))
    return arn


def arns(deletions) -> dict[str, list[str]]:
    return {kind: [d.arn for d in deletions[kind]] for kind in ORDER if deletions[kind]}


def test_a_superseded_group_goes_whole_and_the_champions_stays():
    inventory = Inventory()
    old, current = group_with(inventory, "old"), group_with(inventory, "current")
    protected = protected_arns([champion("current")], inventory)
    deletions = plan(inventory, protected=protected, cutoff=CUTOFF, scope_groups={old, current})
    assert arns(deletions) == {
        "campaign": ["arn:c/old"],
        "event_tracker": ["arn:et/old"],
        "filter": ["arn:f/old"],
        "solution": ["arn:sol/old"],
        "dataset": ["arn:ds/old"],
        "dataset_group": [old],
        "schema": ["arn:schema/old"],
    }
    assert describe_plan(deletions).splitlines()[0].startswith("1. campaign old (arn:c/old)")


def test_a_young_campaign_keeps_its_solution_and_group_but_not_what_is_free():
    inventory = Inventory()
    old = group_with(inventory, "old", campaign_created=YOUNG)
    inventory.add(Resource("solution", "arn:sol/loser", "loser", OLD, dataset_group_arn=old))
    deletions = plan(inventory, protected=set(), cutoff=CUTOFF, scope_groups={old})
    assert arns(deletions) == {"solution": ["arn:sol/loser"]}


def test_a_schema_another_dataset_uses_stays_and_out_of_scope_groups_are_never_touched():
    inventory = Inventory()
    old = group_with(inventory, "old", schema="arn:schema/shared")
    group_with(inventory, "other-team", schema="arn:schema/shared")
    deletions = plan(inventory, protected=set(), cutoff=CUTOFF, scope_groups={old})
    assert "schema" not in arns(deletions)
    assert all("other-team" not in d.arn for kind in ORDER for d in deletions[kind])
    prefixed = plan(inventory, protected=set(), cutoff=CUTOFF, scope_groups=set(), name_prefix="other-")
    assert arns(prefixed)["dataset_group"] == ["arn:dg/other-team"]


def test_the_previous_champion_is_kept_for_rollback_when_asked():
    inventory = Inventory()
    old, current = group_with(inventory, "old"), group_with(inventory, "current")
    protected = protected_arns([champion("current"), champion("old")], inventory)
    assert "arn:schema/old" in protected and "arn:f/old" in protected
    assert arns(plan(inventory, protected=protected, cutoff=CUTOFF, scope_groups={old, current})) == {}


def test_superseded_recommenders_go_with_their_group_and_the_serving_ones_stay():
    inventory = Inventory()
    old, current = domain_group(inventory, "old"), domain_group(inventory, "current")
    serving = {"top-picks": "arn:rec/current-top-picks", "more-like": "arn:rec/current-more-like"}
    current_champion = champion("current", campaign_arn=None, solution_arn=None, recommenders=serving)
    protected = protected_arns([current_champion], inventory)
    deletions = plan(inventory, protected=protected, cutoff=CUTOFF, scope_groups={old, current})
    assert arns(deletions) == {
        "recommender": ["arn:rec/old-top-picks", "arn:rec/old-more-like"],
        "dataset": ["arn:ds/old"],
        "dataset_group": [old],
        "schema": ["arn:schema/old"],
    }


def test_a_young_recommender_keeps_its_group():
    inventory = Inventory()
    old = domain_group(inventory, "old")
    inventory.add(Resource("recommender", "arn:rec/old-new", "new", YOUNG, dataset_group_arn=old))
    deletions = plan(inventory, protected=set(), cutoff=CUTOFF, scope_groups={old})
    assert arns(deletions) == {"recommender": ["arn:rec/old-top-picks", "arn:rec/old-more-like"]}
