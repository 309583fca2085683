"""Pure domain core of the Personalize pipelines: no Airflow imports."""
