"""The movies use case's DAGs (include/config/movies.yaml): a VIDEO_ON_DEMAND domain dataset group."""

from personalize_airflow.flows import build_dags

globals().update(build_dags("movies"))
