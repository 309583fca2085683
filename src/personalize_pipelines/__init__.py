"""Pure domain core of the Personalize pipelines: no Airflow imports."""

DISTRIBUTION = "airflow-provider-personalize-pipelines"
