"""docker-compose.yaml stays valid: a real compose implementation's `config` parses and resolves it."""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml

from tests.conftest import IN_CI, ROOT
from tests.system.compose import compose_command

AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
}


def resolved(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    command = compose_command()
    if command is None:
        reason = "no compose implementation (`docker compose` or Debian's docker-compose) is installed"
        if IN_CI:
            pytest.fail(f"{reason}; .ci/run installs docker-compose")
        pytest.skip(f"{reason}; apt-get install docker-compose")
    return subprocess.run(
        [*command, "-f", str(ROOT / "docker-compose.yaml"), *args, "config"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "AIRFLOW_JWT_SECRET": "compose-test-secret", **(env or {})},
    )


@pytest.fixture(scope="module")
def config() -> dict:
    result = resolved("--profile", "warehouse")
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_the_stack_has_every_component(config):
    assert set(config["services"]) == AIRFLOW_SERVICES | {
        "postgres",
        "redis",
        "personalize-local",
        "warehouse",
    }
    commands = {name: " ".join(config["services"][name]["command"]) for name in AIRFLOW_SERVICES}
    assert commands["airflow-apiserver"].startswith("airflow api-server")
    assert commands["airflow-scheduler"] == "airflow scheduler"
    assert commands["airflow-dag-processor"] == "airflow dag-processor"
    assert commands["airflow-triggerer"] == "airflow triggerer"
    assert commands["airflow-worker"] == "airflow celery worker"
    assert "compose-init.sh" in commands["airflow-init"]
    assert config["services"]["personalize-local"]["command"][:3] == ["python", "-m", "personalize_local.cli"]


def test_the_warehouse_is_an_optional_profile(config):
    assert config["services"]["warehouse"]["profiles"] == ["warehouse"]
    assert not any(
        config["services"][name].get("profiles") for name in config["services"] if name != "warehouse"
    )


def test_every_airflow_component_shares_one_metadata_db_broker_and_secret(config):
    envs = [config["services"][name]["environment"] for name in AIRFLOW_SERVICES]
    for key in (
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__CELERY__BROKER_URL",
        "AIRFLOW__CORE__EXECUTOR",
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    ):
        assert len({env[key] for env in envs}) == 1, key
    env = envs[0]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].split("@")[1].startswith("postgres/")
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:6379/")
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].startswith("http://airflow-apiserver:8080/")
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == "compose-test-secret"


def test_airflow_waits_for_its_databases_and_the_init(config):
    for name in AIRFLOW_SERVICES - {"airflow-init"}:
        depends = config["services"][name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name
        assert depends["airflow-init"]["condition"] == "service_completed_successfully", name
    assert (
        config["services"]["airflow-worker"]["depends_on"]["airflow-apiserver"]["condition"]
        == "service_healthy"
    )


def test_ports_for_the_ui_and_the_endpoint(config):
    def published(service):
        return {int(p["published"]) for p in config["services"][service].get("ports", [])}

    assert published("airflow-apiserver") == {8080}
    assert published("personalize-local") == {4566}
    assert published("postgres") == published("redis") == published("warehouse") == set()


def test_the_endpoint_can_be_pointed_at_real_aws(config):
    """Local by default; an empty PERSONALIZE_ENDPOINT_URL (real AWS) stays empty for the init."""
    assert config["services"]["airflow-init"]["environment"]["PERSONALIZE_ENDPOINT_URL"] == (
        "http://personalize-local:4566"
    )
    result = resolved(env={"PERSONALIZE_ENDPOINT_URL": "", "AWS_DEFAULT_REGION": "eu-west-1"})
    assert result.returncode == 0, result.stderr
    env = yaml.safe_load(result.stdout)["services"]["airflow-init"]["environment"]
    assert env["PERSONALIZE_ENDPOINT_URL"] in ("", None)
    assert env["AWS_DEFAULT_REGION"] == "eu-west-1"


def test_a_missing_jwt_secret_is_a_clear_error():
    result = resolved(env={"AIRFLOW_JWT_SECRET": ""})
    assert result.returncode != 0
    assert "AIRFLOW_JWT_SECRET" in result.stderr
