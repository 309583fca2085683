"""The matrix's installs when the package index is out of reach: skipped with the reason, failed in CI."""

from __future__ import annotations

import pytest

from tests.compat import environments
from tests.compat.environments import Venv, clean_environment


@pytest.fixture
def unreachable_index(tmp_path, monkeypatch) -> Venv:
    """A venv whose installs go to an index nothing listens at, with an empty uv cache."""
    monkeypatch.setenv("UV_DEFAULT_INDEX", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    venv = Venv(tmp_path / "venv", cwd=tmp_path, env=clean_environment())
    venv.create()
    return venv


@pytest.mark.parametrize("in_ci", [False, True], ids=["locally", "under CI"])
def test_an_unreachable_index_and_an_empty_cache_skip_locally_and_fail_in_ci(
    unreachable_index, monkeypatch, in_ci
):
    monkeypatch.setattr(environments, "IN_CI", in_ci)
    outcome = pytest.fail.Exception if in_ci else pytest.skip.Exception
    with pytest.raises(
        outcome, match="cannot reach the package index and its cache lacks apache-airflow==3.3.0"
    ):
        unreachable_index.install("apache-airflow==3.3.0")
