"""Recommendation quality on real MovieLens data: personalization must clearly beat popularity."""

from __future__ import annotations

import pytest

from personalize_local.training import TrainingData, train
from personalize_metrics import ranking_metrics

from .conftest import split_latest

PERSONALIZE_METRIC_NAMES = {
    "coverage",
    "mean_reciprocal_rank_at_25",
    "normalized_discounted_cumulative_gain_at_5",
    "normalized_discounted_cumulative_gain_at_10",
    "normalized_discounted_cumulative_gain_at_25",
    "precision_at_5",
    "precision_at_10",
    "precision_at_25",
}


@pytest.fixture(scope="module")
def holdout_ndcg(interactions):
    """NDCG@10 of each recipe through ``recommend``, trained without each user's latest 10%."""
    training, held_out = split_latest(interactions)
    relevant = held_out.groupby("USER_ID")["ITEM_ID"].agg(set).to_dict()
    results = {}
    for recipe in ("aws-popularity-count", "aws-user-personalization-v2"):
        model = train(recipe=recipe, data=TrainingData(interactions=training))
        recommendations = {user: [item for item, _ in model.recommend(user, 10)] for user in relevant}
        catalog = set(interactions["ITEM_ID"])
        results[recipe] = ranking_metrics(recommendations, relevant, catalog=catalog, ks=(10,))["ndcg_at_10"]
    return results


def test_user_personalization_beats_popularity_by_30_percent_through_recommend(holdout_ndcg):
    popularity = holdout_ndcg["aws-popularity-count"]
    personalized = holdout_ndcg["aws-user-personalization-v2"]
    assert popularity > 0.02, "popularity should find some held-out movies"
    assert personalized >= 1.3 * popularity, f"NDCG@10 {personalized:.4f} vs popularity {popularity:.4f}"


def test_solution_metrics_use_personalize_names_and_show_the_lift(interactions, personalization_model):
    popularity = train(recipe="aws-popularity-count", data=TrainingData(interactions=interactions))
    assert set(personalization_model.metrics) == PERSONALIZE_METRIC_NAMES
    assert all(0.0 <= value <= 1.0 for value in personalization_model.metrics.values())
    ndcg = "normalized_discounted_cumulative_gain_at_10"
    assert personalization_model.metrics[ndcg] >= 1.3 * popularity.metrics[ndcg]
    assert personalization_model.metrics["coverage"] > popularity.metrics["coverage"]
    assert personalization_model.training_seconds > 0
