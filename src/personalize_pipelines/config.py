"""Use-case configuration: one YAML file per use case in include/config/, validated on load.

A bad file raises ConfigError naming the file and the field, which Airflow shows as the DAG's
import error.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

if TYPE_CHECKING:
    from personalize_pipelines.project import Project

from personalize_pipelines import domains
from personalize_pipelines.limits import (
    MAX_NUM_RESULTS,
    MAX_USERS_PER_SEGMENT,
    MIN_INTERACTIONS,
    MIN_NUM_RESULTS,
    MIN_USERS_WITH_TWO,
)

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml parses a use case ~20x faster
AVRO_TYPES = ("string", "int", "long", "float", "double", "boolean")
PERSONALIZE_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ConfigError(ValueError):
    """A use-case file that cannot be used, with the file and field named."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Strict):
    """One metadata column of a Personalize dataset, as the export writes it."""

    name: str
    type: Literal["string", "int", "long", "float", "double", "boolean"] = "string"
    categorical: bool = False
    optional: bool = True

    @field_validator("name")
    @classmethod
    def _upper_identifier(cls, value: str) -> str:
        if not PERSONALIZE_FIELD.match(value) or not value.isupper():
            raise ValueError(f"{value!r} must be an UPPER_CASE identifier, as Personalize schemas use")
        return value


