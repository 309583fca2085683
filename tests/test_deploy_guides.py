"""DEPLOY.md's claims that this repository can check: the Helm values run stack/Dockerfile's image as that
image lays the project out, with every connection and the AWS role where AWS is called; the MWAA section
says what botocore's MWAA model offers today."""

from __future__ import annotations

import re

import botocore.session
import yaml

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


def test_the_mwaa_section_names_the_newest_version_mwaa_offers():
    model = botocore.session.get_session().get_service_model("mwaa")
    doc = model.shape_for("CreateEnvironmentInput").members["AirflowVersion"].documentation
    offered = max(
        (tuple(int(part) for part in v.split(".")) for v in re.findall(r"<code>([\d.]+)</code>", doc)),
        default=None,
    )
    assert offered, doc
    newest = ".".join(map(str, offered))
    assert offered < (3, 3, 0), f"MWAA now offers Airflow {newest}: DEPLOY.md's MWAA section needs trying"
    assert f"up to **{newest}**" in GUIDE
