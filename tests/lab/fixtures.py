"""pytest fixtures and checks for the lab tests (tests/test_lab_*.py import them).

Skips with a reason when the lab cannot be built here (not root, no ip/nft/tc); under CI=true
that skip is a failure (tests/support/tools.py). Set PANTAU_LAB_FIGURES=path.jsonl to collect each
scenario's measured errors (outage start/end against the injected fault, lost seconds).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.lab.faults import Injected
from tests.lab.lab import Lab
from tests.lab.pantau import Pantau
from tests.support.tools import require_root, require_tool


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    """A fresh lab per test module, torn down even when a test fails (and at exit)."""
    require_root("the lab builds network namespaces")
    for tool in ("ip", "nft", "tc"):
        require_tool(tool)
    built = Lab.up()
    try:
        yield built
    finally:
        built.down()


@pytest.fixture
def pantau(lab: Lab, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A factory: `pantau(**settings)` starts a daemon in the office (fresh ledger per test)."""
    started: list[Pantau] = []

    def start(**settings: Any) -> Pantau:
        name = f"pantau-{request.node.name}-{len(started)}".replace("[", "-").replace("]", "")
        daemon = Pantau(lab, name[:60], **settings)
        started.append(daemon)
        daemon.start()
        daemon.wait_steady()
        return daemon

    yield start
    for daemon in started:
        daemon.stop()


def tolerance(daemon: Pantau, target: str | None = None) -> float:
    """One probe interval plus one timeout (of `target`, else the longest of any target)."""
    config = daemon.config
    targets = [t for t in config.targets if target is None or t.name == target]
    return max(config.interval_of(t) + config.timeout_of(t) for t in targets)


def outages_since(
    daemon: Pantau, since: float, kind: str | None = "outage"
) -> list[dict[str, Any]]:
    """Episodes of `kind` (None: outages and slow periods) that ended after `since`, or are open.

    Pass the injection's start: an earlier case's episode ended before the daemon was steady
    again, so before this injection; this one's may start a little earlier (a probe in flight).
    Outages only by default: on a loaded machine a probe can cross slow_latency and add a true
    "slow" episode beside the outage under test (CI runs failed on that twice).
    """
    rows = daemon.ledger()["outages"]
    return [
        r
        for r in rows
        if (r["ended_at"] is None or r["ended_at"] > since) and kind in (None, r["kind"])
    ]


def settled_outages_since(
    daemon: Pantau, since: float, timeout: float = 10.0, kind: str | None = "outage"
) -> list[dict[str, Any]]:
    """`outages_since`, once the ledger shows them all closed: the daemon logs the link up
    before its writer thread has stored the outage's end, and a loaded machine widens that."""
    deadline = time.monotonic() + timeout
    while True:
        rows = outages_since(daemon, since, kind)
        if all(r["ended_at"] is not None for r in rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def measure(outage: dict[str, Any], injected: Injected, scenario: str) -> dict[str, float]:
    """Errors of the ledger against the injected fault, in seconds; recorded if asked."""
    assert outage["ended_at"] is not None, f"outage still open: {outage}"
    figures = {
        "start_error": outage["started_at"] - injected.start,
        "end_error": outage["ended_at"] - injected.end,
        "lost_error": outage["lost_service_seconds"] - injected.seconds,
        "injected": injected.seconds,
        "lost": outage["lost_service_seconds"],
    }
    record(scenario, figures | {"domains": [d["domain"] for d in outage["domains"]]})
    return figures


def assert_within(figures: dict[str, float], tol: float) -> None:
    for key in ("start_error", "end_error", "lost_error"):
        assert abs(figures[key]) <= tol, f"{key} {figures[key]:+.2f}s beyond ±{tol:g}s: {figures}"


def record(scenario: str, data: dict[str, Any]) -> None:
    path = os.environ.get("PANTAU_LAB_FIGURES")
    if path:
        with open(path, "a") as out:
            out.write(json.dumps({"scenario": scenario, **data}, default=str) + "\n")
