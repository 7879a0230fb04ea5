"""The link verdict: first failing hop wins."""

from __future__ import annotations

import pytest

from monitor.verdict import judge
from tests.support.factories import world


@pytest.mark.parametrize(
    ("states", "link", "domain"),
    [
        ({}, "up", None),
        ({"dc-web": "down"}, "down", "datacenter"),
        ({"dc-web": "down", "router": "down"}, "down", "local"),
        ({"dc-web": "down", "anchor": "down", "isp-dns": "down"}, "down", "isp"),
        ({"dc-web": "down", "anchor": "down"}, "down", "isp"),  # every internet anchor down
        ({"dc-web": "down", "isp-dns": "down"}, "down", "isp"),  # every isp target down
        ({"dc-web": "slow"}, "slow", "datacenter"),
        ({"dc-web": "slow", "anchor": "slow"}, "slow", "isp"),
        ({"dc-web": "slow", "router": "slow"}, "slow", "local"),
        ({"dc-web": "down", "dc-vpn": "slow"}, "down", "datacenter"),
        ({"anchor": "down"}, "up", None),  # the ISP hiccups but the service works
    ],
)
def test_domains(states: dict, link: str, domain: str | None) -> None:
    verdict = judge(world(states))
    assert (verdict.state, verdict.domain) == (link, domain)


def test_dns_when_all_datacenter_failures_are_name_resolution() -> None:
    verdict = judge(world({"dc-web": "down", "dc-vpn": "down"}, reason="dns"))
    assert (verdict.state, verdict.domain) == ("down", "dns")


def test_unknown_without_upstream_roles() -> None:
    verdict = judge(world({"dc-web": "down"}, roles={"dc-web": "datacenter"}))
    assert (verdict.state, verdict.domain) == ("down", "unknown")


def test_link_unknown_until_a_datacenter_target_is_known() -> None:
    assert judge(world({"dc-web": "unknown", "dc-vpn": "unknown"})).state == "unknown"


def test_not_up_until_every_datacenter_target_is_known() -> None:
    assert judge(world({"dc-vpn": "unknown"})).state == "unknown"
    assert judge(world({"dc-vpn": "unknown", "dc-web": "down"})).state == "down"
