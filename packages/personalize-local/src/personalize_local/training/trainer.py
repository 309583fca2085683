"""``train()``: from a dataset group's data and a solution's config to a model with its metrics."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from personalize_local import recipes as catalogue
from personalize_local.recipes import MAX_TREND_REFRESH_SECONDS
from personalize_metrics import PERSONALIZE_KS, personalize_metrics

from . import algorithms
from .data import Events, TrainingData, TrainingError, check_minimums, holdout_split, weighted_events
from .model import TrainedModel
from .solution_config import Settings, parse_settings

Progress = Callable[[str], None]
COLD_ITEM_NEIGHBOURS = 20
MAX_EVALUATION_USERS = 10_000
MAX_EVALUATION_SEGMENTS = 500
EVALUATION_SEED = 20181128

CATALOGUE = {**catalogue.RECIPES, **catalogue.RECOMMENDER_RECIPES}
RECIPES = {name: recipe.use_case for name, recipe in CATALOGUE.items()}
"""The recipes ``train`` takes, custom and recommender, by short name, each with its use case (the developer
guide's recipe family)."""


def train(
    *,
    recipe: str,
    data: TrainingData,
    params: dict[str, Any] | None = None,
    event_type: str | None = None,
    progress: Progress | None = None,
) -> TrainedModel:
    """Train a solution version the way Personalize does, and measure it.

    The metrics come from a model trained without each user's most recent 10% of interactions (at least
    one), scored on those; the returned model is then trained on everything.

    :param recipe: recipe short name, a key of ``RECIPES``.
    :param data: interactions, and optionally items and users with metadata.
    :param params: the solution's ``solutionConfig`` as sent to CreateSolution.
    :param event_type: the solution's ``eventType``: train only on events of this type. A recommender
        recipe's own event type (``Recipe.event_type``: Watch, View, Purchase) keeps only its events, in any
        letter case, as AWS's samples send ``watch``.
    :param progress: called with one line per phase.
    :raises TrainingError: with the failureReason, for unusable data or configuration.
    """
    log = progress or (lambda message: None)
    if recipe not in RECIPES:
        raise TrainingError(f"Unknown recipe {recipe!r}; known recipes: {', '.join(sorted(RECIPES))}")
    started = time.perf_counter()
    uses = CATALOGUE[recipe]
    settings = parse_settings(params, event_type=event_type)
    interactions = data.interactions
    if uses.event_type and "EVENT_TYPE" in interactions.columns:
        interactions = interactions[interactions["EVENT_TYPE"].str.lower() == uses.event_type.lower()]
    items = data.items if uses.item_metadata else None
    if items is not None and "ITEM_ID" not in items.columns:
        raise TrainingError("Items data is missing required column ITEM_ID")
    if recipe == "aws-item-attribute-affinity" and items is None:
        raise TrainingError(
            "aws-item-attribute-affinity needs an Items dataset: its queries name item attributes"
        )
    users = data.users if uses.user_metadata else None
    if users is not None and "USER_ID" not in users.columns:
        raise TrainingError("Users data is missing required column USER_ID")
    events = weighted_events(
        interactions, settings.rules, extra_items=None if items is None else items["ITEM_ID"]
    )
    check_minimums(events)
    log(
        f"{recipe}: {len(events)} interactions, {len(events.user_ids)} users, {len(events.item_ids)} items "
        f"after event filters"
    )
    item_features = None
    if items is not None:
        item_features = algorithms.metadata_features(items, id_column="ITEM_ID", ids=events.item_ids)
        log(f"item metadata: {item_features.shape[1]} feature values")

    train_mask, relevant = holdout_split(events)
    log(f"metrics: holding out {int((~train_mask).sum())} most recent interactions of {len(relevant)} users")
    evaluation_model = _fit(recipe, events.subset(train_mask), settings, item_features, users, log)
    log("metrics: scoring held-out interactions")
    if uses.recipe_type == "USER_SEGMENTATION":
        metrics = _evaluate_segments(evaluation_model, events, relevant, log)
    else:
        metrics = _evaluate(evaluation_model, events, relevant, log)
    log(
        "metrics: "
        + ", ".join(
            f"{name}={value:.4f}" for name, value in metrics.items() if "at_10" in name or name == "coverage"
        )
    )

    del evaluation_model
    log("final model: training on all interactions")
    model = _fit(recipe, events, settings, item_features, users, log)
    model.metrics = metrics
    model.training_seconds = time.perf_counter() - started
    log(f"done in {model.training_seconds:.1f} s")
    return model


def _fit(
    recipe: str,
    events: Events,
    settings: Settings,
    item_features: sp.csr_matrix | None,
    users,
    log: Progress,
) -> TrainedModel:
    history = events.matrix()
    popularity = algorithms.popularity(history)
    parts: dict[str, Any] = {}
    algorithm = CATALOGUE[recipe].algorithm
    if algorithm == "ease":
        interacted = int(np.count_nonzero(popularity))
        cap = min(settings.ease_max_items, int(np.flatnonzero(popularity).max()) + 1)
        log(f"EASE: λ={settings.ease_lambda:g} over the {cap} most popular items ({interacted} interacted)")
        phase = time.perf_counter()
        dense = algorithms.fit_ease(history[:, :cap], regularization=settings.ease_lambda)
        parts["weights"] = algorithms.strongest_per_row(
            dense, keep=settings.ease_neighbours, size=history.shape[1]
        )
        log(
            f"EASE: solved in {time.perf_counter() - phase:.1f} s; kept the {settings.ease_neighbours} strongest "
            f"weights per item"
        )
        if item_features is not None:
            parts.update(_tail_item_links(cap, item_features, settings, log))
    elif algorithm == "similarity":
        log(f"item-item cosine: top {settings.neighbours} neighbours per item")
        similarity = algorithms.fit_item_similarity(
            history,
            neighbours=settings.neighbours,
            popularity_discount=settings.popularity_discount,
            min_cointeractions=settings.min_cointeractions,
        )
        if item_features is not None and item_features.shape[1] > 0:
            log(f"blending metadata similarity (weight {settings.metadata_weight:g})")
            metadata = algorithms.top_k_similarity(
                item_features, item_features, neighbours=settings.neighbours, skip_self=True
            )
            similarity = algorithms.blend_similarity(
                similarity, metadata, metadata_weight=settings.metadata_weight
            )
        parts["weights"] = similarity
    elif algorithm == "cooccurrence":
        log(f"co-occurrence within baskets ({algorithms.BASKET_GAP_SECONDS} s without an event ends one)")
        parts["weights"] = algorithms.fit_cooccurrence(
            events.user, events.item, events.timestamp, len(events.item_ids)
        )
    elif algorithm == "trending":
        refresh = min(settings.trend_seconds, MAX_TREND_REFRESH_SECONDS)
        end = float(events.timestamp.max() // refresh * refresh)
        trend = algorithms.trending(
            events.item, events.timestamp, len(events.item_ids), end=end, interval=settings.trend_seconds
        )
        log(
            f"trending: {settings.trend_seconds:g} s intervals"
            + ("" if trend is not None else ", none recent")
        )
        parts.update(
            trend=popularity / max(popularity.sum(), 1.0) if trend is None else trend,
            trend_seconds=settings.trend_seconds,
            event_rules=settings.rules,
        )
    if users is not None and algorithm == "ease":
        parts.update(_user_segments(users, events, history, log))
    return TrainedModel(
        recipe=recipe,
        item_ids=events.item_ids,
        user_ids=events.user_ids,
        history=history,
        popularity=popularity,
        **parts,
    )


def _tail_item_links(
    cap: int, item_features: sp.csr_matrix, settings: Settings, log: Progress
) -> dict[str, Any]:
    """For items EASE does not cover (no interactions, or beyond the cap), their metadata-nearest covered
    items (rows sum to 1), so the Items dataset makes them recommendable."""
    n_items = item_features.shape[0]
    if cap >= n_items or item_features.shape[1] == 0:
        return {}
    cold, warm = np.arange(cap, n_items), np.arange(cap)
    links = algorithms.top_k_similarity(
        item_features[cold], item_features[warm], neighbours=COLD_ITEM_NEIGHBOURS, skip_self=False
    )
    links = algorithms.row_normalized(links).tocoo()
    full = sp.csr_matrix((links.data, (cold[links.row], warm[links.col])), shape=(n_items, n_items))
    log(
        f"cold items: {int((np.diff(full.indptr) > 0).sum())} of {cold.size} linked to interacted items by metadata"
    )
    return {"cold_links": full, "cold_item_weight": settings.cold_item_weight}


def _user_segments(users, events: Events, history: sp.csr_matrix, log: Progress) -> dict[str, Any]:
    """User metadata: popularity per metadata value, to serve users who have no interactions yet."""
    meta_user_ids = np.unique(users["USER_ID"].to_numpy(dtype=str))
    features = algorithms.metadata_features(users, id_column="USER_ID", ids=meta_user_ids)
    if features.shape[1] == 0:
        return {}
    row_of = {user: index for index, user in enumerate(meta_user_ids.tolist())}
    rows = np.array([row_of.get(user, -1) for user in events.user_ids.tolist()], dtype=np.int64)
    with_meta = np.flatnonzero(rows >= 0)
    trained_features = sp.csr_matrix((len(events.user_ids), features.shape[1]), dtype=np.float32)
    if with_meta.size:
        trained_features = (
            sp.csr_matrix(
                (np.ones(with_meta.size, dtype=np.float32), (with_meta, rows[with_meta])),
                shape=(len(events.user_ids), len(meta_user_ids)),
            )
            @ features
        ).tocsr()
    segments = algorithms.segment_popularity(trained_features, history)
    log(f"user metadata: {features.shape[1]} feature values over {len(meta_user_ids)} users")
    return {"meta_user_ids": meta_user_ids, "user_features": features, "segment_popularity": segments}


def _evaluate(
    model: TrainedModel, events: Events, relevant: dict[int, set[int]], log: Progress
) -> dict[str, float]:
    users = np.array(sorted(relevant), dtype=np.int64)
    if len(users) > MAX_EVALUATION_USERS:
        sample = np.random.default_rng(EVALUATION_SEED).choice(
            len(users), MAX_EVALUATION_USERS, replace=False
        )
        users = users[np.sort(sample)]
        log(f"metrics: scoring a fixed random sample of {MAX_EVALUATION_USERS} of {len(relevant)} users")
    tops = model.batch_top(users, max(PERSONALIZE_KS), progress=lambda message: log(f"metrics: {message}"))
    item_ids = events.item_ids
    recommendations = {int(u): item_ids[top].tolist() for u, top in zip(users.tolist(), tops, strict=True)}
    held_out = {int(u): {item_ids[i] for i in relevant[int(u)]} for u in users.tolist()}
    return personalize_metrics(recommendations, held_out, catalog=item_ids.tolist())


def _evaluate_segments(
    model: TrainedModel, events: Events, relevant: dict[int, set[int]], log: Progress
) -> dict[str, float]:
    """The affinity recipes' metrics, as GetSolutionMetrics names them for Personalize's segmentation.

    For held-out items (a fixed random sample of ``MAX_EVALUATION_SEGMENTS`` when there are more), the
    segment of the top 1% of users (at least one), users who already had the item in training left out:
    ``hits_at_1_percent`` is the mean number of the item's held-out consumers in it, ``recall_at_1_percent``
    those hits over min(consumers, segment size), ``coverage`` the share of users in at least one segment.
    """
    consumers: dict[int, set[int]] = {}
    for user, items in relevant.items():
        for item in items:
            consumers.setdefault(item, set()).add(user)
    queried = np.array(sorted(consumers), dtype=np.int64)
    if len(queried) > MAX_EVALUATION_SEGMENTS:
        sample = np.random.default_rng(EVALUATION_SEED).choice(
            len(queried), MAX_EVALUATION_SEGMENTS, replace=False
        )
        queried = queried[np.sort(sample)]
    size = max(1, len(events.user_ids) // 100)
    log(f"metrics: segments of {size} users for {len(queried)} held-out items")
    user_code = {user: code for code, user in enumerate(events.user_ids.tolist())}
    hits, recalls, reached = [], [], set()
    for item in queried.tolist():
        segment = {
            user_code[user]
            for user, _ in model.segment([events.item_ids[item]], size, leave_out_consumers=True)
        }
        found = len(segment & consumers[item])
        hits.append(found)
        recalls.append(found / min(len(consumers[item]), size))
        reached |= segment
    if not hits:
        return {"coverage": 0.0, "hits_at_1_percent": 0.0, "recall_at_1_percent": 0.0}
    return {
        "coverage": len(reached) / max(len(events.user_ids), 1),
        "hits_at_1_percent": float(np.mean(hits)),
        "recall_at_1_percent": float(np.mean(recalls)),
    }
