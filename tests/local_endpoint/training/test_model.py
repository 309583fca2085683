"""What a caller of a trained model notices: exclusions, unknown users, real-time events, save/load."""

from __future__ import annotations

import pandas as pd

from personalize_local.training import TrainingData, load_model, train


def _items(recommendations):
    return [item for item, _ in recommendations]


def _most_rated(interactions: pd.DataFrame, n: int) -> list[str]:
    counts = interactions.groupby("ITEM_ID").size().reset_index(name="n")
    return counts.sort_values(["n", "ITEM_ID"], ascending=[False, True])["ITEM_ID"].head(n).tolist()


def test_recommend_leaves_out_what_the_user_already_rated(interactions, personalization_model):
    for user in ("1", "3", "599"):
        rated = set(interactions.loc[interactions["USER_ID"] == user, "ITEM_ID"])
        assert personalization_model.seen_items(user) == rated
        recommended = _items(personalization_model.recommend(user, 100))
        assert len(recommended) == 100
        assert not rated & set(recommended)


def test_recommendations_differ_between_users_and_scores_are_ordered(personalization_model):
    first = personalization_model.recommend("1", 25)
    second = personalization_model.recommend("3", 25)
    assert _items(first) != _items(second)
    scores = [score for _, score in first]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 < score <= 1.0 for score in scores)


def test_exclude_and_allowed_items_act_as_filters(personalization_model):
    top = _items(personalization_model.recommend("1", 10))
    without = _items(personalization_model.recommend("1", 10, exclude_items=frozenset(top[:3])))
    assert without[:7] == top[3:]
    allowed = {"1", "2", "3", "260", top[5]}
    only = _items(personalization_model.recommend("1", 10, allowed_items=allowed))
    assert set(only) <= allowed - personalization_model.seen_items("1")
    assert only[0] == top[5]


def test_unknown_user_gets_the_most_popular_items(interactions, personalization_model):
    assert _items(personalization_model.recommend("never-seen", 10)) == _most_rated(interactions, 10)


def test_observed_events_change_that_users_next_recommendations(interactions):
    model = train(
        recipe="aws-user-personalization",
        data=TrainingData(interactions=interactions),
        params={"algorithmHyperParameters": {"ease_max_items": 1500}},
    )
    before = _items(model.recommend("1", 10))
    other_user = _items(model.recommend("3", 10))
    watched = ["4993", "5952", "7153"]  # The Lord of the Rings
    model.observe("1", watched)
    after = _items(model.recommend("1", 10))
    assert after != before
    assert not set(watched) & set(after)
    assert set(watched) <= model.seen_items("1")
    assert _items(model.recommend("3", 10)) == other_user

    popular = _items(model.recommend("newcomer", 10))
    model.observe("newcomer", ["1", "3114", "2355"])  # Toy Story 1 and 2, A Bug's Life
    personal = _items(model.recommend("newcomer", 10))
    assert personal != popular
    assert model.seen_items("newcomer") == {"1", "3114", "2355"}


def test_save_and_load_round_trip(tmp_path, interactions, personalization_model):
    personalization_model.observe("saver", ["260", "1196"])
    personalization_model.save(tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    assert loaded.metrics == personalization_model.metrics
    assert loaded.training_seconds == personalization_model.training_seconds
    for user in ("1", "3", "saver", "never-seen"):
        assert loaded.recommend(user, 25) == personalization_model.recommend(user, 25)
        assert loaded.seen_items(user) == personalization_model.seen_items(user)
    assert loaded.rank("1", ["1", "50", "2571", "nope"]) == personalization_model.rank(
        "1", ["1", "50", "2571", "nope"]
    )


def test_rank_orders_every_given_item_and_puts_unknown_items_last(personalization_model):
    candidates = ["no-such-movie", "2571", "1", "356", "4993"]
    ranked = personalization_model.rank("3", candidates)
    assert sorted(_items(ranked)) == sorted(candidates)
    assert ranked[-1] == ("no-such-movie", 0.0)
    assert abs(sum(score for _, score in ranked) - 1.0) < 1e-5
    scores = [score for _, score in ranked[:-1]]
    assert scores == sorted(scores, reverse=True)


def test_training_is_deterministic(interactions):
    params = {"algorithmHyperParameters": {"ease_max_items": 1000}}
    first = train(
        recipe="aws-user-personalization-v2", data=TrainingData(interactions=interactions), params=params
    )
    second = train(
        recipe="aws-user-personalization-v2", data=TrainingData(interactions=interactions), params=params
    )
    assert first.metrics == second.metrics
    assert first.recommend("1", 25) == second.recommend("1", 25)
