"""Every DAG file imports cleanly, every DAG is documented and owned, and DAG files stay light."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import DAG_FILE, ROOT

HEAVY = ["pandas", "numpy", "pyarrow", "duckdb", "great_expectations", "scipy"]
DAG_FILES = sorted(p for p in (ROOT / "dags").glob("*.py") if not p.name.startswith("_"))


@pytest.fixture(scope="module")
def dagbag():
    from tests.airflow_compat import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_every_use_case_has_an_export_dag(dagbag):
    from personalize_airflow.use_cases import all_use_cases

    for uc in all_use_cases():
        assert f"{uc.name}__export" in dagbag.dag_ids


def test_every_dag_has_owner_tags_retries_and_docs(dagbag):
    assert dagbag.dags
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, dag_id
        assert dag.doc_md and len(dag.doc_md) > 80, dag_id
        for task in dag.tasks:
            assert task.owner and task.owner != "airflow", f"{dag_id}.{task.task_id} has no owner"
            assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_pulls_in_no_heavy_library(dag_file):
    code = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('dagfile', {str(dag_file)!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_a_bad_use_case_file_names_file_and_field(tmp_path):
    from personalize_pipelines.config import ConfigError, load_use_case

    bad = tmp_path / "broken.yaml"
    bad.write_text((ROOT / "include/config/shop.yaml").read_text().replace("months: 6", "months: 5"))
    with pytest.raises(ConfigError, match=r"(?s)broken\.yaml.*window\.months: Input should be 3, 6 or 12"):
        load_use_case(bad)


def bag_of_project_with_a_broken_use_case(tmp_path, dag_files: dict[str, str]) -> tuple[dict, list[str]]:
    """The import errors (by file name) and dag ids of a copy of the example project with a second use
    case, broken.yaml, whose bucket name is invalid; ``dag_files`` are its DAG files."""
    import shutil

    shutil.copytree(ROOT / "include", tmp_path / "include")
    (tmp_path / "include/config/broken.yaml").write_text(
        (ROOT / "include/config/shop.yaml")
        .read_text()
        .replace("bucket: personalize-demo", "bucket: Not_A_Bucket")
    )
    (tmp_path / "dags").mkdir()
    for name, source in dag_files.items():
        (tmp_path / "dags" / name).write_text(source)
    code = (
        "import json, os\n"
        "try:\n"
        "    from airflow.dag_processing.dagbag import DagBag\n"
        "except ImportError:\n"
        "    from airflow.models.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={str(tmp_path / 'dags')!r})\n"
        "errors = {os.path.basename(path): error for path, error in bag.import_errors.items()}\n"
        "print(json.dumps([errors, sorted(bag.dag_ids)]))\n"
    )
    env = {**os.environ, "AIRFLOW__PERSONALIZE__PROJECT_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    errors, dag_ids = json.loads(out.stdout.strip().splitlines()[-1])
    return errors, dag_ids


def test_a_bad_use_case_is_its_own_dag_files_import_error_and_the_others_still_load(tmp_path):
    shop = DAG_FILE.read_text()
    errors, dag_ids = bag_of_project_with_a_broken_use_case(
        tmp_path, {"shop.py": shop, "broken.py": shop.replace('build_dags("shop")', 'build_dags("broken")')}
    )
    assert list(errors) == ["broken.py"]
    assert "broken.yaml" in errors["broken.py"] and "s3.bucket" in errors["broken.py"]
    assert {"shop__export", "shop__train", "shop__batch", "shop__events", "shop__cleanup"} <= set(dag_ids)
    assert not [d for d in dag_ids if d.startswith("broken__")]


def test_one_file_for_every_use_case_is_one_import_error_naming_the_bad_file(tmp_path):
    one_file = "from personalize_airflow.flows import build_dags\n\nglobals().update(build_dags())\n"
    errors, dag_ids = bag_of_project_with_a_broken_use_case(tmp_path, {"personalize.py": one_file})
    assert list(errors) == ["personalize.py"]
    assert "broken.yaml" in errors["personalize.py"] and "s3.bucket" in errors["personalize.py"]
    assert dag_ids == []


def test_retry_delay_is_each_dags_default_unless_personalize_retry_delay_seconds_is_set(monkeypatch):
    """A test stack sets [personalize] retry_delay_seconds so a killed task's retry starts in seconds."""
    from personalize_airflow.use_cases import use_case
    from tests.airflow_compat import DagBag

    def delays() -> dict[str, set[float]]:
        bag = DagBag(dag_folder=str(ROOT / "dags"))
        assert bag.import_errors == {}
        return {
            dag_id: {t.retry_delay.total_seconds() for t in dag.tasks} for dag_id, dag in bag.dags.items()
        }

    monkeypatch.delenv("AIRFLOW__PERSONALIZE__RETRY_DELAY_SECONDS", raising=False)
    default = delays()
    assert default["shop__export"] == default["shop__batch"] == default["shop__cleanup"] == {60}
    assert default["shop__train"] == {use_case("shop").training.retry_delay_seconds}

    monkeypatch.setenv("AIRFLOW__PERSONALIZE__RETRY_DELAY_SECONDS", "3")
    assert set().union(*delays().values()) == {3}
