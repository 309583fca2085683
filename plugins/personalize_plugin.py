"""The Personalize pipelines' Airflow plugin. The operators' console links come from the provider's metadata
(``personalize_airflow.get_provider_info``), so they need no plugin."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin


class PersonalizePlugin(AirflowPlugin):
    name = "personalize"
