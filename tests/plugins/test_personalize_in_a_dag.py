"""The operators inside a real DAG run (dag.test): templated names, deferrals through the triggerer path, XCom."""

from __future__ import annotations

import json

from airflow.sdk import DAG

from personalize_airflow.links.personalize import PersonalizeDatasetGroupLink
from personalize_airflow.operators.personalize import (
    PersonalizeCreateDatasetGroupOperator,
    PersonalizeCreateDatasetImportJobOperator,
    PersonalizeCreateDatasetOperator,
    PersonalizeCreateSchemaOperator,
    PersonalizeCreateSolutionOperator,
    PersonalizeCreateSolutionVersionOperator,
)
from personalize_airflow.sensors.personalize import PersonalizeSolutionVersionSensor
from tests.plugins.conftest import INTERACTIONS_SCHEMA, RECIPE, ROLE, interactions_csv, unique

FAST = {"waiter_delay": 1, "waiter_max_attempts": 60}
LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"


def build_dag(dag_id: str, data_location: str) -> DAG:
    with DAG(dag_id=dag_id, schedule=None, catchup=False) as dag:
        name = "{{ dag.dag_id }}"
        group = PersonalizeCreateDatasetGroupOperator(task_id="dataset_group", name=name, **FAST)
        schema = PersonalizeCreateSchemaOperator(task_id="schema", name=name, schema=INTERACTIONS_SCHEMA)
        dataset = PersonalizeCreateDatasetOperator(
            task_id="dataset",
            name=name,
            dataset_group_arn=group.output,
            schema_arn=schema.output,
            dataset_type="Interactions",
            **FAST,
        )
        imported = PersonalizeCreateDatasetImportJobOperator(
            task_id="import",
            job_name=name + "-{{ ti.try_number }}-import",
            dataset_arn=dataset.output,
            data_location=data_location,
            role_arn=ROLE,
            **FAST,
        )
        solution = PersonalizeCreateSolutionOperator(
            task_id="solution", name=name, dataset_group_arn=group.output, recipe_arn=RECIPE, **FAST
        )
        version = PersonalizeCreateSolutionVersionOperator(
            task_id="train", solution_arn=solution.output, wait_for_completion=False
        )
        sensed = PersonalizeSolutionVersionSensor(
            task_id="trained", solution_version_arn=version.output, poke_interval=1
        )
        imported >> solution
        version >> sensed
    return dag


def test_a_dag_creates_imports_and_trains_with_deferred_waits(
    aws_default, airflow_db, clients, bucket, tmp_path, monkeypatch
):
    key = f"{unique('dag')}/interactions.csv"
    clients["s3"].put_object(Bucket=bucket, Key=key, Body=interactions_csv().encode())
    dag_id = unique("personalize_dag").replace("-", "_")
    # dag.test() runs what the DAG bundle holds: give it a folder with just this DAG.
    (tmp_path / f"{dag_id}.py").write_text(
        "from tests.plugins.test_personalize_in_a_dag import build_dag\n"
        f"dag = build_dag({dag_id!r}, {f's3://{bucket}/{key}'!r})\n"
    )
    bundles = [
        {"name": "personalize-plugin-tests", "classpath": LOCAL_BUNDLE, "kwargs": {"path": str(tmp_path)}},
        {"name": "dags-folder", "classpath": LOCAL_BUNDLE, "kwargs": {}},
    ]
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps(bundles))
    dag = build_dag(dag_id, f"s3://{bucket}/{key}")

    run = dag.test()

    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert set(states.values()) == {"success"}, states
    p = clients["personalize"]
    [group] = [g for g in p.list_dataset_groups()["datasetGroups"] if g["name"] == dag_id]
    assert group["status"] == "ACTIVE"
    [dataset] = p.list_datasets(datasetGroupArn=group["datasetGroupArn"])["datasets"]
    [job] = p.list_dataset_import_jobs(datasetArn=dataset["datasetArn"])["datasetImportJobs"]
    assert (job["jobName"], job["status"]) == (f"{dag_id}-1-import", "ACTIVE")
    [solution] = p.list_solutions(datasetGroupArn=group["datasetGroupArn"])["solutions"]
    [version] = p.list_solution_versions(solutionArn=solution["solutionArn"])["solutionVersions"]
    assert version["status"] == "ACTIVE"

    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        [link] = session.scalars(
            XComModel.get_many(
                run_id=run.run_id,
                key=PersonalizeDatasetGroupLink.key,
                dag_ids=dag_id,
                task_ids="dataset_group",
            )
        ).all()
        url = PersonalizeDatasetGroupLink().format_link(**XComModel.deserialize_value(link))
    assert url.endswith("#" + group["datasetGroupArn"].replace("/", "$", 1) + "/setup")
