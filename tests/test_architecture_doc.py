"""ARCHITECTURE.md stays true: every file or folder it names exists in the repository."""

from __future__ import annotations

import re

from tests.conftest import ROOT

DOC = ROOT / "ARCHITECTURE.md"
PATHLIKE = re.compile(r"^[\w./-]+(/|\.(py|json|md|toml|yaml|sql))$")


def named_paths(text: str) -> set[str]:
    tokens = set(re.findall(r"`([^`\s]+)`", text))
    return {t for t in tokens if PATHLIKE.match(t) and "://" not in t}


def exists(path: str) -> bool:
    return (ROOT / path).exists() or any(
        p for p in ROOT.glob(f"**/{path.rstrip('/')}") if ".venv" not in p.parts and "build" not in p.parts
    )


def test_every_path_the_architecture_names_exists():
    paths = named_paths(DOC.read_text())
    assert len(paths) > 20, "the page names the files it talks about"
    assert sorted(p for p in paths if not exists(p)) == []


def test_a_moved_file_would_be_noticed():
    assert named_paths("see `src/personalize_pipelines/gone.py` and `dags/`") == {
        "src/personalize_pipelines/gone.py",
        "dags/",
    }
    assert not exists("src/personalize_pipelines/gone.py")
