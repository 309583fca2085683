"""Training input rules: Personalize's minimums, event filters and weights, recipes, metadata, progress."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from personalize_local.training import RECIPES, TrainingData, TrainingError, load_model, train

from .conftest import movielens_items

SMALL_EASE = {"algorithmHyperParameters": {"ease_max_items": 1000}}


def _items(recommendations):
    return [item for item, _ in recommendations]


def _frame(users, items, timestamps=None):
    return pd.DataFrame(
        {
            "USER_ID": [str(u) for u in users],
            "ITEM_ID": [str(i) for i in items],
            "TIMESTAMP": np.asarray(
                timestamps if timestamps is not None else np.arange(len(users)), dtype=np.int64
            ),
        }
    )


def _clusters(per_user: int = 20, users_per_cluster: int = 30) -> pd.DataFrame:
    """Users u0..u29 interact only with items a*, users u30..u59 only with items b*."""
    rng = np.random.default_rng(3)
    users, items = [], []
    for user in range(2 * users_per_cluster):
        prefix = "a" if user < users_per_cluster else "b"
        for item in rng.choice(30, size=per_user, replace=False):
            users.append(f"u{user}")
            items.append(f"{prefix}{item}")
    return _frame(users, items)


def test_fewer_than_1000_interactions_is_a_training_error():
    frame = _frame([i % 50 for i in range(999)], [i % 70 for i in range(999)])
    with pytest.raises(TrainingError, match="999 interactions.*at least 1000") as raised:
        train(recipe="aws-user-personalization-v2", data=TrainingData(interactions=frame))
    assert "1000" in raised.value.reason


def test_fewer_than_25_users_with_two_interactions_is_a_training_error():
    users = [f"heavy{i % 20}" for i in range(900)] + [f"once{i}" for i in range(200)]
    frame = _frame(users, [i % 90 for i in range(1100)])
    with pytest.raises(TrainingError, match="20 users with at least 2 interactions.*at least 25"):
        train(recipe="aws-popularity-count", data=TrainingData(interactions=frame))


def test_bad_input_errors_name_the_column_or_recipe(interactions):
    with pytest.raises(TrainingError, match="TIMESTAMP"):
        train(recipe="aws-sims", data=TrainingData(interactions=interactions.drop(columns="TIMESTAMP")))
    with pytest.raises(TrainingError, match="EVENT_TYPE"):
        train(
            recipe="aws-sims",
            data=TrainingData(interactions=interactions.drop(columns="EVENT_TYPE")),
            event_type="purchase",
        )
    with pytest.raises(TrainingError, match="aws-nope"):
        train(recipe="aws-nope", data=TrainingData(interactions=interactions))
    with pytest.raises(TrainingError, match="eventValueThreshold"):
        train(
            recipe="aws-sims",
            data=TrainingData(interactions=interactions),
            params={"eventValueThreshold": "x"},
        )


def test_recipes_map_to_their_types():
    assert RECIPES["aws-user-personalization-v2"] == "USER_PERSONALIZATION"
    assert RECIPES["aws-popularity-count"] == "POPULAR_ITEMS"
    assert RECIPES["aws-sims"] == RECIPES["aws-similar-items"] == "RELATED_ITEMS"
    assert RECIPES["aws-personalized-ranking-v2"] == "PERSONALIZED_RANKING"
    assert RECIPES["aws-trending-now"] == "POPULAR_ITEMS"
    assert RECIPES["aws-item-affinity"] == RECIPES["aws-item-attribute-affinity"] == "USER_SEGMENTATION"
    assert RECIPES["aws-vod-top-picks"] == RECIPES["aws-ecomm-recommended-for-you"] == "USER_PERSONALIZATION"
    assert RECIPES["aws-vod-most-popular"] == RECIPES["aws-ecomm-popular-items-by-views"] == "POPULAR_ITEMS"
    assert RECIPES["aws-ecomm-frequently-bought-together"] == "RELATED_ITEMS"
    assert len(RECIPES) == 20


def test_event_value_threshold_trains_only_on_strong_events(interactions):
    model = train(
        recipe="aws-user-personalization-v2",
        data=TrainingData(interactions=interactions),
        params={"eventValueThreshold": "4.0", **SMALL_EASE},
    )
    user = interactions[interactions["USER_ID"] == "1"]
    assert model.seen_items("1") == set(user.loc[user["EVENT_VALUE"] >= 4.0, "ITEM_ID"])
    assert model.seen_items("1") < set(user["ITEM_ID"])


def test_solution_event_type_keeps_only_that_type(interactions):
    typed = interactions.assign(EVENT_TYPE=np.where(interactions["EVENT_VALUE"] >= 4.5, "purchase", "click"))
    model = train(recipe="aws-sims", data=TrainingData(interactions=typed), event_type="purchase")
    user = typed[typed["USER_ID"] == "1"]
    assert model.seen_items("1") == set(user.loc[user["EVENT_TYPE"] == "purchase", "ITEM_ID"])


def test_event_type_weights_change_the_model(interactions):
    typed = interactions.assign(EVENT_TYPE=np.where(interactions["EVENT_VALUE"] >= 4.0, "love", "meh"))

    def trained(love: float, meh: float):
        config = {
            "eventParametersList": [
                {"eventType": "love", "weight": love},
                {"eventType": "meh", "weight": meh},
            ]
        }
        return train(
            recipe="aws-user-personalization-v2",
            data=TrainingData(interactions=typed),
            params={"eventsConfig": config, **SMALL_EASE},
        )

    loves, mehs = trained(1.0, 0.05), trained(0.05, 1.0)
    assert loves.seen_items("1") == mehs.seen_items("1")
    assert _items(loves.recommend("1", 10)) != _items(mehs.recommend("1", 10))
    unlisted = train(
        recipe="aws-sims",
        data=TrainingData(interactions=typed),
        params={"eventsConfig": {"eventParametersList": [{"eventType": "love"}]}},
    )
    user = typed[typed["USER_ID"] == "1"]
    assert unlisted.seen_items("1") == set(user.loc[user["EVENT_TYPE"] == "love", "ITEM_ID"])


def test_progress_reports_each_phase(interactions):
    messages: list[str] = []
    train(
        recipe="aws-user-personalization-v2",
        data=TrainingData(interactions=interactions),
        params=SMALL_EASE,
        progress=messages.append,
    )
    text = "\n".join(messages)
    for phase in ("44924 interactions", "holding out", "EASE", "metrics:", "final model", "done in"):
        assert phase in text


def test_sims_relates_items_watched_together(interactions, sims_model):
    related = _items(sims_model.related("4993", 10))  # The Fellowship of the Ring
    assert related[:2] == ["5952", "7153"] or related[:2] == ["7153", "5952"]  # the two sequels
    assert "4993" not in related
    popular = interactions.groupby("ITEM_ID").size().sort_values(ascending=False).index[:3].tolist()
    assert _items(sims_model.related("no-such-item", 3)) == popular
    assert "5952" not in _items(sims_model.related("4993", 10, exclude_items=frozenset({"5952"})))


def test_similar_items_uses_genres_for_items_nobody_watched_yet(interactions, sims_model):
    items = pd.concat(
        [movielens_items(), pd.DataFrame({"ITEM_ID": ["new-cartoon"], "GENRES": ["Animation|Children"]})]
    )
    genres = dict(zip(items["ITEM_ID"], items["GENRES"], strict=True))
    model = train(recipe="aws-similar-items", data=TrainingData(interactions=interactions, items=items))
    related = _items(model.related("new-cartoon", 10))
    assert all("Animation" in genres[item] or "Children" in genres[item] for item in related)
    # aws-sims has no metadata to go on: it falls back to popular items, like Personalize
    assert _items(sims_model.related("new-cartoon", 10)) == _items(sims_model.related("no-such-item", 10))


def test_v2_scores_cold_items_from_their_metadata():
    interactions = _clusters()
    items = pd.DataFrame(
        {
            "ITEM_ID": [f"a{i}" for i in range(30)] + [f"b{i}" for i in range(30)] + ["a-new", "b-new"],
            "GENRE": ["alpha"] * 30 + ["beta"] * 30 + ["alpha", "beta"],
        }
    )
    model = train(
        recipe="aws-user-personalization-v2", data=TrainingData(interactions=interactions, items=items)
    )
    assert _items(model.rank("u0", ["b-new", "a-new"])) == ["a-new", "b-new"]
    assert _items(model.rank("u45", ["a-new", "b-new"])) == ["b-new", "a-new"]
    assert _items(model.recommend("u1", 1, allowed_items={"a-new", "b-new"})) == ["a-new"]


def test_users_without_interactions_get_what_their_segment_likes():
    interactions = _clusters()
    users = pd.DataFrame(
        {
            "USER_ID": [f"u{i}" for i in range(60)] + ["new-alpha", "new-beta"],
            "SEGMENT": ["alpha"] * 30 + ["beta"] * 30 + ["alpha", "beta"],
        }
    )
    model = train(
        recipe="aws-user-personalization-v2", data=TrainingData(interactions=interactions, users=users)
    )
    assert all(item.startswith("a") for item in _items(model.recommend("new-alpha", 10)))
    assert all(item.startswith("b") for item in _items(model.recommend("new-beta", 10)))
    anonymous = _items(model.recommend("anonymous", 30))
    assert {item[0] for item in anonymous} == {"a", "b"}


def test_popularity_count_recommends_popular_unseen_items(interactions):
    model = train(recipe="aws-popularity-count", data=TrainingData(interactions=interactions))
    counts = interactions.groupby("ITEM_ID").size().reset_index(name="n")
    ordered = counts.sort_values(["n", "ITEM_ID"], ascending=[False, True])["ITEM_ID"].tolist()
    seen = model.seen_items("1")
    assert _items(model.recommend("1", 10)) == [item for item in ordered if item not in seen][:10]


def test_a_model_with_metadata_parts_survives_save_and_load(tmp_path):
    interactions = _clusters()
    items = pd.DataFrame(
        {"ITEM_ID": ["a0", "b0", "a-new", "b-new"], "GENRE": ["alpha", "beta", "alpha", "beta"]}
    )
    users = pd.DataFrame({"USER_ID": ["u0", "u45", "new-alpha"], "SEGMENT": ["alpha", "beta", "alpha"]})
    model = train(
        recipe="aws-user-personalization-v2",
        data=TrainingData(interactions=interactions, items=items, users=users),
    )
    model.save(tmp_path)
    loaded = load_model(tmp_path)
    assert loaded.rank("u0", ["b-new", "a-new"]) == model.rank("u0", ["b-new", "a-new"])
    assert loaded.recommend("new-alpha", 10) == model.recommend("new-alpha", 10)
    assert loaded.recipe == "aws-user-personalization-v2"


def test_loading_from_an_empty_directory_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        load_model(tmp_path)
