"""Jinja rendering of the SQL files under include/sql/ that the serving DAGs run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, UndefinedError


def render_query(relative_path: str, *, sql_root: Path, **context: Any) -> str:
    """The SQL file ``sql_root/relative_path`` rendered with ``context``; an unknown variable is an error
    naming the file."""
    env = Environment(loader=FileSystemLoader(str(sql_root)), undefined=StrictUndefined, autoescape=False)
    try:
        return env.get_template(relative_path).render(**context)
    except TemplateNotFound as exc:
        raise FileNotFoundError(f"SQL file {relative_path!r} not found under {sql_root}") from exc
    except UndefinedError as exc:
        raise ValueError(
            f"{sql_root / relative_path}: {exc.message}; available: {', '.join(sorted(context))}"
        ) from exc
