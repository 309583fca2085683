"""The Personalize page of the Airflow UI: a FastAPI app the plugin mounts in the api-server."""
