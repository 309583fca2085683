"""Training input: validation, event filtering and weighting, id encoding and the holdout split."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from personalize_local.limits import MIN_INTERACTIONS, MIN_USERS_WITH_TWO

HOLDOUT_FRACTION = 0.1


class TrainingError(Exception):
    """Training cannot run on this data or configuration; ``reason`` is the failureReason to report."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, kw_only=True)
class TrainingData:
    """The dataset group's data as the solution version sees it.

    :param interactions: ``USER_ID`` (str), ``ITEM_ID`` (str), ``TIMESTAMP`` (int64 epoch seconds), and
        optionally ``EVENT_TYPE`` (str) and ``EVENT_VALUE`` (float).
    :param items: ``ITEM_ID`` plus item metadata columns, or None.
    :param users: ``USER_ID`` plus user metadata columns, or None.
    """

    interactions: pd.DataFrame
    items: pd.DataFrame | None = None
    users: pd.DataFrame | None = None


@dataclass(frozen=True)
class EventRules:
    """Which events train the model and how much each weighs (from the solution's config)."""

    event_type: str | None = None
    value_threshold: float | None = None
    per_type: dict[str, tuple[float | None, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Events:
    """Weighted events in time order per user, with integer codes for users and items."""

    user: np.ndarray
    item: np.ndarray
    timestamp: np.ndarray
    weight: np.ndarray
    user_ids: np.ndarray
    item_ids: np.ndarray

    def __len__(self) -> int:
        return len(self.user)

    def subset(self, mask: np.ndarray) -> Events:
        return Events(
            self.user[mask],
            self.item[mask],
            self.timestamp[mask],
            self.weight[mask],
            self.user_ids,
            self.item_ids,
        )

    def matrix(self) -> sp.csr_matrix:
        """User × item weights; repeated events of a pair keep the largest weight."""
        shape = (len(self.user_ids), len(self.item_ids))
        coo = sp.coo_matrix((self.weight.astype(np.float32), (self.user, self.item)), shape=shape)
        order = np.lexsort((-coo.data, coo.col, coo.row))
        rows, cols, data = coo.row[order], coo.col[order], coo.data[order]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        return sp.csr_matrix((data[first], (rows[first], cols[first])), shape=shape, dtype=np.float32)


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise TrainingError(f"{what} is missing required column(s) {', '.join(missing)}")


def weighted_events(
    interactions: pd.DataFrame, rules: EventRules, *, extra_items: pd.Series | None
) -> Events:
    """Filter interactions by the solution's event rules and encode them.

    Items are numbered by descending popularity (weighted events, ties by id), followed by the items that
    only appear in ``extra_items`` (the Items dataset), so index order doubles as a popularity tie-break.
    """
    _require_columns(interactions, ("USER_ID", "ITEM_ID", "TIMESTAMP"), "Interactions data")
    frame = interactions
    for column in ("USER_ID", "ITEM_ID", "TIMESTAMP"):
        nulls = int(frame[column].isna().sum())
        if nulls:
            raise TrainingError(f"Interactions column {column} has {nulls} empty value(s)")
    weight = np.ones(len(frame), dtype=np.float64)
    keep = np.ones(len(frame), dtype=bool)
    needs_type = rules.event_type is not None or bool(rules.per_type)
    if needs_type and "EVENT_TYPE" not in frame.columns:
        raise TrainingError(
            "The solution selects events by type but the Interactions data has no EVENT_TYPE column"
        )
    needs_value = rules.value_threshold is not None or any(t is not None for t, _ in rules.per_type.values())
    if needs_value and "EVENT_VALUE" not in frame.columns:
        raise TrainingError(
            "The solution sets an eventValueThreshold but the Interactions data has no EVENT_VALUE column"
        )
    event_type = frame["EVENT_TYPE"].astype(str).to_numpy() if needs_type else None
    value = frame["EVENT_VALUE"].to_numpy(dtype=np.float64, na_value=np.nan) if needs_value else None
    if rules.event_type is not None:
        keep &= event_type == rules.event_type
    if rules.value_threshold is not None:
        keep &= value >= rules.value_threshold
    if rules.per_type:
        listed = np.zeros(len(frame), dtype=bool)
        for name, (threshold, type_weight) in rules.per_type.items():
            is_type = event_type == name
            if threshold is not None:
                is_type &= value >= threshold
            listed |= is_type
            weight[is_type] = type_weight
        keep &= listed & (weight > 0)
    frame = frame.loc[keep]
    weight = weight[keep]
    timestamps = frame["TIMESTAMP"].to_numpy(dtype=np.int64)
    user_ids, user_codes = _sorted_codes(frame["USER_ID"])
    warm_ids, warm_codes = _sorted_codes(frame["ITEM_ID"])
    popularity = np.bincount(warm_codes, weights=weight, minlength=len(warm_ids))
    by_popularity = np.lexsort((warm_ids, -popularity))
    rank = np.empty_like(by_popularity)
    rank[by_popularity] = np.arange(len(by_popularity))
    item_ids = warm_ids[by_popularity]
    if extra_items is not None:
        cold = np.setdiff1d(extra_items.to_numpy(dtype=str), item_ids)
        item_ids = np.concatenate([item_ids, np.sort(cold)])
    order = np.lexsort((np.arange(len(user_codes)), timestamps, user_codes))
    return Events(
        user=user_codes[order].astype(np.int32),
        item=rank[warm_codes][order].astype(np.int32),
        timestamp=timestamps[order],
        weight=weight[order],
        user_ids=user_ids,
        item_ids=item_ids,
    )


def _sorted_codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Distinct ids as a sorted str array, and each row's position in it (hash-based: fast on 1M rows)."""
    codes, uniques = pd.factorize(column.astype(str), sort=False)
    ids = np.asarray(uniques, dtype=str)
    order = np.argsort(ids, kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    return ids[order], position[codes]


def check_minimums(events: Events) -> None:
    """Personalize's floor for training (:mod:`personalize_local.limits`), after the event filters."""
    if len(events) < MIN_INTERACTIONS:
        raise TrainingError(
            f"Insufficient data: {len(events)} interactions after filtering; training needs at least "
            f"{MIN_INTERACTIONS}"
        )
    per_user = np.bincount(events.user, minlength=len(events.user_ids))
    with_two = int((per_user >= 2).sum())
    if with_two < MIN_USERS_WITH_TWO:
        raise TrainingError(
            f"Insufficient data: {with_two} users with at least 2 interactions; training needs at least "
            f"{MIN_USERS_WITH_TWO}"
        )


def holdout_split(
    events: Events, *, fraction: float = HOLDOUT_FRACTION
) -> tuple[np.ndarray, dict[int, set[int]]]:
    """Hold out each user's most recent interactions (``fraction`` of them, at least one).

    Users with a single interaction keep it for training. Returns the training mask over ``events`` and,
    per user code, the held-out item codes the user had not already interacted with in training.
    """
    counts = np.bincount(events.user, minlength=len(events.user_ids))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.arange(len(events)) - starts[events.user]
    n = counts[events.user]
    held = np.where(n >= 2, np.maximum(1, np.floor(n * fraction).astype(np.int64)), 0)
    train_mask = position < n - held
    keys = events.user.astype(np.int64) * len(events.item_ids) + events.item
    new = ~train_mask & ~np.isin(keys, keys[train_mask])
    relevant: dict[int, set[int]] = {}
    for user, item in zip(events.user[new].tolist(), events.item[new].tolist(), strict=True):
        relevant.setdefault(user, set()).add(item)
    return train_mask, relevant
