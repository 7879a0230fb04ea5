"""The one "skip here, fail under CI" rule, and running the external programs the tests drive."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest

__all__ = ["IN_CI", "REPO", "require_root", "require_tool", "run_tool", "skip_or_fail"]
IN_CI = os.environ.get("CI") == "true"
REPO = Path(__file__).resolve().parents[2]


def skip_or_fail(message: str) -> NoReturn:
    """Skip on a developer's machine; fail in CI, where everything the tests need is there."""
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def require_tool(name: str, hint: str | None = None) -> str:
    """The path of a program the test needs; skip without it, but fail in CI (it must be there)."""
    path = shutil.which(name)
    if path is None:
        how = hint or "apt-get install it; scripts/install-test-deps.sh does"
        skip_or_fail(f"{name} is not installed ({how})")
    return path


def require_root(why: str) -> None:
    """Skip a test that needs root (namespaces, raw ICMP) unless in CI, where it must run."""
    if os.geteuid() != 0:
        skip_or_fail(f"needs root: {why}")


def run_tool(*argv: str, cwd: Path = REPO, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a tool, capturing text output; never raises on a non-zero exit."""
    return subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
