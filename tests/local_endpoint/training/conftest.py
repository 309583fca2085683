"""Fixtures for the training tests: the MovieLens fixture as Personalize interactions, trained models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from personalize_local.training import TrainingData, train

MOVIELENS = Path(__file__).resolve().parents[2] / "fixtures" / "movielens"


def movielens_interactions() -> pd.DataFrame:
    ratings = pd.read_csv(MOVIELENS / "ratings.csv")
    return pd.DataFrame(
        {
            "USER_ID": ratings["userId"].astype(str),
            "ITEM_ID": ratings["movieId"].astype(str),
            "TIMESTAMP": ratings["timestamp"].astype("int64"),
            "EVENT_TYPE": "rating",
            "EVENT_VALUE": ratings["rating"].astype(float),
        }
    )


def movielens_items() -> pd.DataFrame:
    movies = pd.read_csv(MOVIELENS / "movies.csv")
    return pd.DataFrame({"ITEM_ID": movies["movieId"].astype(str), "GENRES": movies["genres"].astype(str)})


def split_latest(interactions: pd.DataFrame, fraction: float = 0.1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each user's most recent ``fraction`` of interactions (at least one, users with ≥ 2) held out."""
    ordered = interactions.sort_values(["USER_ID", "TIMESTAMP"], kind="stable")
    position = ordered.groupby("USER_ID").cumcount().to_numpy()
    count = ordered.groupby("USER_ID")["ITEM_ID"].transform("size").to_numpy()
    held = np.where(count >= 2, np.maximum(1, np.floor(count * fraction)), 0)
    test = position >= count - held
    return ordered[~test], ordered[test]


@pytest.fixture(scope="session")
def interactions() -> pd.DataFrame:
    return movielens_interactions()


@pytest.fixture(scope="session")
def personalization_model(interactions):
    return train(recipe="aws-user-personalization-v2", data=TrainingData(interactions=interactions))


@pytest.fixture(scope="session")
def sims_model(interactions):
    return train(recipe="aws-sims", data=TrainingData(interactions=interactions))
