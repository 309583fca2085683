"""``personalize-pipelines``: commands on a project's use cases that need no Airflow.

``personalize-pipelines iam-policy <use_case> [--project-dir DIR] [--document NAME]`` prints the IAM
documents of :mod:`personalize_pipelines.iam` as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from personalize_pipelines import iam
from personalize_pipelines.config import ConfigError, UseCase
from personalize_pipelines.project import Project


def load_project_use_case(name: str, *, project_dir: Path | None = None) -> UseCase:
    """
    Load a use case as the DAGs do: ``include/config/<name>.yaml`` of the project, its SQL under ``include/sql``.

    :param name: the use case (its file name without ``.yaml``).
    :param project_dir: the project holding ``include/``; default: ``AIRFLOW__PERSONALIZE__PROJECT_DIR`` when
        set, else the current folder.
    """
    root = project_dir or Path(os.environ.get("AIRFLOW__PERSONALIZE__PROJECT_DIR") or ".")
    return Project(root.expanduser().resolve()).use_case(name)


def _iam_policy(args: argparse.Namespace) -> None:
    documents = iam.policies(load_project_use_case(args.use_case, project_dir=args.project_dir))
    if args.document and args.document not in documents:
        raise ConfigError(
            f"{args.use_case} calls no Personalize (no training, no serving): no {args.document}"
        )
    print(json.dumps(documents[args.document] if args.document else documents, indent=2))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="personalize-pipelines", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    policy = commands.add_parser(
        "iam-policy",
        help="print the least-privilege IAM documents of a use case",
        description="Print the Airflow workers' policy, the Personalize service role's policy and trust "
        "policy, and the bucket policy of a use case, as JSON.",
    )
    policy.add_argument("use_case", help="a use case: include/config/<use_case>.yaml")
    policy.add_argument(
        "--project-dir",
        type=Path,
        help="the project holding include/ (default: $AIRFLOW__PERSONALIZE__PROJECT_DIR, else the current folder)",
    )
    policy.add_argument(
        "--document", choices=sorted(iam.DOCUMENTS), help="print only this document (for aws cli's file://)"
    )
    policy.set_defaults(run=_iam_policy)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        args.run(args)
    except ConfigError as error:
        print(f"personalize-pipelines: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
