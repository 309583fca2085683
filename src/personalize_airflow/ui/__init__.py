"""The Personalize page of the Airflow UI: a FastAPI app (:mod:`personalize_airflow.ui.app`) the plugin
mounts in the api-server under :data:`URL_PREFIX`.

Every Airflow process loads the plugin (scheduler, triggerer, workers), and only the api-server serves
the page, so the plugin mounts :class:`PersonalizePageApp`, which builds the FastAPI app (and imports
Airflow's API security) on its first request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

URL_PREFIX = "/personalize"


def page_url(use_case: str, *, base_url: str = "") -> str:
    """The use case's page, under the api-server's ``base_url`` (``[api] base_url``)."""
    return f"{base_url.rstrip('/')}{URL_PREFIX}/use-cases/{use_case}"


class PersonalizePageApp:
    """An ASGI app that builds the page's FastAPI app on its first request.

    :param factory: builds the app (default: :func:`personalize_airflow.ui.app.create_app`).
    """

    def __init__(self, factory: Callable[[], Any] | None = None) -> None:
        self._factory = factory
        self._app: Any = None

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if self._app is None:
            if self._factory is None:
                from personalize_airflow.ui.app import create_app

                self._factory = create_app
            self._app = self._factory()
        await self._app(scope, receive, send)
