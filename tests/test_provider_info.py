"""Airflow sees the integration as a provider: its metadata, links and config section come from the
``apache_airflow_provider`` entry point, so no plugin is needed for them."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

from personalize_airflow.get_provider_info import get_provider_info

OPTIONS_READ = {"project_dir", "poll_seconds", "retry_delay_seconds", "default_deferrable"}


def test_the_provider_is_registered_with_its_package_name():
    from airflow.providers_manager import ProvidersManager

    providers = ProvidersManager().providers
    assert "airflow-provider-personalize-pipelines" in providers
    info = providers["airflow-provider-personalize-pipelines"]
    assert info.data["name"] == "Amazon Personalize pipelines"


def test_every_module_and_link_it_names_imports():
    info = get_provider_info()
    for kind in ("hooks", "operators", "sensors", "triggers"):
        for entry in info[kind]:
            for module in entry["python-modules"]:
                importlib.import_module(module)
    for path in info["extra-links"]:
        module, _, name = path.rpartition(".")
        assert hasattr(importlib.import_module(module), name), path


def test_the_config_section_documents_every_option_the_code_reads():
    from tests.conftest import ROOT

    options = get_provider_info()["config"]["personalize"]["options"]
    assert set(options) == OPTIONS_READ
    assert all(option["description"] for option in options.values())
    read = subprocess.run(
        ["grep", "-rhoE", r'conf\.[a-z_]+\("personalize", "[a-z_]+"', str(ROOT / "src")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert {line.rsplit('"', 2)[-2] for line in read.splitlines()} == OPTIONS_READ


def test_airflow_lists_the_config_section():
    out = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "airflow"),
            "config",
            "list",
            "--section",
            "personalize",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for option in OPTIONS_READ:
        assert f"{option} =" in out
