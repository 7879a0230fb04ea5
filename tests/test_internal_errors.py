"""A bug in Pantau is not an outage (issue 12): reason `internal`, logged with its traceback,
counted in pantau_internal_errors_total, ignored by the state machine; the result sink and the
event hook are guarded boundaries that leave the daemon's state consistent."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from monitor.config import parse_config
from monitor.daemon import Daemon
from monitor.probes import PROBES
from monitor.probes.result import ProbeResult
from monitor.sim import SimNetwork
from tests.daemon_helpers import fast_config, link, wait_until

pytestmark = pytest.mark.timeout(60)


def sample(daemon: Daemon, name: str, labels: dict[str, str] | None = None) -> float | None:
    return daemon.metrics.registry.get_sample_value(name, labels or {})


def internal(daemon: Daemon, where: str) -> float:
    return sample(daemon, "pantau_internal_errors_total", {"where": where}) or 0.0


async def test_a_bug_in_a_probe_is_never_evidence_against_the_hop(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    tcp = PROBES["tcp"]

    async def buggy(target: Any, timeout: float, ctx: Any) -> Any:
        if target.name == "public-anchor":
            return {}["a bug in Pantau"]  # KeyError: our code, not the network
        return await tcp(target, timeout, ctx)

    monkeypatch.setitem(PROBES, "tcp", buggy)
    async with SimNetwork(icmp=False) as net, Daemon(parse_config(fast_config(net))) as daemon:
        await wait_until(lambda: internal(daemon, "probe") >= 6, what="six buggy probes")
        await wait_until(
            lambda: link(daemon)[0] == "up", what="the link up while public-anchor hits a bug"
        )
        assert daemon.tracker is not None
        assert daemon.tracker.targets["public-anchor"].state == "unknown"  # no evidence either way
        assert daemon.tracker.episode is None
        assert daemon.last["public-anchor"].reason == "internal"
        labels = {
            "target": "public-anchor",
            "role": "internet",
            "kind": "tcp",
            "result": "internal",
        }
        assert (sample(daemon, "pantau_probes_total", labels) or 0) >= 6
        # Its success gauge never turned 0: no dashboard or alert sees a failed hop.
        gauge = {"target": "public-anchor", "role": "internet", "kind": "tcp"}
        assert sample(daemon, "pantau_probe_success", gauge) is None
    bugs = [
        r for r in caplog.records if r.name == "monitor.runner" and "public-anchor" in r.message
    ]
    assert bugs and all(r.levelno == logging.ERROR and r.exc_info for r in bugs)


async def test_the_sink_and_the_event_hook_are_guarded_boundaries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events: list[str] = []

    def hook(kind: str, data: dict[str, Any]) -> None:
        events.append(kind)
        raise RuntimeError("a bug in an event hook")

    async with SimNetwork(icmp=False) as net:
        daemon = Daemon(parse_config(fast_config(net)), on_event=hook)
        async with daemon:
            assert daemon.tracker is not None
            tracker, observe = daemon.tracker, daemon.tracker.observe
            failed: list[str] = []

            def observe_once_broken(result: ProbeResult) -> None:
                if not failed:
                    failed.append(result.target)
                    raise ZeroDivisionError("a bug in the state machine")
                observe(result)

            tracker.observe = observe_once_broken  # type: ignore[method-assign]
            await wait_until(lambda: link(daemon)[0] == "up", what="the link up despite bugs")
            await net.set_mode("datacenter", "down")
            await wait_until(lambda: link(daemon) == ("down", "datacenter"), what="outage")
            assert tracker.episode is not None and tracker.episode.kind == "outage"
            assert internal(daemon, "sink") >= 2  # the one broken observe, then every hook call
            assert failed and daemon.scheduler is not None and daemon.scheduler.running
            assert "link" in events  # the hook was called for the outage, and failed each time
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert any("a bug in the state machine" in str(r.exc_info) for r in errors)
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]
