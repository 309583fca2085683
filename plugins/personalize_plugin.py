"""The Personalize pipelines' Airflow plugin: the Personalize page.

The page (:mod:`personalize_airflow.ui`) is a FastAPI app the api-server mounts under ``/personalize``; an
external view puts it in the UI's navigation, and a global extra link takes the ``evaluate_models`` task of
a ``<use_case>__train`` DAG to its use case's page. The operators' console links come from the provider's
metadata (``personalize_airflow.get_provider_info``), so they need no plugin.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from personalize_airflow.links.ui import PersonalizePageLink
from personalize_airflow.ui import URL_PREFIX, PersonalizePageApp


class PersonalizePlugin(AirflowPlugin):
    name = "personalize"
    global_operator_extra_links = [PersonalizePageLink()]
    fastapi_apps = [{"app": PersonalizePageApp(), "url_prefix": URL_PREFIX, "name": "Personalize"}]
    external_views = [
        {
            "name": "Personalize",
            "href": f"{URL_PREFIX.lstrip('/')}/",
            "destination": "nav",
            "url_route": "personalize",
        }
    ]
