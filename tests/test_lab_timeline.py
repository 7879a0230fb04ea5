"""Fault timelines against a fresh Pantau each: blips, flapping, two faults in sequence, DNS
silence, and the daemon itself killed in the middle of an outage."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.lab.faults import Injected, inject, run_timeline
from tests.lab.fixtures import (  # noqa: F401
    assert_within,
    lab,
    measure,
    outages_since,
    pantau,
    record,
    settled_outages_since,
    tolerance,
)
from tests.lab.lab import Lab
from tests.lab.pantau import Pantau

pytestmark = [pytest.mark.lab, pytest.mark.timeout(600)]
Start = Callable[..., Pantau]


def test_a_one_probe_blip_never_opens_an_outage(lab: Lab, pantau: Start) -> None:  # noqa: F811
    daemon = pantau()
    blip = inject(lab.blackhole("wan"), 0.6)
    time.sleep(4.0)  # well past down_after probes
    assert daemon.steady()
    assert outages_since(daemon, blip.start - 5) == []
    failed = [s for s in daemon.samples(blip.start - 1, blip.end + 3) if not s.ok]
    assert failed, "the blip was not seen by any probe: it tested nothing"
    runs = _longest_failure_runs(daemon, blip.start - 1, blip.end + 3)
    record("blip", {"failed_probes": len(failed), "longest_run": max(runs.values())})
    assert max(runs.values()) < daemon.config.outage.down_after, runs


def _longest_failure_runs(daemon: Pantau, start: float, end: float) -> dict[str, int]:
    longest: dict[str, int] = {}
    current: dict[str, int] = {}
    for sample in daemon.samples(start, end):
        current[sample.target] = 0 if sample.ok else current.get(sample.target, 0) + 1
        longest[sample.target] = max(longest.get(sample.target, 0), current[sample.target])
    return longest


def test_a_flapping_link_gives_one_outage_per_flap(lab: Lab, pantau: Start) -> None:  # noqa: F811
    """Down 5 s every 20 s: 15 s up is far longer than up_after (2) probes, so each flap is
    its own outage, never merged; a flap only merges when the link is back for less than
    up_after probe intervals."""
    daemon = pantau()
    flaps = run_timeline([(20.0 * n, lab.link_down("wan"), 5.0) for n in range(3)])
    daemon.wait_steady()
    outages = settled_outages_since(daemon, flaps[0].start)
    assert len(outages) == 3, outages
    for n, (outage, flap) in enumerate(zip(outages, flaps, strict=True)):
        assert [d["domain"] for d in outage["domains"]] == ["isp"], outage
        assert_within(measure(outage, flap, f"flap-{n + 1}"), tolerance(daemon))


def test_isp_back_while_the_data_center_stays_down_is_one_outage(
    lab: Lab,  # noqa: F811
    pantau: Start,  # noqa: F811
) -> None:
    daemon = pantau()
    isp, dc = run_timeline(
        [(0.0, lab.link_down("wan"), 10.0), (4.0, lab.link_down("backbone"), 14.0)]
    )
    daemon.wait_steady()
    (outage,) = settled_outages_since(daemon, isp.start)
    assert [d["domain"] for d in outage["domains"]] == ["isp", "datacenter"], outage
    tol = tolerance(daemon)
    switch = outage["domain_times"][1][0]
    assert abs(switch - isp.end) <= tol, f"domain switched {switch - isp.end:+.2f}s off"
    whole = Injected("isp then datacenter", isp.start, dc.end)
    figures = measure(outage, whole, "isp-then-datacenter")
    record("isp-then-datacenter-switch", {"switch_error": switch - isp.end})
    assert_within(figures, tol)


def test_pantau_killed_mid_outage_keeps_one_outage_and_the_gap(
    lab: Lab,  # noqa: F811
    pantau: Start,  # noqa: F811
) -> None:
    daemon = pantau()
    fault = lab.blackhole("backbone")
    fault.start()
    try:
        started = time.time()
        daemon.wait_event(10, event="link", state="down")
        time.sleep(1.0)
        daemon.kill()
        killed = time.time()
        time.sleep(3.0)
        daemon.start()
        restarted = time.time()
        daemon.wait_event(15, event="resumed")
        time.sleep(max(started + 16.0 - time.time(), 0))
    finally:
        fault.stop()
    ended = time.time()
    daemon.wait_steady()
    (outage,) = settled_outages_since(daemon, started)
    (gap,) = [g for g in daemon.ledger()["unmonitored"] if g["reason"] == "daemon_not_running"]
    tol = tolerance(daemon)
    # The gap runs from the last heartbeat (at most 2 s of flush before the kill) to the
    # first verdict after the restart (start-up plus down_after probes, back-dated).
    assert killed - 3.0 <= gap["started_at"] <= killed + 0.1, (gap, killed)
    assert restarted - 0.1 <= gap["ended_at"] <= restarted + 3.0 + tol, (gap, restarted)
    gap_seconds = gap["ended_at"] - gap["started_at"]
    injected = Injected("backbone black hole, pantau killed", started, ended)
    figures = measure(outage, injected, "killed-mid-outage")
    figures["lost_error"] = outage["lost_service_seconds"] - (injected.seconds - gap_seconds)
    record(
        "killed-mid-outage-gap", {"gap": gap_seconds, "lost_error_less_gap": figures["lost_error"]}
    )
    assert_within(figures, tol)


# A silent resolver: glibc gives up after resolv.conf's `timeout:1 attempts:1` (the lab's
# setting), so only a probe whose timeout is longer than 1 s sees a name-resolution failure.
SILENT_OK = {"dc-siak": {"interval": "2s", "timeout": "1500ms"}}


def test_a_silent_resolver_is_blamed_on_dns(lab: Lab, pantau: Start) -> None:  # noqa: F811
    daemon = pantau(targets=SILENT_OK)
    injected = inject(lab.dns("silent"), 8.0)
    daemon.wait_steady()
    (outage,) = settled_outages_since(daemon, injected.start)
    assert [d["domain"] for d in outage["domains"]] == ["dns"], outage
    assert_within(measure(outage, injected, "dns-silent"), tolerance(daemon, "dc-siak"))


def test_a_silent_resolver_is_blamed_on_dns_with_a_short_timeout(
    lab: Lab,  # noqa: F811
    pantau: Start,  # noqa: F811
) -> None:
    daemon = pantau()  # dc-siak timeout 800 ms: shorter than the resolver's 1 s
    injected = inject(lab.dns("silent"), 6.0)
    daemon.wait_steady()
    (outage,) = settled_outages_since(daemon, injected.start)
    record("dns-silent-short-timeout", {"domains": [d["domain"] for d in outage["domains"]]})
    assert [d["domain"] for d in outage["domains"]] == ["dns"], outage
