"""DAG files are declarations of a flow: they import the Airflow SDK, the integration and the standard
library, never the domain core, the emulator or a heavy library (the rest of the walls: pyproject's
import-linter contracts, run by `make lint`)."""

from __future__ import annotations

import ast
import sys

import pytest

from tests.dags.test_integrity import DAG_FILES

ALLOWED = {"airflow.sdk", "personalize_airflow"}


def imported_modules(source: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module != "__future__":
            modules.add(node.module)
    return modules


def allowed(module: str) -> bool:
    top = module.split(".")[0]
    return top in sys.stdlib_module_names or any(
        module == root or module.startswith(f"{root}.") for root in ALLOWED
    )


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_imports_only_the_sdk_and_the_integration(dag_file):
    forbidden = sorted(m for m in imported_modules(dag_file.read_text()) if not allowed(m))
    assert forbidden == [], f"{dag_file.name} imports {forbidden}"


def test_the_check_sees_a_core_import():
    assert not allowed("personalize_pipelines.windows")
    assert not allowed("airflow.providers.amazon.aws.hooks.s3")
    assert allowed("airflow.sdk") and allowed("personalize_airflow.operators.personalize")
    assert allowed("datetime")
    assert imported_modules("from personalize_pipelines.windows import parse_instant") == {
        "personalize_pipelines.windows"
    }