class SourceSpec(_Strict):
    """A warehouse query producing raw interactions.

    The SQL must return the columns user_id, item_id, event_ts (epoch seconds or milliseconds) and
    event_type, and may return event_value.
    """

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    sql: str
    event_types: dict[str, str]
    event_value: bool = False

    @field_validator("event_types")
    @classmethod
    def _normalised_keys(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("map at least one raw event type to a Personalize EVENT_TYPE")
        return {raw.strip().lower(): target for raw, target in value.items()}


class DatasetSpec(_Strict):
    """Items or users: a SQL file whose columns are the id column and the listed fields."""

    sql: str
    fields: list[FieldSpec] = []


class DatasetGroupSpec(_Strict):
    """The dataset group's kind: a ``domain`` (ECOMMERCE, VIDEO_ON_DEMAND) holds domain datasets and
    recommenders; without one it is a custom group (solutions and campaigns)."""

    domain: Literal["ECOMMERCE", "VIDEO_ON_DEMAND"] | None = None


class WindowSpec(_Strict):
    months: Literal[3, 6, 12] = 6


class HoldoutSpec(_Strict):
    """The most recent data, kept out of the training files for the challenger/champion evaluation."""

    strategy: Literal["last_days", "user_fraction"] = "last_days"
    days: Annotated[int, Field(ge=1, le=90)] = 14
    fraction: Annotated[float, Field(gt=0, lt=1)] = 0.1


class CleaningSpec(_Strict):
    """How the export cleans: ``max_events_per_user`` drops a user's events whole (a bot);
    ``max_recent_events_per_user`` keeps each user's latest K training events and drops the older ones
    (counted under ``beyond_recent_cap``; the holdout is cut first and never capped)."""

    max_events_per_user: Annotated[int, Field(ge=2)] = 2000
    max_recent_events_per_user: Annotated[int, Field(ge=1)] | None = None
    min_interactions_per_user: Annotated[int, Field(ge=1)] = 2
    max_defect_fraction: Annotated[float, Field(ge=0, le=1)] = 0.2
    min_column_fill: Annotated[float, Field(ge=0, le=1)] = 0.05
    millisecond_threshold: Annotated[float, Field(gt=0)] = 1e11

    @model_validator(mode="after")
    def _cap_keeps_the_minimum(self) -> CleaningSpec:
        cap = self.max_recent_events_per_user
        if cap is not None and cap < self.min_interactions_per_user:
            raise ValueError(
                f"max_recent_events_per_user {cap} is below min_interactions_per_user "
                f"{self.min_interactions_per_user}: every user would be dropped"
            )
        return self


class QualitySpec(_Strict):
    min_interactions: Annotated[int, Field(ge=MIN_INTERACTIONS)] = MIN_INTERACTIONS
    min_users_with_two: Annotated[int, Field(ge=MIN_USERS_WITH_TWO)] = MIN_USERS_WITH_TWO


class S3Spec(_Strict):
    conn_id: str = "aws_default"
    bucket: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")]
    prefix: str = "personalize"
    part_rows: Annotated[int, Field(ge=1000)] = 1_000_000

    @field_validator("prefix")
    @classmethod
    def _no_slashes_at_ends(cls, value: str) -> str:
        return value.strip("/")


class ExportSpec(_Strict):
    """How a version's rows reach S3: streamed through the worker, or unloaded by the warehouse itself."""

    unload: bool = False
    """The warehouse writes the CSV parts straight to the version's folder (Redshift UNLOAD, Snowflake COPY
    INTO a stage); DuckDB and Postgres, which cannot write to S3, stream through the worker either way."""
    unload_above_rows: Annotated[int, Field(ge=1)] | None = None
    """Unload when the version holds more published interactions than this, stream otherwise."""

    @property
    def may_unload(self) -> bool:
        return self.unload or self.unload_above_rows is not None


class ScheduleSpec(_Strict):
    export: str | None = "@weekly"
    start_date: str = "2026-01-01"


TABLE_NAME = r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$"


class RelatedItemsSpec(_Strict):
    """A related-items cache: the items of ``items_sql`` scored by the latest ACTIVE version of a
    similar-items solution (aws-similar-items, aws-sims)."""

    solution_arn: str
    items_sql: str
    table: Annotated[str, Field(pattern=TABLE_NAME)] = "personalize_related_items"


class RankingSpec(_Strict):
    """A ranked-items cache: each user's candidate items from ``candidates_sql`` (columns user_id,
    item_id; the users of ``users_sql`` are not used) ordered for them by the latest ACTIVE version of a
    personalized-ranking solution (aws-personalized-ranking, aws-personalized-ranking-v2)."""

    solution_arn: str
    candidates_sql: str
    table: Annotated[str, Field(pattern=TABLE_NAME)] = "personalize_ranked_items"


class BatchServingSpec(_Strict):
    """``<use_case>__batch``: recommendations for the users of ``users_sql`` into a warehouse table.

    ``users_sql`` returns one column, user_id; Jinja sees ``active_since`` (timestamp string),
    ``active_since_epoch`` and ``active_days``.
    """

    users_sql: str
    active_days: Annotated[int, Field(ge=1, le=365)] = 30
    num_results: Annotated[int, Field(ge=MIN_NUM_RESULTS, le=MAX_NUM_RESULTS)] = 25
    table: Annotated[str, Field(pattern=TABLE_NAME)] = "personalize_recommendations"
    related_items: RelatedItemsSpec | None = None
    ranking: RankingSpec | None = None
    schedule: str | None = "@daily"


class EventsServingSpec(_Strict):
    """``<use_case>__events``: interactions newer than the watermark → PutEvents on the champion's tracker.

    ``sql`` returns user_id, item_id, event_ts (epoch seconds or milliseconds), event_type (a raw value
    mapped through the sources' event_types) and optionally event_value and session_id; Jinja sees
    ``since_epoch``, a lower bound the query should apply to event_ts (ties included).
    """

    sql: str
    schedule: str = "*/10 * * * *"
    calls_per_second: Annotated[float, Field(gt=0, le=1000)] = 10.0
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 8
    checkpoint_calls: Annotated[int, Field(ge=1)] = 20
    import_threshold: Annotated[int, Field(ge=10)] = 10_000
    initial_lookback_hours: Annotated[int, Field(ge=1)] = 24


class CleanupServingSpec(_Strict):
    """``<use_case>__cleanup``: superseded Personalize resources older than ``retention_days`` go."""

    retention_days: Annotated[int, Field(ge=0)] = 14
    keep_champions: Annotated[int, Field(ge=1)] = 2
    name_prefix: str | None = None
    dry_run: bool = True
    schedule: str | None = "@weekly"


class AlertsSpec(_Strict):
    """Where failures and "not promoted" decisions are announced."""

    sns_topic_arn: str | None = None
    aws_conn_id: str = "aws_default"
    slack_conn_id: str | None = None
    slack_channel: str | None = None


TREND_DISCOVERY_FREQUENCIES = ("30 minutes", "1 hour", "2 hours", "3 hours", "1 day")
TRENDING_RECIPE = "aws-trending-now"


class TrendingServingSpec(_Strict):
    """``<use_case>__trending``: an aws-trending-now solution in the champion's dataset group, retrained every
    ``retrain_hours``, behind its own campaign, and its items in a warehouse table refreshed every run.

    Personalize refreshes what trends from new interactions every ``trend_discovery_frequency`` without a
    new version; ``retrain_hours`` bounds how old the model behind it may get.
    """

    trend_discovery_frequency: Literal[TREND_DISCOVERY_FREQUENCIES] = "2 hours"  # type: ignore[valid-type]
    retrain_hours: Annotated[int, Field(ge=1, le=24 * 30)] = 24
    num_results: Annotated[int, Field(ge=MIN_NUM_RESULTS, le=MAX_NUM_RESULTS)] = 25
    min_provisioned_tps: Annotated[int, Field(ge=1)] = 1
    table: Annotated[str, Field(pattern=TABLE_NAME)] = "personalize_trending"
    schedule: str | None = "@hourly"


AFFINITY_RECIPES = ("aws-item-affinity", "aws-item-attribute-affinity")
USER_FILTER = re.compile(r"^\s*(INCLUDE|EXCLUDE)\s+UserID\s+WHERE\s", re.IGNORECASE)


class SegmentsServingSpec(_Strict):
    """``<use_case>__segments``: the users most likely to engage with each item (aws-item-affinity) or each
    item-attribute query (aws-item-attribute-affinity) of ``query`` into a warehouse table.

    The affinity solution is this DAG's own, in the champion's dataset group (its data, the events streamed
    into it), retrained every ``retrain_hours``: an affinity recipe recommends users, not items, so it can
    be no challenger of the train DAG. ``query`` returns one column: ``item_id`` for aws-item-affinity,
    ``item_attributes`` (e.g. ``ITEMS.CATEGORY = "shoes"``) for aws-item-attribute-affinity. ``filter``: a
    user filter expression (``INCLUDE|EXCLUDE UserID WHERE ...``) the segments go through.
    """

    recipe: Literal[AFFINITY_RECIPES]  # type: ignore[valid-type]
    query: str
    num_results: Annotated[int, Field(ge=1, le=MAX_USERS_PER_SEGMENT)] = 100
    retrain_hours: Annotated[int, Field(ge=1, le=24 * 90)] = 24 * 7
    filter: str | None = None
    table: Annotated[str, Field(pattern=TABLE_NAME)] = "personalize_segments"
    schedule: str | None = "@daily"

    @field_validator("filter")
    @classmethod
    def _user_filter(cls, value: str | None) -> str | None:
        if value is not None and not USER_FILTER.match(value):
            raise ValueError(
                f"{value!r} is not a user filter: a batch segment job takes INCLUDE|EXCLUDE UserID WHERE "
                "Users.<FIELD> ... or Interactions.EVENT_TYPE IN (...)"
            )
        return value

    @property
    def by_attributes(self) -> bool:
        return self.recipe == "aws-item-attribute-affinity"


class RecommendersServingSpec(_Strict):
    """``<use_case>__recommenders_stop`` / ``__recommenders_start``: the serving recommenders stopped when
    idle (an INACTIVE recommender bills nothing) and started again, each on its cron schedule (None: by
    hand only)."""

    stop_schedule: str | None = None
    start_schedule: str | None = None


class ServingSpec(_Strict):
    """What the serving DAGs need: the role Personalize assumes to read and write S3, and each DAG's
    settings."""

    role_arn: str
    waiter_delay: Annotated[int, Field(ge=1)] = 30
    batch: BatchServingSpec | None = None
    events: EventsServingSpec | None = None
    trending: TrendingServingSpec | None = None
    segments: SegmentsServingSpec | None = None
    recommenders: RecommendersServingSpec | None = None
    cleanup: CleanupServingSpec = CleanupServingSpec()
    alerts: AlertsSpec = AlertsSpec()


RECIPE_ARN_PREFIX = "arn:aws:personalize:::recipe/"
EVALUATION_METRICS = tuple(
    f"{name}_at_{k}" for name in ("ndcg", "precision", "recall", "mrr") for k in (5, 10, 25)
) + ("coverage",)


class SolutionSpec(_Strict):
    """One challenger the train DAG trains each run: a recipe and its settings.

    ``hyperparameters`` go to ``solutionConfig.algorithmHyperParameters`` (values as strings, as
    Personalize takes them).
    """

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_\-]{0,39}$")]
    recipe: str
    perform_hpo: bool = False
    training_mode: Literal["FULL", "UPDATE"] = "FULL"
    event_type: str | None = None
    event_value_threshold: float | None = None
    hyperparameters: dict[str, str | int | float] = {}

    @field_validator("recipe")
    @classmethod
    def _recipe_name_or_arn(cls, value: str) -> str:
        if not re.match(r"^(arn:aws[a-z\-]*:personalize:::recipe/)?aws-[a-z0-9\-]+$", value):
            raise ValueError(f"{value!r} must be a recipe name such as aws-user-personalization, or its ARN")
        if value.removeprefix(RECIPE_ARN_PREFIX) == TRENDING_RECIPE:
            raise ValueError(
                f"{TRENDING_RECIPE} cannot be a challenger: Personalize gives no batch recommendations for it, "
                "which the holdout evaluation needs; serve it with serving.trending (its own DAG and campaign)"
            )
        if value.removeprefix(RECIPE_ARN_PREFIX) in AFFINITY_RECIPES:
            raise ValueError(
                f"{value} cannot be a challenger: it finds users for items, not items for users, so it "
                "cannot serve recommendations; serve it with serving.segments (its own DAG)"
            )
        return value

    @property
    def recipe_arn(self) -> str:
        return self.recipe if self.recipe.startswith("arn:") else RECIPE_ARN_PREFIX + self.recipe

    def solution_config(self) -> dict | None:
        """The CreateSolution ``solutionConfig``, None when nothing is set."""
        config: dict = {}
        if self.event_value_threshold is not None:
            config["eventValueThreshold"] = str(self.event_value_threshold)
        if self.hyperparameters:
            config["algorithmHyperParameters"] = {k: str(v) for k, v in self.hyperparameters.items()}
        return config or None


