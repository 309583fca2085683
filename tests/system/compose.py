"""Find a real compose implementation that can parse docker-compose.yaml (no Docker engine needed)."""

from __future__ import annotations

import shutil
import subprocess


def compose_command() -> list[str] | None:
    """`docker compose` (the CLI plugin) if present, else Debian's `docker-compose`, else None."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None
