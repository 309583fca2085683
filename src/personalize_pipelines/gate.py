"""The promotion gate: a challenger replaces the champion only when it earns it on the holdout.

Rules, in order:

1. A challenger whose metric is missing (absent, NaN, infinite) or whose batch answered too few of
   the holdout users (``max_missing_fraction``) is not eligible; the reason names it.
2. The best eligible challenger is the one with the highest metric; a tie between challengers goes
   to the name that sorts first, and the reason says so.
3. With no champion yet, the best eligible challenger is promoted.
4. With a champion whose own evaluation is unusable (metric missing, too many users missing), nothing
   is promoted: a broken measurement never replaces a serving model.
5. Otherwise the best challenger must beat the champion's value strictly, by at least
   ``min_relative_lift`` (a fraction of the champion's value) and ``min_absolute_lift``. A tie keeps
   the champion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from personalize_pipelines.evaluation import Evaluated

DEFAULT_METRIC = "ndcg_at_10"


@dataclass(frozen=True)
class Decision:
    """What the gate decided and why.

    :param promote: True when ``winner`` should replace the champion.
    :param winner: the best eligible challenger (promoted or not), None when none is eligible.
    :param reason: one sentence for the log and the summary.
    :param metric: the metric compared.
    :param champion_value: the champion's value, None without a (usable) champion.
    :param winner_value: the winner's value.
    :param relative_lift: ``winner_value / champion_value - 1`` when both exist and the champion's is > 0.
    :param ineligible: challenger name → why it was not considered.
    """

    promote: bool
    winner: Evaluated | None
    reason: str
    metric: str
    champion_value: float | None = None
    winner_value: float | None = None
    relative_lift: float | None = None
    ineligible: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "promote": self.promote,
            "winner": self.winner.name if self.winner else None,
            "winner_solution_version_arn": self.winner.solution_version_arn if self.winner else None,
            "reason": self.reason,
            "metric": self.metric,
            "champion_value": self.champion_value,
            "winner_value": self.winner_value,
            "relative_lift": self.relative_lift,
            "ineligible": dict(self.ineligible),
        }


def _unusable(candidate: Evaluated, *, metric: str, max_missing_fraction: float) -> str | None:
    if candidate.metric(metric) is None:
        return f"{metric} is missing or not a number"
    evaluated = candidate.metric("users_evaluated")
    missing = candidate.metric("users_missing")
    if evaluated and missing is not None and missing / evaluated > max_missing_fraction:
        return (
            f"no recommendations for {int(missing)} of {int(evaluated)} holdout users "
            f"({missing / evaluated:.0%} > max_missing_fraction {max_missing_fraction:.0%})"
        )
    return None


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.4g}%"


def decide(
    *,
    champion: Evaluated | None,
    challengers: Sequence[Evaluated],
    metric: str = DEFAULT_METRIC,
    min_relative_lift: float = 0.0,
    min_absolute_lift: float = 0.0,
    max_missing_fraction: float = 0.1,
) -> Decision:
    """Decide whether the best challenger replaces the champion.

    :param champion: the serving model evaluated on the same holdout users, None when nothing serves yet.
    :param challengers: the newly trained models, evaluated.
    :param metric: the metric compared, a key of :func:`personalize_pipelines.evaluation.evaluate`'s result.
    :param min_relative_lift: the challenger must reach ``champion * (1 + min_relative_lift)``; 0.05 = 5%.
    :param min_absolute_lift: and ``champion + min_absolute_lift``.
    :param max_missing_fraction: the largest share of holdout users a model may leave without
        recommendations (batch errors, missing lines) and still be compared.
    """
    if min_relative_lift < 0 or min_absolute_lift < 0:
        raise ValueError("min_relative_lift and min_absolute_lift must be >= 0")
    if not 0 <= max_missing_fraction <= 1:
        raise ValueError(f"max_missing_fraction must be within [0, 1], got {max_missing_fraction}")
    names = [c.name for c in challengers]
    if len(set(names)) != len(names):
        raise ValueError(f"challenger names must be unique: {names}")
    if not challengers:
        return Decision(
            promote=False,
            winner=None,
            metric=metric,
            reason="no challengers to evaluate; the champion keeps serving",
        )

    ineligible = {
        c.name: why
        for c in challengers
        if (why := _unusable(c, metric=metric, max_missing_fraction=max_missing_fraction))
    }
    eligible = sorted(
        (c for c in challengers if c.name not in ineligible), key=lambda c: (-c.metric(metric), c.name)
    )
    if not eligible:
        listed = "; ".join(f"{name}: {why}" for name, why in ineligible.items())
        return Decision(
            promote=False,
            winner=None,
            metric=metric,
            ineligible=ineligible,
            reason=f"no challenger can be compared on {metric} ({listed}); the champion keeps serving",
        )
    best = eligible[0]
    value = best.metric(metric)
    tied = [c.name for c in eligible[1:] if c.metric(metric) == value]
    tie_note = f" (tied with {', '.join(tied)}; the first by name wins)" if tied else ""
    common = {"winner": best, "metric": metric, "winner_value": value, "ineligible": ineligible}

    if champion is None:
        return Decision(
            promote=True,
            **common,
            reason=f"no champion yet: challenger {best.name} {metric} {value:.4f}{tie_note} becomes the champion",
        )
    broken = _unusable(champion, metric=metric, max_missing_fraction=max_missing_fraction)
    if broken:
        return Decision(
            promote=False,
            **common,
            reason=f"champion {champion.name} cannot be compared ({broken}); it keeps serving. "
            f"Best challenger {best.name} {metric} {value:.4f}; promote by hand if that is right",
        )
    current = champion.metric(metric)
    lift = value / current - 1 if current > 0 else None
    needed = max(current * (1 + min_relative_lift), current + min_absolute_lift)
    common.update(champion_value=current, relative_lift=lift)
    lift_text = f"{lift:+.1%}" if lift is not None else "from 0"
    required = _required_text(min_relative_lift, min_absolute_lift)
    if value > current and value >= needed:
        return Decision(
            promote=True,
            **common,
            reason=f"challenger {best.name} {metric} {value:.4f}{tie_note} beats champion {current:.4f} "
            f"({lift_text}{f'; required {required}' if required else ''})",
        )
    if value == current:
        why = f"ties champion {current:.4f}; a tie keeps the champion"
    else:
        why = f"does not beat champion {current:.4f}{f' by {required}' if required else ''} ({lift_text})"
    return Decision(
        promote=False, **common, reason=f"challenger {best.name} {metric} {value:.4f}{tie_note} {why}"
    )


def _required_text(relative: float, absolute: float) -> str:
    parts = []
    if relative:
        parts.append(_percent(relative))
    if absolute:
        parts.append(f"{absolute:g} absolute")
    return " and ".join(parts)
