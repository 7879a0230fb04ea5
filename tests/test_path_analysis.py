"""The path analysis is pure: tables of hops in, blame and reachability out."""

from __future__ import annotations

import pytest

from monitor.path.analysis import Owner, blame_loss, handoff_of, judge_path, owner_of
from monitor.path.config import PathOwner
from monitor.path.trace import Hop, Trace

DEST = "10.30.0.9"
OWNERS = [
    Owner.of(PathOwner(prefix="10.20.0.0/16", name="Telkom VPN IP", role="isp")),
    Owner.of(PathOwner(prefix="10.30.0.0/24", name="Kemendagri", role="datacenter")),
    Owner.of(PathOwner(prefix="10.20.9.0/24", name="Telkom peering", role="isp")),
]


def hops(*rows: tuple[str | None, int, int] | tuple[str | None, int, int, str]) -> tuple[Hop, ...]:
    """(address, sent, received[, unreachable]) per TTL, from 1."""
    out = []
    for ttl, row in enumerate(rows, start=1):
        address, sent, received = row[0], row[1], row[2]
        refused = row[3] if len(row) > 3 else None  # type: ignore[misc]
        out.append(Hop(ttl, address, sent, received, 0.001 if received else None, refused))
    return tuple(out)


def trace(*rows: tuple, error: str | None = None) -> Trace:  # type: ignore[type-arg]
    return Trace("dc", DEST, "tcp", 443, 1000.0, hops(*rows), error)


# A healthy path: office gw, two ISP routers, the peering router, the DC edge, the server.
HEALTHY = trace(
    ("192.168.1.1", 5, 5),
    ("10.20.0.1", 5, 5),
    ("10.20.3.1", 5, 5),
    ("10.20.9.1", 5, 5),
    ("10.30.0.1", 5, 5),
    (DEST, 5, 5),
)


@pytest.mark.parametrize(
    ("name", "rows", "blamed", "first_lossy"),
    [
        ("no loss", [("a", 10, 10), ("b", 10, 10), (DEST, 10, 10)], None, None),
        # b rate-limits its own ICMP replies: the hops behind it answer fully
        ("rate limiter", [("a", 10, 10), ("b", 10, 2), ("c", 10, 10), (DEST, 10, 10)], None, None),
        # c's forwarding loses 30%: c answers itself, d and the destination lose
        (
            "forwarder after a rate limiter",
            [("a", 40, 40), ("b", 40, 3), ("c", 40, 40), ("d", 40, 20), (DEST, 40, 21)],
            "c",
            "d",
        ),
        # b rate-limits heavily and d loses 30% right behind it: b's 90% does not persist
        (
            "lossy segment right behind a rate limiter: the forwarder is named",
            [("a", 40, 40), ("b", 40, 4), ("c", 40, 28), (DEST, 40, 26)],
            "b",
            "c",
        ),
        ("loss from the first hop", [("a", 20, 14), ("b", 20, 13), (DEST, 20, 12)], "a", "a"),
        (
            "loss that does not reach the destination",
            [("a", 20, 20), ("b", 20, 10), (DEST, 20, 20)],
            None,
            None,
        ),
        (
            "destination silent: an outage, not loss",
            [("a", 20, 20), ("b", 20, 10), (None, 20, 0)],
            None,
            None,
        ),
        # silent routers in between carry no evidence either way
        (
            "silent hop in between",
            [("a", 20, 20), (None, 20, 0), ("c", 20, 12), (DEST, 20, 11)],
            "a",
            "c",
        ),
        ("below the threshold", [("a", 40, 40), ("b", 40, 38), (DEST, 40, 38)], None, None),
    ],
)
def test_blame_loss(
    name: str,
    rows: list[tuple],
    blamed: str | None,
    first_lossy: str | None,  # type: ignore[type-arg]
) -> None:
    found = blame_loss(hops(*rows), DEST, threshold=0.1)
    if blamed is None:
        assert found is None, name
    else:
        assert found is not None, name
        assert found.blamed.address == blamed, name
        assert found.first_lossy.address == first_lossy, name


