"""The locked environment imports together (the traps: GX 0.18, numpy 1.26 with pyarrow 26)."""

import importlib

import pytest


@pytest.mark.parametrize(
    ("module", "major"),
    [
        ("airflow", "3.3"),
        ("airflow.providers.amazon", "9."),
        ("great_expectations", "1."),
        ("pandas", "3."),
        ("pyarrow", "26."),
        ("duckdb", "2."),
        ("moto", "5."),
        ("numpy", "2."),
        ("implicit", "0.7"),
        ("pydantic", "2."),
    ],
)
def test_key_package_imports_at_locked_version(module, major):
    mod = importlib.import_module(module)
    version = getattr(mod, "__version__", None)
    if version is None:
        from importlib.metadata import version as dist_version

        version = dist_version("apache-airflow-providers-amazon")
    assert version.startswith(major), f"{module} {version} is not {major}x"


def test_pyarrow_and_numpy_work_together():
    import numpy as np
    import pyarrow as pa

    arr = pa.array(np.arange(5))
    assert arr.to_numpy().sum() == 10
