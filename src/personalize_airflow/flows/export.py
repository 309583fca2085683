"""<use_case>__export: warehouse → cleaned, validated, versioned S3 export, one DAG per include/config/*.yaml."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.sdk import DAG

from personalize_airflow.export_tasks import drop_staging, extract_and_clean, publish, validate
from personalize_airflow.flows.common import use_case_dag
from personalize_airflow.use_cases import export_asset

if TYPE_CHECKING:
    from personalize_pipelines.config import UseCase

DOC = """
### {name}: export to Amazon Personalize
{description}

1. **extract_and_clean** — each source's SQL (include/sql) for the {months}-month window ending at the
   logical date, cleaned in the warehouse; every dropped or changed row counted by rule.
2. **validate** — GX suites from include/expectations: source quality warns, the Personalize contract
   fails the run before anything is published.
3. **publish** — `s3://{bucket}/{prefix}/<version>/`: interactions, items, users, holdout CSV parts,
   Avro schemas, validation report, then `manifest.json`, then `latest.json`; updates the Asset
   `{name}__export` with the version URI for the training DAG.
4. **drop_staging** — removes this run's staged tables, whatever happened.

Backfill past windows with `airflow backfill create --dag-id {name}__export --from-date … --to-date …`.
"""


def build(uc: UseCase) -> DAG:
    with use_case_dag(
        uc,
        "export",
        schedule=uc.schedule.export,
        doc_md=DOC.format(
            name=uc.name,
            description=uc.description,
            months=uc.window.months,
            bucket=uc.s3.bucket,
            prefix=f"{uc.s3.prefix}/{uc.name}",
        ),
    ) as dag:
        staged = extract_and_clean(uc.name)
        checked = validate(uc.name, staged)
        published = publish.override(outlets=[export_asset(uc)])(uc.name, staged, checked)
        published >> drop_staging(uc.name, staged).as_teardown(setups=staged)
    return dag
