"""The recommender recipes' quality on MovieLens (every rating a Watch): a personalized use case must beat
the popular one, as AWS's use cases are meant to, and basket co-occurrence must find co-purchases."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from personalize_local.training import TrainingData, train
from personalize_metrics import ranking_metrics
from tests.local_endpoint.conftest import BASKET_PAIRS, baskets_csv

from .conftest import movielens_items, split_latest


@pytest.fixture(scope="module")
def vod_ndcg(interactions) -> dict[str, float]:
    """NDCG@10 of each VIDEO_ON_DEMAND recipe through ``recommend``, trained without each user's latest 10%."""
    watches = interactions.assign(EVENT_TYPE="Watch").drop(columns="EVENT_VALUE")
    training, held_out = split_latest(watches)
    relevant = held_out.groupby("USER_ID")["ITEM_ID"].agg(set).to_dict()
    items = movielens_items().assign(CREATION_TIMESTAMP=0)
    results = {}
    for recipe in ("aws-vod-most-popular", "aws-vod-top-picks"):
        model = train(recipe=recipe, data=TrainingData(interactions=training, items=items))
        recommendations = {user: [item for item, _ in model.recommend(user, 10)] for user in relevant}
        results[recipe] = ranking_metrics(
            recommendations, relevant, catalog=set(watches["ITEM_ID"]), ks=(10,)
        )["ndcg_at_10"]
    return results


def test_top_picks_beats_most_popular_by_30_percent_on_each_users_latest_tenth(vod_ndcg):
    popular, picks = vod_ndcg["aws-vod-most-popular"], vod_ndcg["aws-vod-top-picks"]
    print(f"MovieLens NDCG@10: aws-vod-top-picks {picks:.4f}, aws-vod-most-popular {popular:.4f}")
    assert popular > 0.02, "most-popular should find some held-out movies"
    assert picks >= 1.3 * popular, f"NDCG@10 {picks:.4f} vs most-popular {popular:.4f}"


def test_most_popular_counts_only_watches():
    frame = pd.DataFrame(
        {
            "USER_ID": [f"u{n % 40}" for n in range(1300)],
            "ITEM_ID": ["clicked" if n % 2 else f"w{n % 7}" for n in range(1300)],
            "TIMESTAMP": range(1300),
            "EVENT_TYPE": ["Click" if n % 2 else "Watch" for n in range(1300)],
        }
    )
    frame = pd.concat(
        [frame, frame.assign(EVENT_TYPE="Watch", ITEM_ID=lambda f: "w" + f.index.astype(str).str[-1])]
    )
    model = train(recipe="aws-vod-most-popular", data=TrainingData(interactions=frame))
    assert "clicked" not in {item for item, _ in model.recommend("someone", 20)}


def test_frequently_bought_together_puts_the_co_purchased_item_first():
    frame = pd.read_csv(io.StringIO(baskets_csv()), dtype=str).astype({"TIMESTAMP": "int64"})
    model = train(recipe="aws-ecomm-frequently-bought-together", data=TrainingData(interactions=frame))
    firsts = [model.related(f"p{pair}", 1)[0][0] for pair in range(BASKET_PAIRS)]
    assert firsts == [f"q{pair}" for pair in range(BASKET_PAIRS)]
    assert all(not item.startswith(("a", "b")) for item, _ in model.related("p0", 10))  # views never count
