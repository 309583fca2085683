"""A trained solution version: scores users and items, takes real-time events, saves and loads itself.

Every recipe scores a user the same way: the user's weighted interaction history ``x`` (training events
plus events observed since) times a sparse item × item matrix — pruned EASE weights, item-item
similarity or basket co-occurrence — or, for popularity-count, the popularity vector. Users without
history get popular items (per user-metadata segment when the Users dataset describes them). Scores are
returned softmax-normalised over the candidate items, like Personalize's relative scores.

Two recipes serve differently. Trending-Now (:meth:`TrainedModel.trending`) ranks the items of the dataset
group's current interactions by :func:`algorithms.trending`, recomputed when the interactions reach a new
interval. The affinity recipes (:meth:`TrainedModel.segment`) turn the EASE scores around: every user's
score for the queried items, best users first.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from personalize_local.recipes import MAX_TREND_REFRESH_SECONDS

from . import algorithms
from .data import EventRules, weighted_events

if TYPE_CHECKING:
    import pandas as pd

FORMAT_VERSION = 2
_ARRAYS = "model.npz"
_META = "model.json"
_SPARSE_PARTS = ("data", "indices", "indptr", "shape")


class TrainedModel:
    """A solution version's model. Build with :func:`personalize_local.training.train` or :func:`load_model`."""

    def __init__(
        self,
        *,
        recipe: str,
        item_ids: np.ndarray,
        user_ids: np.ndarray,
        history: sp.csr_matrix,
        popularity: np.ndarray,
        weights: sp.csr_matrix | None = None,
        cold_links: sp.csr_matrix | None = None,
        cold_item_weight: float = 0.0,
        meta_user_ids: np.ndarray | None = None,
        user_features: sp.csr_matrix | None = None,
        segment_popularity: sp.csr_matrix | None = None,
        metrics: dict[str, float] | None = None,
        training_seconds: float = 0.0,
        observed: dict[str, dict[str, float]] | None = None,
        trend: np.ndarray | None = None,
        trend_seconds: float = 0.0,
        event_rules: EventRules | None = None,
    ) -> None:
        self.recipe = recipe
        self.metrics: dict[str, float] = dict(metrics or {})
        self.training_seconds = float(training_seconds)
        self._item_ids = item_ids
        self._user_ids = user_ids
        self._item_index = {item: index for index, item in enumerate(item_ids.tolist())}
        self._user_index = {user: index for index, user in enumerate(user_ids.tolist())}
        self._history = history
        self._popularity = popularity
        total = popularity.sum()
        self._popular = (
            popularity / total if total > 0 else np.full(len(item_ids), 1.0 / max(len(item_ids), 1))
        )
        self._weights = weights
        self._cold_links = cold_links
        self._cold_item_weight = cold_item_weight
        self._meta_user_ids = meta_user_ids if meta_user_ids is not None else np.array([], dtype=str)
        self._meta_user_index = {user: index for index, user in enumerate(self._meta_user_ids.tolist())}
        self._user_features = user_features
        self._segment_popularity = segment_popularity
        self._observed: dict[str, dict[str, float]] = {u: dict(v) for u, v in (observed or {}).items()}
        self._trend = trend
        self._trend_seconds = float(trend_seconds)
        self._event_rules = event_rules or EventRules()
        self._trend_ranking: tuple[float, np.ndarray, np.ndarray] | None = None
        self._lock = threading.Lock()

    # ---- serving -------------------------------------------------------------------------------------

    def recommend(
        self,
        user_id: str,
        num_results: int,
        *,
        exclude_items: frozenset[str] = frozenset(),
        allowed_items: Iterable[str] | None = None,
        leave_out_history: bool = True,
    ) -> list[tuple[str, float]]:
        """Top ``num_results`` items for a user, leaving out what the user already interacted with.

        :param exclude_items: further items to leave out (an EXCLUDE filter's result).
        :param allowed_items: when given, only these items may be recommended (an INCLUDE filter's result).
        :param leave_out_history: False keeps the user's own items eligible (a recommender leaves out only
            those of its use case's event type, through ``exclude_items``).
        """
        indices, weights, seen = self._user_history(user_id)
        scores = self._score(self._row(indices, weights), [user_id])[0]
        left_out = seen if leave_out_history else set()
        banned = np.array(sorted(left_out | self._indices(exclude_items)), dtype=np.int64)
        return self._top(scores, num_results, banned=banned, allowed=allowed_items)

    def related(
        self,
        item_id: str,
        num_results: int,
        *,
        exclude_items: frozenset[str] = frozenset(),
        allowed_items: Iterable[str] | None = None,
    ) -> list[tuple[str, float]]:
        """Items related to ``item_id``; popular items when the item is unknown or has no neighbours."""
        index = self._item_index.get(item_id)
        scores = np.zeros(len(self._item_ids))
        if index is not None and self._weights is not None:
            row = self._weights[index]
            scores[row.indices] = row.data
        if not np.any(scores > 0):
            scores = self._popular.copy()
        banned = self._indices(exclude_items)
        if index is not None:
            banned.add(index)
        return self._top(
            scores, num_results, banned=np.array(sorted(banned), dtype=np.int64), allowed=allowed_items
        )

    def rank(self, user_id: str, item_ids: Sequence[str]) -> list[tuple[str, float]]:
        """``item_ids`` reordered for the user, best first; items the model does not know go last, score 0."""
        indices, weights, _ = self._user_history(user_id)
        scores = self._score(self._row(indices, weights), [user_id])[0]
        known = [(position, item) for position, item in enumerate(item_ids) if item in self._item_index]
        unknown = [item for item in item_ids if item not in self._item_index]
        raw = np.array([scores[self._item_index[item]] for _, item in known], dtype=np.float64)
        order = np.lexsort((np.array([p for p, _ in known], dtype=np.int64), -raw)) if known else []
        probabilities = _softmax(raw)
        ranked = [(known[i][1], round(float(probabilities[i]), 7)) for i in order]
        return ranked + [(item, 0.0) for item in unknown]

    def trending(
        self,
        num_results: int,
        *,
        latest: float,
        interactions: Callable[[], pd.DataFrame | None],
        exclude_items: frozenset[str] = frozenset(),
        allowed_items: Iterable[str] | None = None,
    ) -> list[tuple[str, float]]:
        """Trending-Now: the items of ``interactions`` whose interactions grow fastest, best first.

        Evaluated at the latest interval boundary at or before ``latest`` (the newest TIMESTAMP of the
        dataset group's interactions), refreshed every trend discovery interval (at most every 2 hours),
        so ``interactions`` (the group's Interactions frame, bulk and real-time) is read at most once per
        interval. Without interactions in the last two intervals it ranks by popularity.

        :param latest: the newest TIMESTAMP of the interactions, cheap for the caller to keep.
        :param interactions: the group's interactions, read only when a new interval is evaluated.
        """
        refresh = min(self._trend_seconds, MAX_TREND_REFRESH_SECONDS)
        end = math.floor(latest / refresh) * refresh
        with self._lock:
            ranking = self._trend_ranking
        if ranking is None or ranking[0] != end:
            ranking = (end, *self._rank_trends(interactions(), end))
            with self._lock:
                self._trend_ranking = ranking
        _, item_ids, scores = ranking
        allowed = None if allowed_items is None else set(allowed_items)
        if not exclude_items and allowed is None:
            chosen = list(range(min(num_results, len(item_ids))))
        else:
            chosen = [
                position
                for position, item in enumerate(item_ids.tolist())
                if item not in exclude_items and (allowed is None or item in allowed)
            ][:num_results]
        probabilities = _softmax(scores[chosen], reference=scores)
        return [
            (item, round(float(p), 7))
            for item, p in zip(item_ids[chosen].tolist(), probabilities, strict=True)
        ]

    def _rank_trends(self, frame: pd.DataFrame | None, end: float) -> tuple[np.ndarray, np.ndarray]:
        """Every item of ``frame`` (after the solution's event filters), by trend at ``end``."""
        if frame is None or frame.empty:
            return np.array([], dtype=str), np.array([], dtype=np.float64)
        events = weighted_events(frame, self._event_rules, extra_items=None)
        counts = np.bincount(events.item, minlength=len(events.item_ids)).astype(np.float64)
        scores = algorithms.trending(
            events.item, events.timestamp, len(events.item_ids), end=end, interval=self._trend_seconds
        )
        if scores is None:
            scores = counts / max(counts.sum(), 1.0)
        order = np.lexsort((np.arange(len(scores)), -scores))
        return events.item_ids[order], scores[order]

    def segment(
        self,
        item_ids: Sequence[str],
        num_results: int,
        *,
        leave_out_consumers: bool,
        exclude_users: frozenset[str] = frozenset(),
        allowed_users: Iterable[str] | None = None,
    ) -> list[tuple[str, float]]:
        """Item affinity: the users most likely to interact with any of ``item_ids``, best first.

        A user's score is the EASE score of each queried item for the user's history, summed over the
        items (for items EASE does not cover, through their metadata-nearest covered items). With
        ``leave_out_consumers`` users who already interacted with the (single) queried item are left out:
        an item's audience is the users it has yet to reach. When the history predicts nothing for the
        items, the most active users come first.

        :param exclude_users: users to leave out (an EXCLUDE user filter's result).
        :param allowed_users: when given, only these users may be in the segment (an INCLUDE filter's).

        :raises KeyError: when the model knows none of ``item_ids``.
        """
        indices = sorted(self._indices(item_ids))
        if not indices:
            raise KeyError(", ".join(item_ids))
        query = np.zeros(len(self._item_ids), dtype=np.float32)
        query[indices] = 1.0
        if self._cold_links is not None:
            query += self._cold_item_weight * np.asarray(self._cold_links.T @ query).ravel()
        column = self._weights @ query if self._weights is not None else query
        scores = np.asarray(self._history @ column, dtype=np.float64).ravel()
        if not np.any(scores > 0):
            scores = np.asarray(self._history.sum(axis=1), dtype=np.float64).ravel()
        if leave_out_consumers:
            consumers = self._history[:, indices].tocsc()
            scores[consumers.indices] = -np.inf
        if allowed_users is not None:
            keep = np.zeros(len(scores), dtype=bool)
            keep[[self._user_index[u] for u in allowed_users if u in self._user_index]] = True
            scores[~keep] = -np.inf
        scores[[self._user_index[u] for u in exclude_users if u in self._user_index]] = -np.inf
        chosen = top_indices(scores, num_results)
        probabilities = _softmax(scores[chosen], reference=scores[np.isfinite(scores)])
        return [
            (user, round(float(p), 7))
            for user, p in zip(self._user_ids[chosen].tolist(), probabilities, strict=True)
        ]

    def observe(self, user_id: str, item_ids: Iterable[str]) -> None:
        """Record real-time interactions: they count as history in the user's next recommendations."""
        with self._lock:
            events = self._observed.setdefault(user_id, {})
            for item in item_ids:
                events[item] = max(events.get(item, 0.0), 1.0)

    def seen_items(self, user_id: str) -> frozenset[str]:
        """Every item the user interacted with, in training data or observed since."""
        indices, _, _ = self._user_history(user_id)
        with self._lock:
            observed = set(self._observed.get(user_id, ()))
        return frozenset(self._item_ids[indices].tolist()) | observed

    # ---- scoring -------------------------------------------------------------------------------------

    def _indices(self, item_ids: Iterable[str]) -> set[int]:
        return {self._item_index[item] for item in item_ids if item in self._item_index}

    def _user_history(self, user_id: str) -> tuple[np.ndarray, np.ndarray, set[int]]:
        """Known-item history of a user: (item indices, weights, indices as a set)."""
        merged: dict[int, float] = {}
        row = self._user_index.get(user_id)
        if row is not None:
            start, end = self._history.indptr[row], self._history.indptr[row + 1]
            merged = dict(
                zip(
                    self._history.indices[start:end].tolist(),
                    self._history.data[start:end].tolist(),
                    strict=True,
                )
            )
        with self._lock:
            observed = dict(self._observed.get(user_id, {}))
        for item, weight in observed.items():
            index = self._item_index.get(item)
            if index is not None:
                merged[index] = max(merged.get(index, 0.0), weight)
        indices = np.array(sorted(merged), dtype=np.int32)
        weights = np.array([merged[i] for i in indices.tolist()], dtype=np.float32)
        return indices, weights, set(merged)

    def _row(self, indices: np.ndarray, weights: np.ndarray) -> sp.csr_matrix:
        return sp.csr_matrix((weights, indices, [0, len(indices)]), shape=(1, len(self._item_ids)))

    def _score(self, histories: sp.csr_matrix, users: Sequence[str]) -> np.ndarray:
        """Raw scores (users × items) for history rows; rows with nothing to go on get popularity."""
        if self._trend is not None:
            return np.tile(self._trend.astype(np.float32), (histories.shape[0], 1))
        if self._weights is not None:
            scores = (histories @ self._weights).toarray().astype(np.float32, copy=False)
        else:
            return np.tile(self._popular.astype(np.float32), (histories.shape[0], 1))
        if self._cold_links is not None:
            scores += self._cold_item_weight * (self._cold_links @ scores.T).T
        empty = ~np.any(scores > 0, axis=1)
        for row in np.flatnonzero(empty):
            scores[row] = self._cold_user_scores(users[row])
        return scores

    def _cold_user_scores(self, user_id: str) -> np.ndarray:
        """Popular items, blended with what users sharing this user's metadata interact with."""
        row = self._meta_user_index.get(user_id)
        if row is None or self._segment_popularity is None or self._user_features is None:
            return self._popular
        features = self._user_features[row]
        if features.nnz == 0:
            return self._popular
        segments = np.asarray((features @ self._segment_popularity).todense()).ravel()
        total = segments.sum()
        if total <= 0:
            return self._popular
        return 0.5 * self._popular + 0.5 * segments / total

    def _top(
        self, scores: np.ndarray, k: int, *, banned: np.ndarray, allowed: Iterable[str] | None
    ) -> list[tuple[str, float]]:
        scores = scores.astype(np.float64, copy=True)
        if allowed is not None:
            keep = np.zeros(len(scores), dtype=bool)
            keep[np.fromiter(self._indices(allowed), dtype=np.int64)] = True
            scores[~keep] = -np.inf
        scores[banned] = -np.inf
        chosen = top_indices(scores, k)
        finite = scores[np.isfinite(scores)]
        probabilities = _softmax(scores[chosen], reference=finite)
        return [
            (item, round(float(p), 7))
            for item, p in zip(self._item_ids[chosen].tolist(), probabilities, strict=True)
        ]

    def batch_top(
        self,
        user_codes: np.ndarray,
        k: int,
        *,
        block: int = 1024,
        progress: Callable[[str], None] | None = None,
    ) -> list[np.ndarray]:
        """Top-``k`` item codes for many training users at once, seen items left out (for evaluation).

        Same scores as :meth:`recommend`; exact ties at the k-th place may resolve differently.
        """
        results: list[np.ndarray] = []
        for start in range(0, len(user_codes), block):
            codes = user_codes[start : start + block]
            histories = self._history[codes]
            scores = self._score(histories, self._user_ids[codes].tolist())
            rows, cols = histories.nonzero()
            scores[rows, cols] = -np.inf
            width = min(k, scores.shape[1])
            candidates = np.argpartition(-scores, width - 1, axis=1)[:, :width]
            candidates.sort(axis=1)
            values = np.take_along_axis(scores, candidates, axis=1)
            order = np.argsort(-values, axis=1, kind="stable")
            best = np.take_along_axis(candidates, order, axis=1)
            finite = np.isfinite(np.take_along_axis(values, order, axis=1))
            results.extend(row[keep] for row, keep in zip(best, finite, strict=True))
            if progress is not None:
                progress(f"scored {len(results)} of {len(user_codes)} users")
        return results

    # ---- persistence ---------------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        """Write the model (and events observed so far) under ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {
            "item_ids": self._item_ids,
            "user_ids": self._user_ids,
            "popularity": self._popularity,
            "meta_user_ids": self._meta_user_ids,
        }
        if self._trend is not None:
            arrays["trend"] = self._trend
        _put_sparse(arrays, "history", self._history)
        for name, matrix in (
            ("weights", self._weights),
            ("cold_links", self._cold_links),
            ("user_features", self._user_features),
            ("segment_popularity", self._segment_popularity),
        ):
            if matrix is not None:
                _put_sparse(arrays, name, matrix)
        with self._lock:
            observed = {user: dict(items) for user, items in self._observed.items()}
        meta = {
            "format": FORMAT_VERSION,
            "recipe": self.recipe,
            "metrics": self.metrics,
            "training_seconds": self.training_seconds,
            "cold_item_weight": self._cold_item_weight,
            "observed": observed,
            "trend_seconds": self._trend_seconds,
            "event_rules": asdict(self._event_rules),
        }
        temporary = directory / (_ARRAYS + ".tmp")
        with temporary.open("wb") as handle:
            np.savez(handle, **arrays)
        temporary.replace(directory / _ARRAYS)
        temporary = directory / (_META + ".tmp")
        temporary.write_text(json.dumps(meta))
        temporary.replace(directory / _META)


