"""Benchmark-only DAGs for bench/waiting.py: one Personalize training, waited for two ways.

`bench_waiting__deferrable`: dataset group → schema → dataset → import → solution → solution version,
whose wait for training is deferred to the triggerer (the operators' default).
`bench_waiting__poke`: the same chain, the solution version created without waiting, then a
PersonalizeSolutionVersionSensor in poke mode (deferrable=False) that holds a worker slot until done.
Both check the status every `POLL_SECONDS`. The run's conf gives the resource names and the data.
"""

from datetime import datetime

from airflow.sdk import DAG, Param

from personalize_airflow.operators.personalize import (
    PersonalizeCreateDatasetGroupOperator,
    PersonalizeCreateDatasetImportJobOperator,
    PersonalizeCreateDatasetOperator,
    PersonalizeCreateSchemaOperator,
    PersonalizeCreateSolutionOperator,
    PersonalizeCreateSolutionVersionOperator,
)
from personalize_airflow.sensors.personalize import PersonalizeSolutionVersionSensor

POLL_SECONDS = 5
ROLE_ARN = "arn:aws:iam::123456789012:role/personalize-bench"
RECIPE_ARN = "arn:aws:personalize:::recipe/aws-user-personalization"
INTERACTIONS_SCHEMA = {
    "type": "record",
    "name": "Interactions",
    "namespace": "com.amazonaws.personalize.schema",
    "fields": [
        {"name": "USER_ID", "type": "string"},
        {"name": "ITEM_ID", "type": "string"},
        {"name": "TIMESTAMP", "type": "long"},
    ],
    "version": "1.0",
}
NAME = "{{ params.name }}"
WAITS = {"waiter_delay": POLL_SECONDS, "waiter_max_attempts": 720}

for variant in ("deferrable", "poke"):
    with DAG(
        dag_id=f"bench_waiting__{variant}",
        schedule=None,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        params={
            "name": Param("bench", type="string", description="prefix of every resource name"),
            "data_location": Param("s3://bench-waiting/interactions.csv", type="string"),
        },
        tags=["bench"],
    ) as dag:
        group = PersonalizeCreateDatasetGroupOperator(task_id="dataset_group", name=f"{NAME}-group", **WAITS)
        schema = PersonalizeCreateSchemaOperator(
            task_id="schema", name=f"{NAME}-schema", schema=INTERACTIONS_SCHEMA
        )
        dataset = PersonalizeCreateDatasetOperator(
            task_id="dataset",
            name=f"{NAME}-interactions",
            dataset_group_arn=group.output,
            schema_arn=schema.output,
            dataset_type="Interactions",
            **WAITS,
        )
        imported = PersonalizeCreateDatasetImportJobOperator(
            task_id="import",
            job_name=f"{NAME}-import",
            dataset_arn=dataset.output,
            data_location="{{ params.data_location }}",
            role_arn=ROLE_ARN,
            import_mode="FULL",
            **WAITS,
        )
        solution = PersonalizeCreateSolutionOperator(
            task_id="solution",
            name=f"{NAME}-solution",
            dataset_group_arn=group.output,
            recipe_arn=RECIPE_ARN,
            **WAITS,
        )
        imported >> solution
        if variant == "deferrable":
            PersonalizeCreateSolutionVersionOperator(
                task_id="solution_version", solution_arn=solution.output, deferrable=True, **WAITS
            )
        else:
            version = PersonalizeCreateSolutionVersionOperator(
                task_id="solution_version", solution_arn=solution.output, wait_for_completion=False
            )
            PersonalizeSolutionVersionSensor(
                task_id="wait_for_training",
                solution_version_arn=version.output,
                mode="poke",
                deferrable=False,
                poke_interval=POLL_SECONDS,
                timeout=3600,
            )
    globals()[dag.dag_id] = dag
