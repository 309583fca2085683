"""Every use case's DAGs (export, train, batch, events, cleanup), from include/config/*.yaml."""

from personalize_airflow.flows import build_dags

globals().update(build_dags())
