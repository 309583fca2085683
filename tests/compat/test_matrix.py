"""The compatibility matrix: the integration's wheel installed into a team's own Airflow, the oldest supported
and today's lock, each in a fresh virtualenv, running the example project as a user's repository.

Per line: a venv with only Airflow and the Amazon provider (the team's Airflow); the integration's wheel
installed into it leaves both as they were and brings none of the emulator's packages; a project folder of
its own (a copy of this repository's ``dags/`` and ``include/``) found through ``[personalize] project_dir``
parses without import errors and the provider is listed; then, with personalize-local's wheel added for
the run, ``airflow dags test`` runs ``shop__export`` and ``shop__train`` and the champion is deployed.
Everything runs in subprocesses of the venv (so no AWS call is recorded for the policy coverage).
"""

from __future__ import annotations

import json
import re
import shutil
import sys

import boto3
import pytest

from personalize_pipelines.layout import UseCaseLayout
from personalize_pipelines.project import Project
from personalize_pipelines.registry import read_champion
from stack.demo import WINDOW_END, connections
from tests.compat.environments import (
    AIRFLOW_DISTRIBUTIONS,
    AirflowLine,
    Progress,
    Venv,
    clean_environment,
    json_output,
    newest,
    oldest,
)
from tests.wheels import INTEGRATION, ROOT

EMULATOR = "personalize-local"
EMULATOR_MODULES = ("moto", "implicit", "personalize_local")
FLOWS = ("export", "train", "batch", "events", "cleanup")
INTERACTIONS = 20_000  # the smallest warehouse the train tests use: the contract passes, models train
LINES = [oldest(), newest()]


@pytest.mark.parametrize("line", LINES, ids=[line.name for line in LINES])
def test_the_integration_runs_in_the_teams_airflow(line: AirflowLine, wheels, tmp_path, capsys):
    python = line.python or f"{sys.version_info.major}.{sys.version_info.minor}"
    progress = Progress(f"{line.name}: Python {python}, Airflow {line.airflow}, amazon {line.amazon}", capsys)
    project, home = tmp_path / "project", tmp_path / "airflow-home"
    project.mkdir()
    home.mkdir()
    env = clean_environment(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(project / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__PERSONALIZE__PROJECT_DIR=str(project),
        AIRFLOW__PERSONALIZE__POLL_SECONDS="1",
        AIRFLOW__PERSONALIZE__RETRY_DELAY_SECONDS="1",
        AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    venv = Venv(tmp_path / "venv", cwd=tmp_path, env=env)

    with progress.step("1. the team's Airflow (a fresh venv)"):
        venv.create(line.python)
        venv.install(*line.requirements, constraints=line.constraints)
        teams = venv.versions()
        assert (teams["apache-airflow"], teams["apache-airflow-providers-amazon"]) == (
            line.airflow,
            line.amazon,
        )

    with progress.step("2. the integration's wheel"):
        report = venv.install(INTEGRATION, constraints=line.constraints, find_links=wheels)
        after = venv.versions()
        assert INTEGRATION in after
        assert {name: after.get(name) for name in AIRFLOW_DISTRIBUTIONS} == {
            name: teams.get(name) for name in AIRFLOW_DISTRIBUTIONS
        }, report
        progress.say("changed: " + ", ".join(re.findall(r"^ ([+-] \S+)", report, re.MULTILINE)))

    with progress.step("3. none of the emulator's packages"):
        for module in EMULATOR_MODULES:
            assert not venv.imports(module), f"import {module} works in the integration's install"

    with progress.step("4. a user's project, a metadata DB"):
        for folder in ("dags", "include"):
            shutil.copytree(ROOT / folder, project / folder, ignore=shutil.ignore_patterns("__pycache__"))
        venv.airflow("db", "migrate")

    with progress.step("5. DAGs parse, the provider is listed"):
        venv.airflow("dags", "reserialize")
        assert json_output(venv.airflow("dags", "list-import-errors", "-o", "json")) == []
        listed = {dag["dag_id"] for dag in json_output(venv.airflow("dags", "list", "-o", "json"))}
        assert {f"shop__{flow}" for flow in FLOWS} <= listed, listed
        providers = json_output(venv.airflow("providers", "list", "-o", "json"))
        assert INTEGRATION in {provider["package_name"] for provider in providers}, providers

    with progress.step("6. personalize-local's wheel, the warehouse"):
        venv.install(EMULATOR, constraints=line.constraints, find_links=wheels)
        assert {name: venv.versions().get(name) for name in AIRFLOW_DISTRIBUTIONS} == {
            name: teams.get(name) for name in AIRFLOW_DISTRIBUTIONS
        }
        from personalize_pipelines.warehouse.synthetic import generate

        warehouse = tmp_path / "warehouse" / "shop.duckdb"
        warehouse.parent.mkdir()
        generate(warehouse, interactions=INTERACTIONS)

    shop = Project(project).use_case("shop")
    layout = UseCaseLayout.for_use_case(shop)
    started = venv.serving(
        "personalize-local",
        *(
            "serve",
            "--port",
            "0",
            "--state-dir",
            str(tmp_path / "personalize-local"),
            "--phase-seconds",
            "0.02",
            "--bucket",
            shop.s3.bucket,
        ),
        ready=lambda log: (m := re.search(r"serving (http://\S+)", log)) and m.group(1),
    )
    with started as endpoint:
        venv.env.update(connections(warehouse, endpoint))
        clients = {
            name: boto3.client(name, endpoint_url=endpoint, region_name="us-east-1")
            for name in ("s3", "personalize")
        }

        with progress.step("7. airflow dags test shop__export"):
            venv.airflow("dags", "test", "shop__export", WINDOW_END.date().isoformat())
            latest = json.loads(
                clients["s3"].get_object(Bucket=shop.s3.bucket, Key=layout.latest)["Body"].read()
            )
            assert latest["version"].startswith(WINDOW_END.strftime("%Y%m%d")), latest

        with progress.step("8. airflow dags test shop__train"):
            venv.airflow("dags", "test", "shop__train", "-c", json.dumps({"version": latest["version"]}))
            champion = read_champion(clients["s3"], location=layout.registry)
            assert champion is not None, "no champion in the registry after shop__train"
            assert champion.export_version == latest["version"]
            campaign = clients["personalize"].describe_campaign(campaignArn=champion.campaign_arn)["campaign"]
            assert campaign["status"] == "ACTIVE", campaign
            assert campaign["solutionVersionArn"] == champion.solution_version_arn, campaign

    progress.done()
