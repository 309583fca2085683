"""What the cleanup DAG may delete, and in which order: superseded Personalize resources past retention.

Input is an :class:`Inventory` (what exists, as the List/Describe calls describe it) and the protected
ARNs (:func:`protected_arns`: the recent champions and everything they depend on). :func:`plan` returns
the deletions grouped in dependency order (:data:`ORDER`):

1. campaigns — a solution cannot go while a campaign serves one of its versions — and recommenders (a
   dataset group cannot go while it holds one);
2. event trackers and filters — only with their dataset group;
3. solutions (their versions go with them) — only when none of their campaigns stays;
4. datasets — only with their dataset group;
5. dataset groups — only when every dataset, solution, campaign, recommender, tracker and filter in them
   goes;
6. schemas — only when every dataset using them goes.

A resource goes only when it is in scope (in a dataset group the registry recorded, or whose name starts
with the configured prefix), was created before the cutoff, is not protected, and nothing that stays
depends on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ORDER = (
    "campaign",
    "recommender",
    "event_tracker",
    "filter",
    "solution",
    "dataset",
    "dataset_group",
    "schema",
)


@dataclass(frozen=True)
class Resource:
    """One Personalize resource as the plan sees it."""

    kind: str
    arn: str
    name: str
    created: datetime
    dataset_group_arn: str | None = None
    solution_arn: str | None = None
    schema_arn: str | None = None


@dataclass
class Inventory:
    """Every resource that might be in scope, by kind (keys of :data:`ORDER`)."""

    resources: dict[str, list[Resource]] = field(default_factory=lambda: {kind: [] for kind in ORDER})

    def add(self, resource: Resource) -> None:
        self.resources.setdefault(resource.kind, []).append(resource)

    def of(self, kind: str) -> list[Resource]:
        return self.resources.get(kind, [])


def protected_arns(champions: Iterable[Any], inventory: Inventory) -> set[str]:
    """The champions' campaign, solution, version, recommenders, dataset group and tracker, and every
    dataset, schema, tracker and filter of their dataset groups.

    :param champions: :class:`personalize_pipelines.registry.Champion` entries (the current one and the
        recent ones kept for rollback).
    """
    protected: set[str] = set()
    groups: set[str] = set()
    for champion in champions:
        protected.update(
            arn
            for arn in (
                champion.campaign_arn,
                champion.solution_arn,
                champion.solution_version_arn,
                champion.dataset_group_arn,
                champion.event_tracker_arn,
            )
            if arn
        )
        protected.update((champion.recommenders or {}).values())
        groups.add(champion.dataset_group_arn)
    for kind in ("dataset", "event_tracker", "filter"):
        for resource in inventory.of(kind):
            if resource.dataset_group_arn in groups:
                protected.add(resource.arn)
                if resource.schema_arn:
                    protected.add(resource.schema_arn)
    return protected


@dataclass(frozen=True)
class Deletion:
    kind: str
    arn: str
    name: str
    created: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "arn": self.arn, "name": self.name, "created": self.created}


def plan(
    inventory: Inventory,
    *,
    protected: set[str],
    cutoff: datetime,
    scope_groups: set[str],
    name_prefix: str | None = None,
) -> dict[str, list[Deletion]]:
    """The deletions, by kind, each list in creation order; kinds in :data:`ORDER`.

    :param protected: ARNs never deleted (:func:`protected_arns`).
    :param cutoff: only resources created before this go.
    :param scope_groups: dataset groups this use case owns (the registry's history).
    :param name_prefix: dataset groups whose name starts with it are in scope too.
    """
    groups = {
        g.arn: g
        for g in inventory.of("dataset_group")
        if g.arn in scope_groups or (name_prefix and g.name.startswith(name_prefix))
    }

    cutoff = _utc(cutoff)

    def old_and_free(resource: Resource) -> bool:
        return resource.arn not in protected and _utc(resource.created) < cutoff

    campaigns = [
        c for c in inventory.of("campaign") if _solution_group(c, inventory) in groups and old_and_free(c)
    ]
    recommenders = [
        r for r in inventory.of("recommender") if r.dataset_group_arn in groups and old_and_free(r)
    ]
    going = {c.arn for c in campaigns} | {r.arn for r in recommenders}
    staying_campaigns = {c.solution_arn for c in inventory.of("campaign") if c.arn not in going}
    solutions = [
        s
        for s in inventory.of("solution")
        if s.dataset_group_arn in groups and old_and_free(s) and s.arn not in staying_campaigns
    ]
    going |= {s.arn for s in solutions}

    def children(group_arn: str) -> list[Resource]:
        kinds = ("dataset", "event_tracker", "filter", "solution", "recommender")
        found = [r for kind in kinds for r in inventory.of(kind) if r.dataset_group_arn == group_arn]
        return found + [c for c in inventory.of("campaign") if _solution_group(c, inventory) == group_arn]

    whole_groups = [
        g
        for g in groups.values()
        if old_and_free(g)
        and all(
            child.arn in going
            or (child.kind in ("dataset", "event_tracker", "filter") and old_and_free(child))
            for child in children(g.arn)
        )
    ]
    leaving = {g.arn for g in whole_groups}
    trackers = [t for t in inventory.of("event_tracker") if t.dataset_group_arn in leaving]
    filters = [f for f in inventory.of("filter") if f.dataset_group_arn in leaving]
    datasets = [d for d in inventory.of("dataset") if d.dataset_group_arn in leaving]
    going_datasets = {d.arn for d in datasets}
    used = {d.schema_arn for d in inventory.of("dataset") if d.arn not in going_datasets}
    schemas = [
        s
        for s in inventory.of("schema")
        if s.arn in {d.schema_arn for d in datasets} and s.arn not in used and old_and_free(s)
    ]
    chosen = {
        "campaign": campaigns,
        "recommender": recommenders,
        "event_tracker": trackers,
        "filter": filters,
        "solution": solutions,
        "dataset": datasets,
        "dataset_group": whole_groups,
        "schema": schemas,
    }
    return {
        kind: [
            Deletion(kind, r.arn, r.name, r.created.isoformat())
            for r in sorted(chosen[kind], key=lambda r: _utc(r.created))
        ]
        for kind in ORDER
    }


def _utc(moment: datetime) -> datetime:
    """Aware in UTC; a naive time is taken to be UTC."""
    return moment.replace(tzinfo=UTC) if moment.utcoffset() is None else moment.astimezone(UTC)


def _solution_group(campaign: Resource, inventory: Inventory) -> str | None:
    for solution in inventory.of("solution"):
        if solution.arn == campaign.solution_arn:
            return solution.dataset_group_arn
    return None


def describe_plan(deletions: Mapping[str, Sequence[Deletion]]) -> str:
    """One line per deletion, in order, for the task log."""
    lines = [
        f"{index}. {d.kind} {d.name} ({d.arn}), created {d.created}"
        for index, d in enumerate((d for kind in ORDER for d in deletions.get(kind, [])), start=1)
    ]
    return "\n".join(lines) or "nothing to delete"
