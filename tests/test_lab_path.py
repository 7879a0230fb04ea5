"""Issue 14 in the path lab: whose network the path dies in, 10 rounds per scenario, all right.

One topology for the module (tests/lab/path_topology.py); each scenario holds its fault while
`tests.lab.path_check` runs 10 rounds of probe -> verdict -> trace -> path verdict inside the
office namespace (tracer, analysis and verdict are the daemon's own code).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_root, require_tool
from tests.lab.path_topology import (
    EDGE,
    ISP2,
    ISP4,
    PathLab,
    app_refuses,
    edge_drops,
    peering_cut,
    rate_limit_and_loss,
)

pytestmark = [pytest.mark.lab, pytest.mark.timeout(300)]
ROUNDS = 10


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PathLab, Path]]:
    require_root("the path lab builds network namespaces and traces with raw sockets")
    for tool in ("ip", "nft"):
        require_tool(tool)
    built = PathLab()
    try:
        built.build()
        baseline = tmp_path_factory.mktemp("path") / "baseline.json"
        rows = check(built, "--rounds", "3", "--save-baseline", str(baseline))
        assert all(r["state"] == "up" and r["trace"]["reached"] for r in rows), rows
        yield built, baseline
    finally:
        built.teardown()


def check(lab: PathLab, *args: str) -> list[dict[str, Any]]:
    out = lab.run("office", sys.executable, "-m", "tests.lab.path_check", *args)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def rounds(lab: tuple[PathLab, Path], *args: str) -> list[dict[str, Any]]:
    built, baseline = lab
    rows = check(built, "--baseline", str(baseline), "--rounds", str(ROUNDS), *args)
    assert len(rows) == ROUNDS
    return rows


def test_app_refuses_is_datacenter(lab: tuple[PathLab, Path]) -> None:
    with app_refuses(lab[0]):
        rows = rounds(lab)
    for row in rows:
        assert (row["state"], row["domain"], row["confirmed"]) == ("down", "datacenter", True), row
        assert row["cause"] == "destination_answers"


def test_edge_drops_everything_is_datacenter(lab: tuple[PathLab, Path]) -> None:
    with edge_drops(lab[0]):
        rows = rounds(lab)
    for row in rows:
        assert (row["state"], row["domain"], row["confirmed"]) == ("down", "datacenter", True), row
        # The path still reaches the ISP's last hop before the data center (the baseline's).
        assert row["cause"] == "reaches_handoff" and row["finding"]["handoff"] == ISP4


def test_peering_cut_is_isp_with_the_last_answering_hop(lab: tuple[PathLab, Path]) -> None:
    with peering_cut(lab[0]):
        rows = rounds(lab)
    for row in rows:
        assert row["states"] == {"anchor": "up", "dc-app": "down"}, row
        assert (row["domain"], row["confirmed"]) == ("isp", True), row
        finding = row["finding"]
        # isp4 lost its route: it answers "network unreachable" once the kernel's per-peer
        # route-error budget (1/s) allows, else stays silent and isp2 is the last to answer.
        assert finding["last_hop"]["address"] in (ISP2, ISP4), finding
        assert finding["last_owner"]["role"] == "isp"
        assert row["cause"] in ("isp_no_route", "ends_before_handoff")


def test_forwarding_loss_is_blamed_never_the_icmp_rate_limiter(lab: tuple[PathLab, Path]) -> None:
    with rate_limit_and_loss(lab[0]):
        rows = rounds(lab, "--probes", "40")
    for row in rows:
        hops = {h["address"]: h["loss_ratio"] for h in row["trace"]["hops"]}
        assert hops[ISP2] > 0.5, hops  # the rate limiter really drops its own replies
        loss = row["finding"]["loss"]
        assert loss is not None, hops
        # isp4 forwards onto the lossy segment (its own replies all come back; from the DC
        # edge on, ~50% are lost: 30% each way through isp4's forward hook).
        assert loss["blamed"]["address"] == ISP4, (loss, hops)
        assert loss["first_lossy"]["address"] == EDGE, (loss, hops)
