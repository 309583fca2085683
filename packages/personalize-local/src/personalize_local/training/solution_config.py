"""What training reads from a solution's solutionConfig."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from personalize_local.recipes import trend_discovery_seconds

from .data import EventRules, TrainingError


@dataclass(frozen=True)
class Settings:
    """What training reads from a solutionConfig.

    Personalize's own fields: ``eventValueThreshold``, ``eventsConfig.eventParametersList`` (eventType,
    eventValueThreshold, weight), and for the similarity recipes the hyperparameters
    ``popularity_discount_factor`` and ``min_cointeraction_count``. Local-only hyperparameters:
    ``ease_lambda`` (L2 regularisation, default 500), ``ease_max_items`` (catalog cap, default 4000) and
    ``ease_neighbours`` (weights kept per item, default 400). For aws-trending-now,
    ``featureTransformationParameters.trend_discovery_frequency`` (default 2 hours), as ``trend_seconds``.
    Other hyperparameters are accepted and ignored, as the real models' knobs have no local meaning.
    """

    rules: EventRules
    ease_lambda: float = 500.0
    ease_max_items: int = 4000
    ease_neighbours: int = 400
    neighbours: int = 100
    popularity_discount: float = 0.0
    min_cointeractions: int = 1
    metadata_weight: float = 0.3
    cold_item_weight: float = 0.3
    trend_seconds: float = 7200.0


def _number(value: Any, field: str, *, minimum: float | None = None, maximum: float | None = None) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TrainingError(f"solutionConfig field {field} must be a number, got {value!r}") from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise TrainingError(
            f"solutionConfig field {field} must be between {minimum} and {maximum}, got {value!r}"
        )
    return number


def parse_settings(params: dict[str, Any] | None, *, event_type: str | None) -> Settings:
    """Read a solutionConfig dict (as CreateSolution received it) plus the solution's eventType."""
    params = params or {}
    threshold = params.get("eventValueThreshold")
    per_type: dict[str, tuple[float | None, float]] = {}
    events_config = params.get("eventsConfig") or {}
    for index, entry in enumerate(events_config.get("eventParametersList") or []):
        where = f"eventsConfig.eventParametersList[{index}]"
        name = entry.get("eventType")
        if not name:
            raise TrainingError(f"solutionConfig field {where}.eventType is required")
        entry_threshold = entry.get("eventValueThreshold")
        per_type[name] = (
            None if entry_threshold is None else _number(entry_threshold, f"{where}.eventValueThreshold"),
            _number(entry.get("weight", 1.0), f"{where}.weight", minimum=0.0, maximum=1.0),
        )
    rules = EventRules(
        event_type=event_type or None,
        value_threshold=None if threshold in (None, "") else _number(threshold, "eventValueThreshold"),
        per_type=per_type,
    )
    hyper = params.get("algorithmHyperParameters") or {}
    field = "algorithmHyperParameters"
    try:
        trend_seconds = trend_discovery_seconds(params)
    except ValueError as exc:
        raise TrainingError(f"solutionConfig field {exc}") from None
    return Settings(
        rules=rules,
        trend_seconds=trend_seconds,
        ease_lambda=_number(hyper.get("ease_lambda", 500), f"{field}.ease_lambda", minimum=1e-6),
        ease_max_items=int(_number(hyper.get("ease_max_items", 4000), f"{field}.ease_max_items", minimum=1)),
        ease_neighbours=int(
            _number(hyper.get("ease_neighbours", 400), f"{field}.ease_neighbours", minimum=1)
        ),
        popularity_discount=_number(
            hyper.get("popularity_discount_factor", 0.0),
            f"{field}.popularity_discount_factor",
            minimum=0,
            maximum=1,
        ),
        min_cointeractions=int(
            _number(hyper.get("min_cointeraction_count", 1), f"{field}.min_cointeraction_count", minimum=0)
        ),
    )
