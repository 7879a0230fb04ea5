"""The verdict uses the path: `datacenter` only when the path still reaches the data center."""

from __future__ import annotations

import pytest

from monitor.path.analysis import PathFinding
from monitor.verdict import judge
from tests.test_verdict import world


def finding(target: str, reaches: bool | None, cause: str) -> PathFinding:
    return PathFinding(target, reaches, cause, None, None)


@pytest.mark.parametrize(
    ("paths", "domain", "confirmed", "cause"),
    [
        (None, "datacenter", None, None),  # tracing off: the verdict as before
        ({}, "datacenter", False, "no_trace"),  # no trace yet: unconfirmed, never a guess
        (
            {"dc-web": finding("dc-web", True, "destination_answers")},
            "datacenter",
            True,
            "destination_answers",
        ),
        (
            {"dc-web": finding("dc-web", True, "reaches_handoff")},
            "datacenter",
            True,
            "reaches_handoff",
        ),
        ({"dc-web": finding("dc-web", False, "isp_no_route")}, "isp", True, "isp_no_route"),
        (
            {"dc-web": finding("dc-web", False, "ends_before_handoff")},
            "isp",
            True,
            "ends_before_handoff",
        ),
        ({"dc-web": finding("dc-web", None, "no_baseline")}, "datacenter", False, "no_baseline"),
    ],
)
def test_datacenter_down_with_anchors_up(
    paths: dict | None,
    domain: str,
    confirmed: bool | None,
    cause: str | None,  # type: ignore[type-arg]
) -> None:
    verdict = judge(world({"dc-web": "down"}), paths)
    assert (verdict.state, verdict.domain, verdict.confirmed, verdict.cause) == (
        "down", domain, confirmed, cause,
    )  # fmt: skip


def test_path_never_overrides_a_failing_earlier_hop() -> None:
    isp_cut = {"dc-web": finding("dc-web", True, "destination_answers")}
    assert judge(world({"dc-web": "down", "router": "down"}), isp_cut).domain == "local"
    assert judge(world({"dc-web": "down", "anchor": "down"}), isp_cut).domain == "isp"


def test_one_target_whose_path_dies_in_the_isp_is_enough() -> None:
    paths = {
        "dc-web": finding("dc-web", True, "destination_answers"),
        "dc-vpn": finding("dc-vpn", False, "ends_before_handoff"),
    }
    verdict = judge(world({"dc-web": "down", "dc-vpn": "down"}), paths)
    assert (verdict.domain, verdict.culprit) == ("isp", "dc-vpn")


def test_slow_data_center_with_loss_inside_the_isp_is_isp() -> None:
    from monitor.path.analysis import LossBlame, Owner
    from monitor.path.config import PathOwner
    from monitor.path.trace import Hop

    isp = Owner.of(PathOwner(prefix="10.20.0.0/16", name="Telkom", role="isp"))
    dc = Owner.of(PathOwner(prefix="10.30.0.0/16", name="Kemendagri", role="datacenter"))
    hop, after = Hop(3, "10.20.3.1", 40, 40), Hop(4, "10.30.0.1", 40, 20)
    for owner, domain in ((isp, "isp"), (dc, "datacenter"), (None, "datacenter")):
        finding = PathFinding(
            "dc-web", True, "destination_answers", None, None,
            loss=LossBlame(hop, after, 0.5), loss_owner=owner,
        )  # fmt: skip
        verdict = judge(world({"dc-web": "slow"}), {"dc-web": finding})
        assert (verdict.state, verdict.domain) == ("slow", domain), owner
