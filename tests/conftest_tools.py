"""Find external programs the tests drive; skip without them, but fail under CI=true.

Not a conftest: test modules import `require_tool` explicitly, so the lead's tests/conftest.py
stays the only place that configures pytest.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def require_tool(name: str, hint: str) -> str:
    """Return the path of `name`; skip if missing, fail if missing and CI=true."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} not found on PATH (install: {hint})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI=true requires it", pytrace=False)
        pytest.skip(message)
    return path


def run_tool(*argv: str, cwd: Path = REPO, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a tool, capturing text output; never raises on a non-zero exit."""
    return subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
