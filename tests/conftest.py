"""Shared test settings. Fixtures that serve one test module live beside it, not here."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI") == "true"

# Programs that pip installs beside the interpreter (hadolint, check-jsonschema, ruff) are found
# even when the virtual environment is not activated: `.venv/bin/python -m pytest`.
_BIN = str(Path(sys.executable).parent)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")


def require_tool(name: str, hint: str | None = None) -> str:
    """The path of a program the test needs; skip without it, but fail in CI (it must be there)."""
    path = shutil.which(name)
    if path is None:
        how = hint or "apt-get install it; scripts/install-test-deps.sh does"
        message = f"{name} is not installed ({how})"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def require_root(why: str) -> None:
    """Skip a test that needs root (namespaces, raw ICMP) unless in CI, where it must run."""
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail(f"needs root in CI: {why}")
        pytest.skip(f"needs root: {why}")
