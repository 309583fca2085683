"""<use_case>__trending: an aws-trending-now solution beside the champion, its campaign, and what trends now
in a warehouse table, one DAG per use case with a serving.trending section."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.sdk import DAG

from personalize_airflow.flows.common import retrained_solution_version, serving_waits, use_case_dag
from personalize_airflow.operators.personalize import PersonalizeCreateOrUpdateCampaignOperator
from personalize_airflow.trending_tasks import load_trending, plan
from personalize_airflow.use_cases import use_case_layout

if TYPE_CHECKING:
    from personalize_pipelines.config import UseCase

DOC = """
### {name}: what trends now
Trending-Now gives no batch recommendations, so it serves beside the champion, not as a challenger.

1. **plan** — the champion's dataset group from the registry (`{champion}`; skipped before the first
   promotion) and this run's names: the solution of that group, the version of this {hours}-hour retrain
   period, the campaign `{name}-trending`.
2. **solution → solution_version** — aws-trending-now (trend discovery every {frequency}); the version is
   named after its period, so only the first run of a period trains (deferred wait) and the others find it.
3. **campaign** — `{name}-trending` created, or updated to the period's version (min TPS {tps}); the
   ARN applications call stays the same across promotions.
4. **load_trending** — GetRecommendations on the campaign: its {results} items into `{table}` (list_name,
   rank, item_id, score, solution_version, generated_at), the list replaced whole in one transaction.
"""


def build(uc: UseCase) -> DAG | None:
    if uc.serving is None or uc.serving.trending is None:
        return None
    spec = uc.serving.trending
    layout = use_case_layout(uc)
    waits = serving_waits(uc)
    with use_case_dag(
        uc,
        "trending",
        schedule=spec.schedule,
        doc_md=DOC.format(
            name=uc.name,
            champion=layout.uri(layout.registry.champion_key),
            hours=spec.retrain_hours,
            frequency=spec.trend_discovery_frequency,
            tps=spec.min_provisioned_tps,
            results=spec.num_results,
            table=spec.table,
        ),
    ) as dag:
        planned = plan(use_case_name=uc.name)
        version = retrained_solution_version(planned, solution_config=planned["solution_config"], **waits)
        campaign = PersonalizeCreateOrUpdateCampaignOperator(
            task_id="campaign",
            name=planned["campaign"],
            solution_version_arn=version.output,
            min_provisioned_tps=spec.min_provisioned_tps,
            **waits,
        )
        load_trending(
            use_case_name=uc.name, campaign_arn=campaign.output, solution_version_arn=version.output
        )
    return dag
