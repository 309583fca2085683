"""The marketplace use case's DAGs (include/config/marketplace.yaml): export and train."""

from personalize_airflow.flows import build_dags

globals().update(build_dags("marketplace"))
