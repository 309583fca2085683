"""Where the project's data files live: include/ holds SQL, use-case YAML and GX suites."""

import os
from pathlib import Path

PROJECT_ROOT = Path(os.environ.get("PERSONALIZE_PROJECT_ROOT", Path(__file__).resolve().parents[2]))
INCLUDE = PROJECT_ROOT / "include"
CONFIG_DIR = INCLUDE / "config"
SQL_DIR = INCLUDE / "sql"
EXPECTATIONS_DIR = INCLUDE / "expectations"
