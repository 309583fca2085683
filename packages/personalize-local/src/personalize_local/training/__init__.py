"""Real training for personalize-local's solution versions.

``train(recipe=..., data=TrainingData(...), params=solutionConfig, event_type=..., progress=...)`` returns
a model that serves ``recommend`` / ``related`` / ``rank``, takes real-time events through ``observe``,
and carries ``metrics`` (GetSolutionMetrics' names) and ``training_seconds``; ``load_model`` reads what
``model.save`` wrote. ``RECIPES`` maps each recipe's short name to its use case (the catalogue is
:mod:`personalize_local.recipes`).

What each recipe trains:

- user-personalization(-v2), personalized-ranking(-v2): **EASE** (Steck 2019, closed form with scipy)
  over the most popular ``ease_max_items`` items (default 4000), keeping each item's 400 strongest
  weights (``ease_neighbours``) so serving is a sparse product. Items EASE does not cover — Items
  dataset entries without interactions ("cold"), and the tail beyond the cap — are scored from their
  metadata-nearest covered items (weight 0.3, like Personalize's default exploration weight); users of
  the Users dataset without interactions get popular items blended with what users sharing their
  metadata interact with.
- similar-items, sims: item-item cosine from implicit's ``CosineRecommender`` (top 100 neighbours);
  similar-items blends in metadata similarity (weight 0.3), which also gives cold items neighbours.
  ``recommend`` on these sums the similarities of the user's history (item-kNN), which is what their
  metrics measure; ``related`` is their real use.
- popularity-count: summed event weight per item.
- the recommenders' use cases: EASE for aws-vod-top-picks and aws-ecomm-recommended-for-you; similarity
  for the "X" use cases (over Watch or View events; aws-vod-more-like-x with item metadata); popularity of
  the use case's event type for aws-vod-most-popular and aws-ecomm-popular-items-by-views/-purchases;
  basket co-occurrence of purchases (:func:`algorithms.fit_cooccurrence`) for
  aws-ecomm-frequently-bought-together; the trending score for aws-vod-trending-now. A use case's event
  type (``Recipe.event_type``) keeps only those events, in any letter case.
- trending-now: the time-decayed growth score of :func:`algorithms.trending` over intervals of the
  solution's trend discovery frequency; served from the group's current interactions
  (:meth:`TrainedModel.trending`), so it follows new data without retraining.
- item-affinity, item-attribute-affinity: EASE as above; a segment is every user's EASE score for the
  queried item(s), best users first (:meth:`TrainedModel.segment`). Their metrics are Personalize's
  segmentation ones: ``hits_at_1_percent``, ``recall_at_1_percent`` and ``coverage`` over held-out items.

Events: ``eventType`` keeps one type; ``eventValueThreshold`` drops events with a lower EVENT_VALUE;
``eventsConfig.eventParametersList`` keeps the listed types with their thresholds and weights (0–1).
Repeated events of a user-item pair keep the largest weight.

Metrics follow Personalize: each user's most recent 10% of interactions (at least one; users with a
single interaction are not held out) are held out, a model trained on the rest recommends 25 items
(seen items left out) to each such user — a fixed random sample of 10,000 when there are more — and the
shared :mod:`personalize_metrics` scores them. The returned model is then trained on
everything.

Why EASE with a cap (measured on this 2-core machine, shared with other work, 2026-11-29):

- Quality, MovieLens fixture, latest 10% held out, NDCG@10: popularity 0.044; EASE λ=500 0.077 with the
  cap at 2000, 3000, 4000, 5000 or 7000 items alike (the tail beyond 4000 items holds 7% of the
  interactions); implicit ALS (64 factors) 0.050 (issue's figure).
- Speed, 1M synthetic power-law interactions (49k users, 20k items): one EASE solve at 4000 items takes
  2.6–4.8 s, at 5000 items 9–15 s under load (the inverse is O(items³)); a whole ``train`` (two fits plus
  metrics) takes 16–18 s at 4000 (``bench/training_quality.py``). One ALS fit (64 factors, 15 iterations) takes 14 s and ranks worse.
  The EASE inverse runs on one BLAS thread (see ``algorithms.fit_ease``).
  Pruning to 400 weights per item: MovieLens NDCG@10 0.077 → 0.078 (200: 0.074, 100: 0.072), and
  ``recommend`` p99 went from 29 ms (dense 4000 × 4000 product) to 9 ms, p50 under 1 ms, on a loaded
  machine; a saved model holds ~1.6M weights instead of 16M.
  Without item metadata, items beyond the cap are never recommended by the personalization recipes
  (with it, they rarely are: on MovieLens+genres NDCG@10 and coverage did not move); raise
  ``algorithmHyperParameters.ease_max_items`` when a catalog's tail matters more than training time.
"""

from .data import TrainingData, TrainingError
from .model import TrainedModel, load_model
from .trainer import RECIPES, train

__all__ = ["RECIPES", "TrainedModel", "TrainingData", "TrainingError", "load_model", "train"]
