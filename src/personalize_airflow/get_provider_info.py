"""What Airflow's providers manager reads about this integration (the ``apache_airflow_provider`` entry point)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from personalize_pipelines import DISTRIBUTION as PACKAGE

INTEGRATION = "Amazon Personalize pipelines"
LINKS = (
    "DatasetGroup",
    "Schema",
    "Dataset",
    "DatasetImportJob",
    "Solution",
    "SolutionVersion",
    "Campaign",
    "BatchInferenceJob",
    "BatchSegmentJob",
    "EventTracker",
    "Filter",
    "Recommender",
)


def _version() -> str:
    try:
        return version(PACKAGE)
    except PackageNotFoundError:
        return "0+unknown"


def _modules(kind: str) -> list[dict[str, object]]:
    return [{"integration-name": INTEGRATION, "python-modules": [f"personalize_airflow.{kind}.personalize"]}]


def _option(description: str, *, type_: str, example: str | None) -> dict[str, object]:
    return {
        "description": description,
        "version_added": "0.1.0",
        "type": type_,
        "example": example,
        "default": None,
    }


def get_provider_info() -> dict[str, object]:
    """Read by Airflow while its configuration loads: this module imports nothing of Airflow."""
    return {
        "package-name": PACKAGE,
        "name": INTEGRATION,
        "description": "The whole Amazon Personalize lifecycle as Airflow DAGs: warehouse export, import, "
        "training, holdout evaluation against the serving model, deploy, batch and real-time serving, cleanup.",
        "versions": [_version()],
        "integrations": [
            {
                "integration-name": INTEGRATION,
                "external-doc-url": "https://docs.aws.amazon.com/personalize/latest/dg/what-is-personalize.html",
                "tags": ["aws"],
            }
        ],
        "hooks": _modules("hooks"),
        "operators": _modules("operators"),
        "sensors": _modules("sensors"),
        "triggers": _modules("triggers"),
        "extra-links": [f"personalize_airflow.links.personalize.Personalize{kind}Link" for kind in LINKS],
        "config": {
            "personalize": {
                "description": "Settings of the Amazon Personalize pipelines for every use case.",
                "options": {
                    "project_dir": _option(
                        "The folder holding include/config (one YAML per use case), include/sql and "
                        "include/expectations. Default: the folder above the DAGs folder.",
                        type_="string",
                        example="/usr/local/airflow",
                    ),
                    "poll_seconds": _option(
                        "Seconds between status checks of every Personalize wait of the train DAGs, "
                        "overriding each use case's training.poll_seconds (a test stack sets 1).",
                        type_="integer",
                        example="60",
                    ),
                    "retry_delay_seconds": _option(
                        "The wait before a failed task's next try, for every DAG of every use case, "
                        "overriding each DAG's default (60 s; a test stack sets a few seconds).",
                        type_="integer",
                        example="5",
                    ),
                    "default_deferrable": _option(
                        "Whether the Personalize operators and sensors defer their waits to the triggerer "
                        "by default; unset, [operators] default_deferrable decides (True unless set).",
                        type_="boolean",
                        example="True",
                    ),
                },
            }
        },
    }
