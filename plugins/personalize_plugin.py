"""The Personalize integration's Airflow plugin: the operators' console links and the Personalize page.

The page (:mod:`personalize_airflow.ui`) is a FastAPI app the api-server mounts under
``/personalize``; an external view puts it in the UI's navigation, and a global extra link takes the
``evaluate_models`` task of a ``<use_case>__train`` DAG to its use case's page.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from personalize_airflow.links.personalize import ALL_LINKS
from personalize_airflow.links.ui import PersonalizePageLink
from personalize_airflow.ui import URL_PREFIX, PersonalizePageApp


class PersonalizePlugin(AirflowPlugin):
    """The Amazon Personalize integration's operator extra links and UI page."""

    name = "personalize"
    operator_extra_links = [link() for link in ALL_LINKS]
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