def load_model(directory: Path) -> TrainedModel:
    """Read a model written by :meth:`TrainedModel.save`."""
    directory = Path(directory)
    meta_path, arrays_path = directory / _META, directory / _ARRAYS
    if not meta_path.is_file() or not arrays_path.is_file():
        raise FileNotFoundError(f"No saved model in {directory} (expected {_META} and {_ARRAYS})")
    meta = json.loads(meta_path.read_text())
    if meta.get("format") != FORMAT_VERSION:
        raise ValueError(f"{meta_path}: model format {meta.get('format')!r} is not {FORMAT_VERSION}")
    with np.load(arrays_path, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    return TrainedModel(
        recipe=meta["recipe"],
        item_ids=arrays["item_ids"],
        user_ids=arrays["user_ids"],
        history=_get_sparse(arrays, "history"),
        popularity=arrays["popularity"],
        weights=_get_sparse(arrays, "weights"),
        cold_links=_get_sparse(arrays, "cold_links"),
        cold_item_weight=meta["cold_item_weight"],
        meta_user_ids=arrays["meta_user_ids"],
        user_features=_get_sparse(arrays, "user_features"),
        segment_popularity=_get_sparse(arrays, "segment_popularity"),
        metrics=meta["metrics"],
        training_seconds=meta["training_seconds"],
        observed=meta["observed"],
        trend=arrays.get("trend"),
        trend_seconds=meta.get("trend_seconds", 0.0),
        event_rules=_event_rules(meta.get("event_rules")),
    )


def _event_rules(stored: dict | None) -> EventRules | None:
    if not stored:
        return None
    per_type = {name: (threshold, weight) for name, (threshold, weight) in stored["per_type"].items()}
    return EventRules(stored["event_type"], stored["value_threshold"], per_type)


def top_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest finite scores, best first, ties broken by lower index (more popular)."""
    finite = np.isfinite(scores)
    k = min(k, int(finite.sum()))
    if k <= 0:
        return np.array([], dtype=np.int64)
    if k < len(scores):
        threshold = np.partition(scores, len(scores) - k)[len(scores) - k]
        candidates = np.flatnonzero(scores >= threshold)
    else:
        candidates = np.flatnonzero(finite)
    order = np.lexsort((candidates, -scores[candidates]))[:k]
    return candidates[order]


def _softmax(values: np.ndarray, *, reference: np.ndarray | None = None) -> np.ndarray:
    """exp((v - max) / τ) normalised over ``reference`` (default: the values), τ = the reference's spread."""
    reference = values if reference is None else reference
    if len(values) == 0 or len(reference) == 0:
        return np.zeros(len(values))
    top = reference.max()
    spread = float(reference.std()) or 1.0
    return np.exp((values - top) / spread) / np.exp((reference - top) / spread).sum()


def _put_sparse(arrays: dict[str, np.ndarray], name: str, matrix: sp.csr_matrix) -> None:
    matrix = matrix.tocsr()
    arrays[f"{name}_data"] = matrix.data
    arrays[f"{name}_indices"] = matrix.indices
    arrays[f"{name}_indptr"] = matrix.indptr
    arrays[f"{name}_shape"] = np.array(matrix.shape, dtype=np.int64)


def _get_sparse(arrays: dict[str, np.ndarray], name: str) -> sp.csr_matrix | None:
    if f"{name}_data" not in arrays:
        return None
    data, indices, indptr, shape = (arrays[f"{name}_{part}"] for part in _SPARSE_PARTS)
    return sp.csr_matrix((data, indices, indptr), shape=tuple(int(n) for n in shape))
