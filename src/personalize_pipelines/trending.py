"""The ``<use_case>__trending`` DAG's steps: an aws-trending-now solution beside the champion, retrained on
its own schedule, behind its own campaign, and what trends now in a warehouse table.

Trending-Now gives no batch recommendations (Personalize refuses batch inference for it), so it cannot be
a challenger of the train DAG's holdout evaluation; it serves beside the champion instead: in the champion's
dataset group (its data and the events streamed into it), as campaign ``<use_case>-trending`` (one ARN for
applications across promotions: a new champion's group gets a new solution and the campaign moves to it).

Retraining is by name (:mod:`personalize_pipelines.beside_champion`): the solution version is named after the
``retrain_hours`` period the run falls in. Between versions Personalize itself follows new interactions every
``trend_discovery_frequency``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from personalize_pipelines.beside_champion import retrained_solution
from personalize_pipelines.config import RECIPE_ARN_PREFIX, TRENDING_RECIPE
from personalize_pipelines.recommendation_cache import TRENDING, replace_rows
from personalize_pipelines.registry import Champion
from personalize_pipelines.serving import ServingError

log = logging.getLogger(__name__)

TRENDING_RECIPE_ARN = RECIPE_ARN_PREFIX + TRENDING_RECIPE
TRENDING_LIST = "trending"
"""The cache rows' ``list_name``: one list, replaced whole each run."""


def plan(use_case: Any, *, champion: Champion, moment: datetime) -> dict[str, Any]:
    """What this run serves from: the solution in the champion's group, the version of this retrain
    period, the campaign, and the solution's config.

    :param champion: the registry's champion (its dataset group holds the data trending reads).
    :param moment: the run's moment, which picks the retrain period.
    """
    spec = use_case.serving.trending
    names = retrained_solution(
        use_case.name,
        kind="trending",
        dataset_group_arn=champion.dataset_group_arn,
        moment=moment,
        hours=spec.retrain_hours,
    )
    return {
        "dataset_group_arn": champion.dataset_group_arn,
        "recipe_arn": TRENDING_RECIPE_ARN,
        "solution": names.solution,
        "solution_config": {
            "featureTransformationParameters": {"trend_discovery_frequency": spec.trend_discovery_frequency}
        },
        "solution_version": names.solution_version,
        "campaign": f"{use_case.name}-trending",
        "retrain_period": names.retrain_period,
    }


def load_trending(
    runtime_client: Any,
    *,
    use_case: Any,
    campaign_arn: str,
    solution_version_arn: str,
    moment: datetime,
    open_cache: Callable[[], tuple[Any, str, str]],
) -> dict[str, Any]:
    """What the campaign trends now into ``serving.trending.table``, replacing the list it held.

    :param open_cache: opens ``(writable connection, dialect, where)``; the connection is closed here.
    :raises ServingError: when the campaign answers no item (nothing would replace the list).
    """
    spec = use_case.serving.trending
    items = runtime_client.get_recommendations(campaignArn=campaign_arn, numResults=spec.num_results)[
        "itemList"
    ]
    if not items:
        raise ServingError(f"trending campaign {campaign_arn} answered no item; {spec.table} keeps its list")
    rows = [
        (TRENDING_LIST, rank, item["itemId"], item.get("score")) for rank, item in enumerate(items, start=1)
    ]
    connection, dialect, where = open_cache()
    try:
        written = replace_rows(
            connection,
            dialect=dialect,
            table=spec.table,
            rows=rows,
            layout=TRENDING,
            solution_version=solution_version_arn,
            generated_at=moment,
        )
    finally:
        connection.close()
    log.info("%s in %s: %d trending item(s) from %s", spec.table, where, written["inserted"], campaign_arn)
    return {**written, "table": spec.table, "items": [row[2] for row in rows], "campaign_arn": campaign_arn}
