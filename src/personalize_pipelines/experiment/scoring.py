"""Each trained model of the experiment scored on the shared holdout, with 95% bootstrap intervals.

The metrics are the train DAG's (:func:`personalize_pipelines.evaluation.evaluate`, one definition in
:mod:`personalize_metrics`); the intervals resample the holdout users with replacement, so two variants
whose intervals overlap are not told apart by this holdout.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence, Set
from typing import Any

import numpy as np

import personalize_metrics
from personalize_pipelines.evaluation import DEFAULT_KS, evaluate

REPORTED = ("ndcg_at_10", "precision_at_10", "recall_at_10", "coverage")
"""The report's metrics: NDCG, precision and recall at 10, and catalog coverage (at the largest k)."""
PER_USER = {
    "ndcg_at_10": personalize_metrics.ndcg_at_k,
    "precision_at_10": personalize_metrics.precision_at_k,
    "recall_at_10": personalize_metrics.recall_at_k,
}
CONFIDENCE = 0.95


def bootstrap_intervals(
    recommendations: Mapping[str, Sequence[str]],
    relevant: Mapping[str, Set[str]],
    *,
    catalog: Collection[str],
    samples: int,
    seed: int = 0,
) -> dict[str, list[float]]:
    """Each reported metric's 95% percentile interval over ``samples`` resamples of the scored users
    (those with relevant items; a user without recommendations scores 0, as in :func:`evaluate`)."""
    users = sorted(user for user, items in relevant.items() if items)
    if not users:
        return {metric: [0.0, 0.0] for metric in REPORTED}
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(users), size=(samples, len(users)))
    low, high = 100 * (1 - CONFIDENCE) / 2, 100 * (1 + CONFIDENCE) / 2
    intervals = {}
    for metric, score in PER_USER.items():
        values = np.array([score(recommendations.get(u, ()), relevant[u], 10) for u in users])
        means = values[picks].mean(axis=1)
        intervals[metric] = [float(np.percentile(means, low)), float(np.percentile(means, high))]
    known = {item: index for index, item in enumerate(sorted(set(catalog)))}
    depth = max(DEFAULT_KS)
    shown = np.full((len(users), depth), -1)
    for row, user in enumerate(users):
        indices = [known[item] for item in recommendations.get(user, ())[:depth] if item in known]
        shown[row, : len(indices)] = indices
    counts = np.array([np.unique(shown[pick]).size - (shown[pick] < 0).any() for pick in picks])
    coverage = counts / max(1, len(known))
    # a resample repeats users, so it shows fewer distinct items than the whole sample: centre the spread
    # on the sample's own coverage, or the interval would sit below it
    whole = personalize_metrics.coverage([recommendations.get(u, ()) for u in users], catalog=known, k=depth)
    shift = whole - float(coverage.mean())
    lowest, highest = (float(np.percentile(coverage, q)) + shift for q in (low, high))
    intervals["coverage"] = [min(lowest, whole), max(highest, whole)]
    return intervals


def score(
    recommendations: Mapping[str, Sequence[str]],
    relevant: Mapping[str, Set[str]],
    *,
    catalog: Collection[str],
    samples: int,
    seed: int = 0,
) -> dict[str, Any]:
    """One model's reported metrics, their intervals, and how many users were scored and missing."""
    metrics = evaluate(recommendations, relevant, catalog=catalog)
    return {
        "metrics": {metric: metrics[metric] for metric in REPORTED},
        "intervals": bootstrap_intervals(
            recommendations, relevant, catalog=catalog, samples=samples, seed=seed
        ),
        "users_evaluated": metrics["users_evaluated"],
        "users_missing": metrics["users_missing"],
    }
