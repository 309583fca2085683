"""Ranking metrics for recommendations: NDCG@k, precision@k, recall@k, MRR@k and catalog coverage.

One implementation shared by the local endpoint (GetSolutionMetrics) and the pipeline's holdout
evaluation. Relevance is binary: an item is relevant to a user when it is in the user's held-out set.

Definitions (as Amazon Personalize documents them):

- ``precision@k`` — relevant items among the top ``k`` recommendations, divided by ``k`` (not by the
  length of a shorter list: a model that returns fewer items is not rewarded for it).
- ``recall@k`` — relevant items among the top ``k``, divided by the number of relevant items.
- ``ndcg@k`` — DCG of the top ``k`` (a hit at 1-based rank ``r`` adds ``1 / log2(r + 1)``) divided by the
  DCG of an ideal list that puts ``min(k, |relevant|)`` hits first.
- ``mrr@k`` — ``1 / rank`` of the first relevant item in the top ``k``; 0 when there is none.
- ``coverage`` — distinct catalog items appearing in anyone's top ``k`` (the largest ``k`` evaluated),
  divided by the catalog size.

Averages are over the users that have at least one relevant item; a user with relevant items but no
recommendations scores 0. Users without relevant items cannot be scored and are left out; when no user
has any, every accuracy metric is 0.0.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence, Set

import numpy as np

PERSONALIZE_KS = (5, 10, 25)
PERSONALIZE_MRR_K = 25

_DISCOUNTS = 1.0 / np.log2(np.arange(2, 2 + 1024, dtype=np.float64))


def _discounts(n: int) -> np.ndarray:
    if n <= len(_DISCOUNTS):
        return _DISCOUNTS[:n]
    return 1.0 / np.log2(np.arange(2, 2 + n, dtype=np.float64))


def _hits(recommended: Sequence[str], relevant: Set[str], k: int) -> np.ndarray:
    _check_k(k)
    return np.fromiter((item in relevant for item in recommended[:k]), dtype=bool)


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")


def precision_at_k(recommended: Sequence[str], relevant: Set[str], k: int) -> float:
    """Relevant items among the first ``k`` recommended, divided by ``k``."""
    return float(_hits(recommended, relevant, k).sum()) / k


def recall_at_k(recommended: Sequence[str], relevant: Set[str], k: int) -> float:
    """Relevant items among the first ``k`` recommended, divided by the number of relevant items."""
    if not relevant:
        return 0.0
    return float(_hits(recommended, relevant, k).sum()) / len(relevant)


def ndcg_at_k(recommended: Sequence[str], relevant: Set[str], k: int) -> float:
    """Normalized discounted cumulative gain of the first ``k`` recommended, binary relevance."""
    hits = _hits(recommended, relevant, k)
    ideal = _discounts(min(k, len(relevant))).sum()
    if ideal == 0.0:
        return 0.0
    return float(_discounts(len(hits))[hits].sum() / ideal)


def reciprocal_rank_at_k(recommended: Sequence[str], relevant: Set[str], k: int) -> float:
    """``1 / rank`` of the first relevant item among the first ``k`` recommended; 0 when none is."""
    hits = _hits(recommended, relevant, k)
    positions = np.flatnonzero(hits)
    return 0.0 if positions.size == 0 else 1.0 / float(positions[0] + 1)


def coverage(recommendations: Iterable[Sequence[str]], *, catalog: Collection[str], k: int) -> float:
    """Share of the catalog that appears in at least one user's first ``k`` recommendations."""
    _check_k(k)
    if not catalog:
        return 0.0
    catalog_set = catalog if isinstance(catalog, Set) else set(catalog)
    shown = {item for recommended in recommendations for item in recommended[:k]}
    return len(shown & catalog_set) / len(catalog_set)


def _mean_over_users(
    recommendations: Mapping[str, Sequence[str]],
    relevant: Mapping[str, Set[str]],
    metric,
    k: int,
) -> float:
    values = [metric(recommendations.get(user, ()), items, k) for user, items in relevant.items() if items]
    return float(np.mean(values)) if values else 0.0


def ranking_metrics(
    recommendations: Mapping[str, Sequence[str]],
    relevant: Mapping[str, Set[str]],
    *,
    catalog: Collection[str],
    ks: Sequence[int] = PERSONALIZE_KS,
) -> dict[str, float]:
    """Every metric at every ``k``, under plain names.

    :param recommendations: user id → recommended item ids, best first.
    :param relevant: user id → the items that user actually interacted with in the evaluation period.
    :param catalog: every item the model could have recommended (denominator of coverage).
    :param ks: cut-offs; coverage uses the largest.
    :return: ``ndcg_at_{k}``, ``precision_at_{k}``, ``recall_at_{k}``, ``mrr_at_{k}`` for each ``k``, plus
        ``coverage`` and ``users_evaluated`` (users with at least one relevant item).
    """
    if not ks:
        raise ValueError("ks must name at least one cut-off")
    result: dict[str, float] = {}
    for k in ks:
        result[f"ndcg_at_{k}"] = _mean_over_users(recommendations, relevant, ndcg_at_k, k)
        result[f"precision_at_{k}"] = _mean_over_users(recommendations, relevant, precision_at_k, k)
        result[f"recall_at_{k}"] = _mean_over_users(recommendations, relevant, recall_at_k, k)
        result[f"mrr_at_{k}"] = _mean_over_users(recommendations, relevant, reciprocal_rank_at_k, k)
    result["coverage"] = coverage(recommendations.values(), catalog=catalog, k=max(ks))
    result["users_evaluated"] = sum(1 for items in relevant.values() if items)
    return result


def personalize_metrics(
    recommendations: Mapping[str, Sequence[str]],
    relevant: Mapping[str, Set[str]],
    *,
    catalog: Collection[str],
) -> dict[str, float]:
    """The metrics GetSolutionMetrics reports, under Amazon Personalize's names.

    Keys: ``coverage``, ``mean_reciprocal_rank_at_25``, ``normalized_discounted_cumulative_gain_at_{5,10,25}``,
    ``precision_at_{5,10,25}``.
    """
    plain = ranking_metrics(recommendations, relevant, catalog=catalog, ks=PERSONALIZE_KS)
    result = {
        "coverage": plain["coverage"],
        "mean_reciprocal_rank_at_25": plain[f"mrr_at_{PERSONALIZE_MRR_K}"],
    }
    for k in PERSONALIZE_KS:
        result[f"normalized_discounted_cumulative_gain_at_{k}"] = plain[f"ndcg_at_{k}"]
    for k in PERSONALIZE_KS:
        result[f"precision_at_{k}"] = plain[f"precision_at_{k}"]
    return result
