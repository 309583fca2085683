"""Trending-Now's growth score: rising shares trend, falling ones sink, and new interactions move it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from personalize_local.training import TrainingData, algorithms, train

HOUR = 3600
START = 472_222 * HOUR


def interactions(counts: dict[str, list[int]], *, seed: int = 1) -> pd.DataFrame:
    """``counts[item][h]`` interactions with ``item`` in hour h, at random moments inside the hour."""
    rng = np.random.default_rng(seed)
    rows = [
        (f"u{rng.integers(100)}", item, START + hour * HOUR + int(rng.integers(1, HOUR)))
        for item, per_hour in counts.items()
        for hour, count in enumerate(per_hour)
        for _ in range(count)
    ]
    frame = pd.DataFrame(rows, columns=["USER_ID", "ITEM_ID", "TIMESTAMP"])
    return frame.assign(TIMESTAMP=frame["TIMESTAMP"].astype("int64"))


def steady_catalogue(hours: int) -> dict[str, list[int]]:
    return {f"steady{index}": [8] * hours for index in range(60)}


def test_an_item_whose_share_rose_outranks_one_whose_share_fell_and_steady_items_sit_between():
    counts = {
        **steady_catalogue(10),
        "rising": [4] * 9 + [24],
        "falling": [24] * 9 + [4],
        "new": [0] * 9 + [3],
    }
    frame = interactions(counts)
    codes, ids = pd.factorize(frame["ITEM_ID"])
    scores = algorithms.trending(
        codes, frame["TIMESTAMP"].to_numpy(), len(ids), end=START + 10 * HOUR, interval=HOUR
    )
    score = dict(zip(ids, scores, strict=True))
    steady = [score[f"steady{index}"] for index in range(60)]
    assert score["rising"] > max(steady) and score["falling"] < min(steady)
    assert score["rising"] > score["new"] > 0  # 0 → 3 is growth, but less than 4 → 24


def test_no_interactions_in_the_last_two_intervals_means_no_trend():
    frame = interactions({"a": [5, 5, 0, 0], "b": [1, 9, 0, 0]})
    codes, ids = pd.factorize(frame["ITEM_ID"])
    assert (
        algorithms.trending(
            codes, frame["TIMESTAMP"].to_numpy(), len(ids), end=START + 4 * HOUR, interval=HOUR
        )
        is None
    )


def test_the_model_follows_new_interactions_once_their_interval_closes():
    counts = {**steady_catalogue(6), "rising": [2] * 5 + [20]}
    frame = interactions(counts)
    closing = pd.DataFrame({"USER_ID": ["u1"], "ITEM_ID": ["steady0"], "TIMESTAMP": [START + 6 * HOUR]})
    frame = pd.concat([frame, closing], ignore_index=True)
    model = train(
        recipe="aws-trending-now",
        data=TrainingData(interactions=frame),
        params={"featureTransformationParameters": {"trend_discovery_frequency": "1 hour"}},
    )
    reads = []

    def serve(current: pd.DataFrame) -> list[str]:
        def read() -> pd.DataFrame:
            reads.append(len(current))
            return current

        latest = float(current["TIMESTAMP"].max())
        return [item for item, _ in model.trending(3, latest=latest, interactions=read)]

    assert serve(frame)[0] == "rising"
    latest = float(frame["TIMESTAMP"].max())
    filtered = model.trending(
        3, latest=latest, interactions=lambda: frame, exclude_items=frozenset({"rising"})
    )
    assert len(filtered) == 3 and "rising" not in {item for item, _ in filtered}
    burst = interactions({"breaking": [0] * 6 + [40]}, seed=2)
    assert serve(pd.concat([frame, burst], ignore_index=True))[0] == "rising"  # hour 7 is still open
    tick = closing.assign(TIMESTAMP=START + 7 * HOUR)
    assert serve(pd.concat([frame, burst, tick], ignore_index=True))[0] == "breaking"
    assert len(reads) == 2  # read once per evaluated interval, not per request


def test_a_day_long_frequency_still_refreshes_every_two_hours():
    counts = {**steady_catalogue(3), "late": [0, 0, 0]}
    frame = interactions(counts)
    model = train(
        recipe="aws-trending-now",
        data=TrainingData(interactions=frame),
        params={"featureTransformationParameters": {"trend_discovery_frequency": "1 day"}},
    )
    late = pd.DataFrame(
        {"USER_ID": [f"u{n}" for n in range(30)], "ITEM_ID": "late", "TIMESTAMP": START + 3 * HOUR + 60}
    )
    now = pd.concat([frame, late], ignore_index=True)
    assert model.trending(1, latest=START + 3 * HOUR + 120, interactions=lambda: now)[0][0] != "late"
    assert model.trending(1, latest=START + 4 * HOUR, interactions=lambda: now)[0][0] == "late"


def test_without_interactions_in_the_last_two_intervals_the_model_recommends_popular_items():
    frame = interactions({"popular": [60, 60], "rising": [10, 90]})
    late = pd.DataFrame({"USER_ID": ["u1"], "ITEM_ID": ["late"], "TIMESTAMP": [START + 4 * HOUR + HOUR // 2]})
    frame = pd.concat([frame, late], ignore_index=True)
    model = train(
        recipe="aws-trending-now",
        data=TrainingData(interactions=pd.concat([frame] * 5, ignore_index=True)),
        params={"featureTransformationParameters": {"trend_discovery_frequency": "1 hour"}},
    )
    latest = float(frame["TIMESTAMP"].max())  # hours 3 and 4 are empty: nothing trends
    assert [item for item, _ in model.trending(3, latest=latest, interactions=lambda: frame)] == [
        "popular",
        "rising",
        "late",
    ]