class RecommenderSpec(_Strict):
    """One recommender of a domain dataset group: a recipe of the domain (``aws-vod-top-picks``...), the
    requests per second it is provisioned for (billed whether used or not) and the filters applications
    ask it through."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_\-]{0,39}$")]
    recipe: str
    min_recommendation_requests_per_second: Annotated[int, Field(ge=1)] = 1
    filters: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_\-]{0,39}$")], str] = {}
    """Filter name → expression (``EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("Watch")``): created in
    the recommender's dataset group, their ARNs recorded beside it for the applications' ``filterArn``."""

    @field_validator("recipe")
    @classmethod
    def _recipe_name_or_arn(cls, value: str) -> str:
        if not re.match(r"^(arn:aws[a-z\-]*:personalize:::recipe/)?aws-[a-z0-9\-]+$", value):
            raise ValueError(f"{value!r} must be a recipe name such as aws-vod-top-picks, or its ARN")
        return value

    @property
    def recipe_name(self) -> str:
        return self.recipe.rsplit("/", 1)[-1]

    @property
    def recipe_arn(self) -> str:
        return self.recipe if self.recipe.startswith("arn:") else RECIPE_ARN_PREFIX + self.recipe

    def recommender_config(self) -> dict[str, Any]:
        """The CreateRecommender / UpdateRecommender ``recommenderConfig``."""
        return {"minRecommendationRequestsPerSecond": self.min_recommendation_requests_per_second}


class TrainingSpec(_Strict):
    """``<use_case>__train``: where the data goes in Personalize and which models compete.

    ``dataset_group: per_run`` makes a new dataset group, schemas and datasets each run (runs share no
    state); ``long_lived`` re-imports one group each run (solutions are reused while their settings
    stay the same, and may then train with ``training_mode: UPDATE``; recommenders are updated in place).

    A domain use case lists ``recommenders`` (they serve, see :class:`EvaluationSpec`), ``solutions``
    (custom models behind a campaign, as a custom use case), or both.
    """

    dataset_group: Literal["per_run", "long_lived"] = "per_run"
    role_arn: Annotated[str, Field(pattern=r"^arn:aws[a-z\-]*:iam::\d{12}:role/[\w+=,.@/\-]+$")]
    solutions: list[SolutionSpec] = []
    recommenders: list[RecommenderSpec] = []
    poll_seconds: Annotated[int, Field(ge=1, le=3600)] = 60
    retries: Annotated[int, Field(ge=0, le=10)] = 2
    retry_delay_seconds: Annotated[int, Field(ge=1)] = 60

    @model_validator(mode="after")
    def _consistent(self) -> TrainingSpec:
        if not self.solutions and not self.recommenders:
            raise ValueError("list at least one of solutions or recommenders (a domain use case)")
        names = [s.name for s in self.solutions] + [r.name for r in self.recommenders]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"solution and recommender names must be unique; repeated: {repeated}")
        if "champion" in names:
            raise ValueError(
                "'champion' names the serving model in evaluations; give the solution another name"
            )
        if self.dataset_group == "per_run":
            updating = [s.name for s in self.solutions if s.training_mode == "UPDATE"]
            if updating:
                raise ValueError(
                    f"solutions {updating}: training_mode UPDATE needs an earlier version of the same "
                    "solution, so it needs dataset_group: long_lived"
                )
        return self


class EvaluationSpec(_Strict):
    """The holdout evaluation and the promotion gate.

    ``champion_recommender``: in a use case with recommenders, the one the gate judges (real-time
    GetRecommendations for the sampled holdout users, paced under its requests per second); by default the
    first one whose recipe names a user (top picks, recommended for you) or the popular ones. When it
    earns it, all of the run's recommenders serve together.
    """

    metric: Literal[EVALUATION_METRICS] = "ndcg_at_10"  # type: ignore[valid-type]
    min_relative_lift: Annotated[float, Field(ge=0, le=10)] = 0.0
    max_users: Annotated[int, Field(ge=1, le=1_000_000)] = 1000
    event_types: list[str] | None = None
    num_results: Annotated[int, Field(ge=MIN_NUM_RESULTS, le=MAX_NUM_RESULTS)] = 25
    max_missing_fraction: Annotated[float, Field(ge=0, le=1)] = 0.1
    seed: int = 0
    champion_recommender: str | None = None


class ExperimentSpec(_Strict):
    """``<use_case>__experiment``: the grid of training windows × per-user caps (× the solutions) that the
    retraining trade-off compares, every variant scored on the same holdout; the DAG's params default to
    these values.

    ``caps``: ``max_recent_events_per_user`` values, ``null`` for no cap. ``cadence_weeks``: training
    windows ending this many weeks before the holdout (how fast a model decays), each at the widest
    window and no cap. ``solutions``: names of ``training.solutions`` (default: all of them).
    ``tolerance``: the recommendation is the cheapest variant within this relative distance of the best.
    """

    windows: Annotated[list[Annotated[int, Field(ge=1, le=36)]], Field(min_length=1)] = [3, 6, 12]
    caps: Annotated[list[Annotated[int, Field(ge=1)] | None], Field(min_length=1)] = [None, 50, 20]
    cadence_weeks: list[Annotated[int, Field(ge=0, le=52)]] = [0, 1, 2, 4]
    solutions: list[str] | None = None
    metric: Literal[EVALUATION_METRICS] = "ndcg_at_10"  # type: ignore[valid-type]
    tolerance: Annotated[float, Field(ge=0, le=1)] = 0.02
    keep_resources: bool = False
    bootstrap_samples: Annotated[int, Field(ge=100, le=100_000)] = 1000

    @model_validator(mode="after")
    def _distinct(self) -> ExperimentSpec:
        for name, values in (
            ("windows", self.windows),
            ("caps", self.caps),
            ("cadence_weeks", self.cadence_weeks),
        ):
            if len(set(values)) != len(values):
                raise ValueError(f"experiment.{name} repeats a value: {values}")
        return self


def check_experiment(experiment: ExperimentSpec, uc: Any) -> None:
    """What an experiment asks of its use case: a training section, solutions it configures, caps that keep
    the training floor. Raises ValueError naming the field."""
    if uc.training is None:
        raise ValueError("experiment: needs a training section (its role and solutions)")
    if uc.holdout.strategy != "last_days":
        raise ValueError(
            "experiment: needs holdout.strategy last_days: a user_fraction holdout depends on each "
            "variant's window, so the variants could not share one"
        )
    known = [s.name for s in uc.training.solutions]
    unknown = [name for name in experiment.solutions or [] if name not in known]
    if unknown:
        raise ValueError(f"experiment.solutions: {unknown} are not training.solutions ({known})")
    minimum = uc.cleaning.min_interactions_per_user
    low = [cap for cap in experiment.caps if cap is not None and cap < minimum]
    if low:
        raise ValueError(
            f"experiment.caps {low} are below cleaning.min_interactions_per_user {minimum}: "
            "every user would be dropped"
        )


class CampaignSpec(_Strict):
    """The campaign that serves the champion, and the smoke test a new model must pass on it.

    ``smoke_test_filter``: a filter expression the smoke test recommends through (the one your
    application uses), created in the champion's dataset group.
    """

    min_provisioned_tps: Annotated[int, Field(ge=1)] = 1
    smoke_test_users: Annotated[int, Field(ge=1, le=100)] = 5
    smoke_test_filter: str | None = None


class UseCase(_Strict):
    """A validated use case. `name` comes from the file name."""

    _project: Any = PrivateAttr(default=None)

    name: str
    description: str = ""
    owner: str = "data-engineering"
    tags: list[str] = []
    warehouse_conn_id: str = "warehouse"
    sources: Annotated[list[SourceSpec], Field(min_length=1)]
    dataset_group: DatasetGroupSpec = DatasetGroupSpec()
    items: DatasetSpec | None = None
    users: DatasetSpec | None = None
    window: WindowSpec = WindowSpec()
    holdout: HoldoutSpec = HoldoutSpec()
    cleaning: CleaningSpec = CleaningSpec()
    quality: QualitySpec = QualitySpec()
    s3: S3Spec
    export: ExportSpec = ExportSpec()
    schedule: ScheduleSpec = ScheduleSpec()
    serving: ServingSpec | None = None
    training: TrainingSpec | None = None
    evaluation: EvaluationSpec = EvaluationSpec()
    campaign: CampaignSpec = CampaignSpec()
    experiment: ExperimentSpec | None = None

    @model_validator(mode="after")
    def _unique_source_names(self) -> UseCase:
        names = [source.name for source in self.sources]
        duplicated = {name for name in names if names.count(name) > 1}
        if duplicated:
            raise ValueError(f"source names must be unique; repeated: {sorted(duplicated)}")
        return self

    @model_validator(mode="before")
    @classmethod
    def _domain_fields_are_not_optional(cls, data: Any) -> Any:
        """A domain's required fields are exported non-null unless the YAML says otherwise (which
        :meth:`_fits_its_domain` refuses)."""
        domain = ((data.get("dataset_group") or {}) if isinstance(data, dict) else {}).get("domain")
        if domain not in domains.DOMAINS:
            return data
        data = dict(data)
        for name in ("items", "users"):
            spec = data.get(name)
            if isinstance(spec, dict) and isinstance(spec.get("fields"), list):
                data[name] = {
                    **spec,
                    "fields": [
                        {"optional": False, **field}
                        if isinstance(field, dict)
                        and field.get("name") in domains.required_fields(domain, name)
                        else field
                        for field in spec["fields"]
                    ],
                }
        return data

    @model_validator(mode="after")
    def _fits_its_domain(self) -> UseCase:
        """A domain's required and reserved fields (:mod:`personalize_pipelines.domains`)."""
        domain = self.dataset_group.domain
        if domain is None:
            return self
        datasets = {"items": self.items, "users": self.users}
        problems = [
            problem
            for name, spec in datasets.items()
            if spec is not None
            for problem in domains.domain_problems(domain, name, spec.fields)
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _recommenders_fit_the_domain(self) -> UseCase:
        """Recommender recipes of the use case's domain; a champion recommender holdout users can score."""
        recommenders = self.training.recommenders if self.training else []
        domain = self.dataset_group.domain
        problems = [
            f"training.recommenders.{r.name}: {why}"
            for r in recommenders
            if (why := domains.recipe_problem(domain, r.recipe_name))
        ]
        if recommenders and self.serving and self.serving.batch:
            problems.append(
                "serving.batch scores the champion's solution version by batch inference, which a "
                "recommender has none of: a use case with training.recommenders serves in real time"
            )
        if problems:
            raise ValueError("; ".join(problems))
        named = self.evaluation.champion_recommender
        if named is None:
            if recommenders and self.champion_recommender is None:
                raise ValueError(
                    "training.recommenders: every recipe recommends items like an item, so holdout users "
                    "can score none; add one whose recipe names a user (e.g. aws-vod-top-picks)"
                )
            return self
        chosen = next((r for r in recommenders if r.name == named), None)
        if chosen is None:
            raise ValueError(
                f"evaluation.champion_recommender {named!r} is not one of training.recommenders "
                f"({[r.name for r in recommenders]})"
            )
        if not domains.scored_by_user(domain, chosen.recipe_name):
            raise ValueError(
                f"evaluation.champion_recommender {named!r}: {chosen.recipe_name} recommends items like an "
                "item, so holdout users cannot score it; choose a recommender whose recipe names a user"
            )
        return self

    @property
    def champion_recommender(self) -> RecommenderSpec | None:
        """The recommender the gate judges (``evaluation.champion_recommender``, else the first one holdout
        users can score); None without recommenders."""
        recommenders = self.training.recommenders if self.training else []
        named = self.evaluation.champion_recommender
        domain = self.dataset_group.domain
        return next(
            (
                r
                for r in recommenders
                if r.name == named or (named is None and domains.scored_by_user(domain, r.recipe_name))
            ),
            None,
        )

    @model_validator(mode="after")
    def _known_event_types(self) -> UseCase:
        known = set(self.event_types)
        used = [
            (f"training.solutions.{s.name}.event_type", s.event_type)
            for s in (self.training.solutions if self.training else [])
        ]
        used += [("evaluation.event_types", e) for e in self.evaluation.event_types or []]
        for where, event_type in used:
            if event_type is not None and event_type not in known:
                raise ValueError(
                    f"{where}: {event_type!r} is not an EVENT_TYPE the sources produce ({sorted(known)})"
                )
        return self

    @model_validator(mode="after")
    def _attributes_need_items(self) -> UseCase:
        segments = self.serving.segments if self.serving else None
        if segments and segments.by_attributes and not (self.items and self.items.fields):
            raise ValueError(
                "serving.segments: aws-item-attribute-affinity queries item attributes, so the use case needs "
                "an items dataset with fields (items.sql, items.fields)"
            )
        return self

    @model_validator(mode="after")
    def _experiment_fits(self) -> UseCase:
        if self.experiment is not None:
            check_experiment(self.experiment, self)
        return self

    @property
    def event_types(self) -> list[str]:
        return sorted({target for source in self.sources for target in source.event_types.values()})

    @property
    def s3_prefix(self) -> str:
        """The use case's folder in its bucket, `<s3.prefix>/<name>`: versions, registry, batch, events."""
        return f"{self.s3.prefix}/{self.name}" if self.s3.prefix else self.name

    def bind_project(self, project: Project) -> None:
        self._project = project

    @property
    def project(self) -> Project:
        """The project this use case was loaded from: its SQL, suites and code version."""
        if self._project is None:
            raise ConfigError(
                f"use case {self.name!r} was loaded from a file, not from a project "
                "(personalize_pipelines.project.Project), so its SQL and suites cannot be found"
            )
        return self._project

    @property
    def has_event_value(self) -> bool:
        return any(source.event_value for source in self.sources)


def _format_errors(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        lines.append(f"  {where}: {error['msg']}")
    return "\n".join(lines)


def load_use_case(path: Path, *, sql_root: Path | None = None) -> UseCase:
    """Read and validate one use-case YAML; SQL files are checked to exist under sql_root."""
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(), Loader=SafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, got {type(raw).__name__}")
    raw = {"name": path.stem, **raw}
    try:
        use_case = UseCase.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: invalid use-case config\n{_format_errors(exc)}") from None
    if sql_root is not None:
        _check_sql_files(path, use_case, sql_root)
    return use_case


def _serving_sql_files(serving: ServingSpec | None) -> list[tuple[str, str]]:
    if serving is None:
        return []
    files = []
    if serving.batch:
        files.append(("serving.batch.users_sql", serving.batch.users_sql))
        if serving.batch.related_items:
            files.append(("serving.batch.related_items.items_sql", serving.batch.related_items.items_sql))
        if serving.batch.ranking:
            files.append(("serving.batch.ranking.candidates_sql", serving.batch.ranking.candidates_sql))
    if serving.events:
        files.append(("serving.events.sql", serving.events.sql))
    if serving.segments:
        files.append(("serving.segments.query", serving.segments.query))
    return files


def _check_sql_files(path: Path, use_case: UseCase, sql_root: Path) -> None:
    referenced = [(f"sources.{s.name}.sql", s.sql) for s in use_case.sources]
    referenced += [
        (f"{kind}.sql", spec.sql)
        for kind, spec in (("items", use_case.items), ("users", use_case.users))
        if spec
    ]
    referenced += _serving_sql_files(use_case.serving)
    for field, relative in referenced:
        if not (sql_root / relative).is_file():
            raise ConfigError(f"{path}: {field}: SQL file {relative!r} not found under {sql_root}")


def discover_use_cases(config_dir: Path, *, sql_root: Path | None = None) -> list[UseCase]:
    """Every use case in a folder, sorted by name. One bad file raises for that file."""
    return [load_use_case(p, sql_root=sql_root) for p in sorted(Path(config_dir).glob("*.yaml"))]
