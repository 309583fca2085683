"""DAG files, and the flows they build (personalize_airflow.flows), are declarations of a flow: they import the
Airflow SDK, the integration and the standard library, never the domain core, the emulator or a heavy library
(a type named under ``if TYPE_CHECKING:`` is not an import) (the rest of the walls: pyproject's
import-linter contracts, run by `make lint`)."""

from __future__ import annotations

import ast
import sys

import pytest

from tests.conftest import ROOT
from tests.dags.test_integrity import DAG_FILES

FLOW_MODULES = sorted((ROOT / "src" / "personalize_airflow" / "flows").glob("*.py"))

ALLOWED = {"airflow.sdk", "personalize_airflow"}


def imported_modules(source: str) -> set[str]:
    modules = set()
    for node in walk_at_runtime(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module != "__future__":
            modules.add(node.module)
    return modules


def walk_at_runtime(node: ast.AST):
    """Every node but those under ``if TYPE_CHECKING:``."""
    yield node
    for child in ast.iter_child_nodes(node):
        if not (isinstance(child, ast.If) and ast.unparse(child.test) == "TYPE_CHECKING"):
            yield from walk_at_runtime(child)


def allowed(module: str) -> bool:
    top = module.split(".")[0]
    return top in sys.stdlib_module_names or any(
        module == root or module.startswith(f"{root}.") for root in ALLOWED
    )


@pytest.mark.parametrize("dag_file", DAG_FILES + FLOW_MODULES, ids=lambda p: p.name)
def test_dag_file_imports_only_the_sdk_and_the_integration(dag_file):
    forbidden = sorted(m for m in imported_modules(dag_file.read_text()) if not allowed(m))
    assert forbidden == [], f"{dag_file.name} imports {forbidden}"


def test_the_check_sees_a_core_import():
    assert not allowed("personalize_pipelines.windows")
    assert not allowed("airflow.providers.amazon.aws.hooks.s3")
    assert allowed("airflow.sdk") and allowed("personalize_airflow.operators.personalize")
    assert allowed("datetime")
    hinted = "if TYPE_CHECKING:\n    from personalize_pipelines.config import UseCase\nimport json\n"
    assert imported_modules(hinted) == {"json"}
    assert imported_modules("from personalize_pipelines.windows import parse_instant") == {
        "personalize_pipelines.windows"
    }
