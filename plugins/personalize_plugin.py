"""Registers the Personalize operators' console links with Airflow, so the UI can show them."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from personalize_airflow.links.personalize import ALL_LINKS


class PersonalizePlugin(AirflowPlugin):
    """The Amazon Personalize integration's operator extra links."""

    name = "personalize"
    operator_extra_links = [link() for link in ALL_LINKS]
