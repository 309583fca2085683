"""The domain core runs inside Airflow tasks but never imports Airflow (or pandas) itself."""

from __future__ import annotations

import subprocess
import sys


def test_core_modules_import_without_airflow_or_pandas():
    code = (
        "import sys\n"
        "import personalize_pipelines.evaluation, personalize_pipelines.gate\n"
        "import personalize_pipelines.registry, personalize_pipelines.cost\n"
        "print(sorted(m for m in ('airflow', 'pandas', 'pyarrow', 'duckdb', 'great_expectations') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"
