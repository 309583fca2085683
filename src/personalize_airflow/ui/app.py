"""The Personalize page: each use case's export versions, champion, history and evaluation pages.

Mounted by ``plugins/personalize_plugin.py`` in Airflow's api-server under
:data:`personalize_airflow.ui.URL_PREFIX`. Airflow does not authenticate a plugin's FastAPI app (a
mounted app inherits none of the core API's dependencies), so every route here depends on Airflow's
own ``get_user`` (the UI's JWT cookie or a bearer token) and asks the auth manager whether the user
may read the use case's DAGs. The S3 objects
are read through the use case's AWS connection (``s3.conn_id``), so the page shows a data engineer
what the bucket holds without S3 console access.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from airflow.api_fastapi.core_api.security import get_user
from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from personalize_pipelines.layout import UseCaseLayout
from personalize_pipelines.overview import evaluation_page, use_case_overview

User = Annotated[Any, Depends(get_user)]
DAG_SUFFIXES = ("export", "train", "batch", "events", "cleanup")

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"])
)


def _all_use_cases() -> list[Any]:
    from personalize_airflow.use_cases import all_use_cases

    return all_use_cases()


def _s3_client(uc: Any) -> Any:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id=uc.s3.conn_id).get_conn()


def may_read(user: Any, dag_id: str) -> bool:
    """Whether Airflow's auth manager lets ``user`` read the DAG ``dag_id``."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails

    return get_auth_manager().is_authorized_dag(method="GET", details=DagDetails(id=dag_id), user=user)


def create_app(
    *,
    use_cases: Callable[[], list[Any]] = _all_use_cases,
    s3_client: Callable[[Any], Any] = _s3_client,
    authorize: Callable[[Any, str], bool] = may_read,
) -> FastAPI:
    """The page's app.

    :param use_cases: the use cases to show (those under the project's ``include/config/``).
    :param s3_client: an S3 client for a use case (default: through its AWS connection).
    :param authorize: whether a user may read a DAG (default: Airflow's auth manager).
    """
    app = FastAPI(title="Personalize", docs_url=None, redoc_url=None, openapi_url=None)

    def readable(user: Any) -> dict[str, Any]:
        return {uc.name: uc for uc in use_cases() if authorize(user, f"{uc.name}__export")}

    def find(name: str, user: Any) -> Any:
        uc = readable(user).get(name)
        if uc is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no use case {name!r} you may read")
        return uc

    @app.get("/", response_class=HTMLResponse)
    def index(user: User) -> str:
        rows = [
            {
                "name": uc.name,
                "uri": UseCaseLayout.for_use_case(uc).uri(UseCaseLayout.for_use_case(uc).folder),
                "dags": [f"{uc.name}__{suffix}" for suffix in DAG_SUFFIXES],
            }
            for uc in readable(user).values()
        ]
        return _TEMPLATES.get_template("index.html").render(use_cases=rows)

    @app.get("/use-cases/{name}", response_class=HTMLResponse)
    def use_case_page(name: str, user: User) -> str:
        uc = find(name, user)
        overview = use_case_overview(s3_client(uc), use_case=uc.name, layout=UseCaseLayout.for_use_case(uc))
        return _TEMPLATES.get_template("use_case.html").render(o=overview)

    @app.get("/use-cases/{name}/versions/{version}/evaluations/{run_key}", response_class=HTMLResponse)
    def evaluation(name: str, version: str, run_key: str, user: User) -> str:
        uc = find(name, user)
        page = evaluation_page(
            s3_client(uc), layout=UseCaseLayout.for_use_case(uc), version=version, run_key=run_key
        )
        if page is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"no evaluation {run_key!r} of version {version!r}"
            )
        return page

    return app