def test_owner_longest_prefix_wins() -> None:
    assert owner_of("10.20.9.1", OWNERS).name == "Telkom peering"  # type: ignore[union-attr]
    assert owner_of("10.20.3.1", OWNERS).name == "Telkom VPN IP"  # type: ignore[union-attr]
    assert owner_of("192.168.1.1", OWNERS) is None
    assert owner_of(None, OWNERS) is None


def test_handoff_is_the_last_hop_before_the_data_center() -> None:
    assert handoff_of(HEALTHY, OWNERS) == ("10.20.9.1", "10.30.0.1")
    # Without owners, the hop before the destination is the handoff.
    assert handoff_of(HEALTHY, []) == ("10.30.0.1", DEST)


S = ("192.168.1.1", 5, 5)
ISP1, ISP2, PEER, EDGE = (
    ("10.20.0.1", 5, 5),
    ("10.20.3.1", 5, 5),
    ("10.20.9.1", 5, 5),
    ("10.30.0.1", 5, 5),
)
SILENT = (None, 5, 0)


@pytest.mark.parametrize(
    ("name", "rows", "baseline", "owners", "reaches", "cause"),
    [
        (
            "app refuses: the destination answers",
            [S, ISP1, ISP2, PEER, EDGE, (DEST, 5, 5)],
            None,
            [],
            True,
            "destination_answers",
        ),
        (
            "edge answers, server silent",
            [S, ISP1, ISP2, PEER, EDGE, SILENT],
            None,
            OWNERS,
            True,
            "reaches_datacenter",
        ),
        (
            "edge drops all, baseline handoff reached",
            [S, ISP1, ISP2, PEER, SILENT],
            HEALTHY,
            OWNERS,
            True,
            "reaches_handoff",
        ),
        (
            "edge drops all, no owners, baseline",
            [S, ISP1, ISP2, PEER, SILENT],
            HEALTHY,
            [],
            False,
            "ends_before_handoff",
        ),
        (
            "peering router refuses: no route",
            [S, ISP1, ISP2, ("10.20.9.1", 5, 5, "network unreachable")],
            None,
            OWNERS,
            False,
            "isp_no_route",
        ),
        (
            "path dies inside the ISP",
            [S, ISP1, ISP2, SILENT],
            HEALTHY,
            OWNERS,
            False,
            "ends_before_handoff",
        ),
        ("path dies, no baseline", [S, ISP1, ISP2, SILENT], None, OWNERS, None, "no_baseline"),
    ],
)
def test_judge_path(
    name: str,
    rows: list[tuple],
    baseline: Trace | None,
    owners: list[Owner],
    reaches: bool | None,
    cause: str,  # type: ignore[type-arg]
) -> None:
    finding = judge_path(trace(*rows), baseline, owners)
    assert (finding.reaches_datacenter, finding.cause) == (reaches, cause), name


def test_path_dies_inside_isp_names_the_last_hop_and_where_it_used_to_go() -> None:
    finding = judge_path(trace(S, ISP1, ISP2, SILENT), HEALTHY, OWNERS)
    assert finding.last_hop is not None and finding.last_hop.address == "10.20.3.1"
    assert finding.last_owner is not None and finding.last_owner.name == "Telkom VPN IP"
    assert finding.used_to_continue == "10.20.9.1"
    data = finding.as_dict()
    assert data["confirmed"] is True and data["reaches_datacenter"] is False
    assert data["last_owner"] == {"name": "Telkom VPN IP", "role": "isp"}


def test_failed_trace_is_no_evidence() -> None:
    finding = judge_path(trace(error="internal"), HEALTHY, OWNERS)
    assert finding.reaches_datacenter is None and finding.cause == "no_trace"
    assert judge_path(None, HEALTHY, OWNERS).as_dict()["confirmed"] is False


def test_trace_json_round_trip() -> None:
    again = Trace.from_dict(HEALTHY.as_dict())
    assert again == HEALTHY
    assert again.reached and again.as_dict()["hops"][0]["loss_ratio"] == 0.0
