"""Every use case's DAGs from one file (build_dags()), as a team with one DAG file has: the train tests run
use cases of their own config folders (shop_gate, shop_rollback...), which dags/shop.py does not build."""

from personalize_airflow.flows import build_dags

globals().update(build_dags())
