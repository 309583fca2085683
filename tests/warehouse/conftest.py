from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from personalize_pipelines.warehouse.synthetic import generate

SIZE = 40_000


@dataclass(frozen=True)
class Shop:
    path: Path
    report: dict


@pytest.fixture(scope="session")
def shop(tmp_path_factory) -> Shop:
    """One small synthetic shop shared by the read-only tests."""
    path = tmp_path_factory.mktemp("shop") / "shop.duckdb"
    return Shop(path=path, report=generate(path, interactions=SIZE))


@pytest.fixture(scope="session")
def demo_shop(tmp_path_factory) -> Shop:
    """The demo-sized shop (200k interactions, default seed)."""
    path = tmp_path_factory.mktemp("demo") / "shop.duckdb"
    return Shop(path=path, report=generate(path, interactions=200_000))


@pytest.fixture
def con(shop):
    connection = duckdb.connect(str(shop.path), read_only=True)
    yield connection
    connection.close()
