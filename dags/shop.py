"""The shop use case's DAGs (include/config/shop.yaml): export, train, batch, events, cleanup.

One file per use case, so a broken YAML or SQL of another use case is that file's import error alone.
"""

from personalize_airflow.flows import build_dags

globals().update(build_dags("shop"))
