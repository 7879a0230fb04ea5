"""Run the external programs the tests drive (found with `require_tool` from conftest)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import require_tool

__all__ = ["REPO", "require_tool", "run_tool"]
REPO = Path(__file__).resolve().parent.parent


def run_tool(*argv: str, cwd: Path = REPO, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a tool, capturing text output; never raises on a non-zero exit."""
    return subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
