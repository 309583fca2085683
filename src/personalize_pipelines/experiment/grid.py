"""The experiment's grid: which variants it exports, and the parameters a run was given.

A variant is a training window (months, ending where the holdout starts, or ``lag_weeks`` before it) and a
per-user cap (``cleaning.max_recent_events_per_user``, None for none). The grid is every window × every
cap, plus the cadence variants: the widest window, no cap, ending 1, 2, 4… weeks before the holdout.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from personalize_pipelines.config import ConfigError, ExperimentSpec, check_experiment


@dataclass(frozen=True)
class Variant:
    months: int
    cap: int | None = None
    lag_weeks: int = 0

    @property
    def name(self) -> str:
        """``w<months>-cap<K|all>[-lag<N>w]``: a folder and a Personalize name part."""
        lag = f"-lag{self.lag_weeks}w" if self.lag_weeks else ""
        return f"w{self.months:02d}-cap{self.cap if self.cap is not None else 'all'}{lag}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"name": self.name}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Variant:
        return cls(months=int(data["months"]), cap=data.get("cap"), lag_weeks=int(data.get("lag_weeks", 0)))


@dataclass(frozen=True)
class ExperimentParams:
    """One run's settings: the YAML's ``experiment:`` section overridden by the run's params."""

    windows: tuple[int, ...]
    caps: tuple[int | None, ...]
    cadence_weeks: tuple[int, ...]
    solutions: tuple[str, ...]
    metric: str
    tolerance: float
    keep_resources: bool
    bootstrap_samples: int

    @property
    def widest_months(self) -> int:
        return max(self.windows)

    def variants(self) -> list[Variant]:
        """Every window × cap, then the cadence variants (widest window, no cap) not already in it."""
        grid = [Variant(months, cap) for months in sorted(self.windows) for cap in self.caps]
        cadence = [Variant(self.widest_months, None, weeks) for weeks in sorted(self.cadence_weeks) if weeks]
        return grid + [v for v in cadence if v not in grid]

    def as_dict(self) -> dict[str, Any]:
        return {
            key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()
        }


def experiment_params(uc: Any, params: Mapping[str, Any] | None = None) -> ExperimentParams:
    """The use case's ``experiment:`` section (defaults when it has none), each field overridden by a run
    param of the same name that is not None; validated as the YAML is (:class:`ConfigError` otherwise)."""
    section = (uc.experiment or ExperimentSpec()).model_dump()
    given = {key: value for key, value in (params or {}).items() if key in section and value is not None}
    try:
        spec = ExperimentSpec(**(section | given))
        check_experiment(spec, uc)
    except ValueError as exc:
        raise ConfigError(f"{uc.name}: experiment: {exc}") from exc
    return ExperimentParams(
        windows=tuple(spec.windows),
        caps=tuple(spec.caps),
        cadence_weeks=tuple(spec.cadence_weeks),
        solutions=tuple(spec.solutions or [s.name for s in uc.training.solutions]),
        metric=spec.metric,
        tolerance=spec.tolerance,
        keep_resources=spec.keep_resources,
        bootstrap_samples=spec.bootstrap_samples,
    )
