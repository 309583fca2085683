"""DEPLOY.md's claims that this repository can check: the Helm values run stack/Dockerfile's image as that
image lays the project out, with every connection and the AWS role where AWS is called; the MWAA section's
floor is an Airflow botocore's MWAA model offers today."""

from __future__ import annotations

import re
import tomllib

import botocore.session
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

from tests.conftest import EXAMPLE, ROOT

VALUES = yaml.safe_load((ROOT / "stack" / "helm" / "values.yaml").read_text())
DOCKERFILE = (ROOT / "stack" / "Dockerfile").read_text()
GUIDE = (ROOT / "DEPLOY.md").read_text()
ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"


def image_project_dir() -> str:
    (project_dir,) = re.findall(r"^ENV AIRFLOW__PERSONALIZE__PROJECT_DIR=(\S+)", DOCKERFILE, re.M)
    return project_dir


def image_folders() -> set[str]:
    return set(re.findall(r"^COPY \S+ \S+ (\S+)$", DOCKERFILE, re.M))


def test_the_values_point_at_the_project_the_image_holds():
    project_dir = image_project_dir()
    assert VALUES["config"]["personalize"]["project_dir"] == project_dir
    assert VALUES["dags"]["mountPath"] == f"{project_dir}/dags" in image_folders()
    assert VALUES["config"]["core"]["plugins_folder"] == f"{project_dir}/plugins" in image_folders()
    assert f"{project_dir}/include" in image_folders()
    assert not VALUES["dags"]["gitSync"]["enabled"] and not VALUES["dags"]["persistence"]["enabled"]


def test_every_connection_a_use_case_reads_comes_from_a_secret():
    needed = {uc.s3.conn_id for uc in EXAMPLE.use_cases()} | {
        uc.warehouse_conn_id for uc in EXAMPLE.use_cases()
    }
    from_secrets = {entry["envName"] for entry in VALUES["secret"]}
    assert {f"AIRFLOW_CONN_{conn_id.upper()}" for conn_id in needed} <= from_secrets


def test_every_component_that_calls_aws_has_the_role_and_the_triggerer_runs():
    assert VALUES["triggerer"]["enabled"] is True
    roles = {
        component: VALUES[component]["serviceAccount"]["annotations"].get(ROLE_ANNOTATION)
        for component in ("workers", "triggerer", "apiServer")
    }
    assert None not in roles.values() and len(set(roles.values())) == 1, roles


def test_mwaa_offers_an_airflow_the_integration_supports():
    """The MWAA section's claim: the floor is at most the newest Airflow botocore's MWAA model offers."""
    model = botocore.session.get_session().get_service_model("mwaa")
    doc = model.shape_for("CreateEnvironmentInput").members["AirflowVersion"].documentation
    offered = max((Version(v) for v in re.findall(r"<code>([\d.]+)</code>", doc)), default=None)
    assert offered, doc
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (airflow,) = [r for r in map(Requirement, dependencies) if r.name == "apache-airflow"]
    (floor,) = [Version(spec.version) for spec in airflow.specifier if spec.operator == ">="]
    assert floor <= offered, f"the floor {floor} is above MWAA's newest Airflow {offered}"
    assert offered in airflow.specifier, f"MWAA's newest Airflow {offered} is excluded by {airflow.specifier}"
    assert f"up to **{offered}**" in GUIDE
