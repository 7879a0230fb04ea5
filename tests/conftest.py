"""Pytest settings and hooks only; helpers live in tests/support/ and no test imports this file."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import pytest

# Programs that pip installs beside the interpreter (hadolint, check-jsonschema, ruff) are found
# even when the virtual environment is not activated: `.venv/bin/python -m pytest`.
_BIN = str(Path(sys.executable).parent)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")


TIMING_GROUP = "lab-and-fleet"


def pytest_itemcollected(item: pytest.Item) -> None:
    """Two workers run the suite (pyproject.toml: `-n 2 --dist loadgroup`); most of its time
    is spent waiting on Prometheus, Alertmanager, browsers and timers, not computing.

    Each module stays on one worker, so its module-wide servers start once. The namespace-lab
    and fleet tests, whose verdicts ride on timing and which load the machine most, all share
    one worker: two of them never run at the same time. (Marked here, as each test is
    collected: xdist reads the marks in its own collection_modifyitems.)
    """
    if item.get_closest_marker("xdist_group") is not None:
        return
    if item.get_closest_marker("lab") or item.get_closest_marker("fleet"):
        group = TIMING_GROUP
    else:
        group = item.nodeid.split("::")[0]
    item.add_marker(pytest.mark.xdist_group(group))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Beside a lab or fleet test on the other worker, this worker's tests, and the servers and
    browsers they start, yield the CPU: the lab's verdicts ride on its daemon's timing, while
    the rest mostly wait. (Linux niceness is per thread and inherited by what a thread starts;
    tests run on the worker's main thread.)"""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return
    mark = item.get_closest_marker("xdist_group")
    timing = mark is not None and mark.args[:1] == (TIMING_GROUP,)
    with contextlib.suppress(OSError):  # lowering it again needs root; the lab needs root too
        os.setpriority(os.PRIO_PROCESS, 0, 0 if timing else 5)
