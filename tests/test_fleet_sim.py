"""The fleet simulation's offices: the same series names and labels as a real Pantau, and a
scenario that confirms and blames like Pantau does (pure, no clock)."""

from __future__ import annotations

import re

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from monitor.fleet.exporter import render
from monitor.fleet.offices import build_offices
from monitor.fleet.scenario import Fault, View, confirm_delay, view
from monitor.metrics import Metrics

pytestmark = pytest.mark.fleet
SERIES = re.compile(r"^([a-z_:]+)(?:\{(.*)\})? ")


def _shape(lines: list[str]) -> dict[str, set[str]]:
    """metric name -> label names, from exposition lines."""
    shape: dict[str, set[str]] = {}
    for line in lines:
        match = SERIES.match(line)
        if match and not line.startswith("#"):
            labels = {part.split("=")[0] for part in re.findall(r'(\w+)="', match.group(2) or "")}
            shape.setdefault(match.group(1), set()).update(labels)
    return shape


def test_simulated_page_uses_only_real_pantau_series_and_labels() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    metrics.set_office("grobogan", "Grobogan", "Asia/Jakarta", "Jawa Tengah", "33.15", "telkom")
    metrics.set_target_state("dc-siak", "down")
    real = _shape(generate_latest(registry).decode().splitlines())
    office = build_offices(1)[0]
    simulated = _shape(render(office, View(True, "datacenter"), True))
    # Probe series appear in the real exposition only once a probe ran: the rules never read
    # them, and the sizing counts them by the real daemon's figure (docs/fleet.md).
    probe_free = {k: v for k, v in simulated.items() if not k.startswith("pantau_probe")}
    for name, labels in probe_free.items():
        assert name in real, f"{name} is not a Pantau series"
        assert labels == real[name], (name, labels, real[name])


def test_every_province_and_514_offices() -> None:
    offices = build_offices()
    assert len(offices) == 514 and len({o.id for o in offices}) == 514
    assert len({o.province for o in offices}) == 38


def test_offices_confirm_like_pantau_and_blame_the_first_failing_hop() -> None:
    office = build_offices(1)[0]
    central = Fault("central", 100, 200)
    delay = confirm_delay(office, 0)
    assert 30 <= delay < 45  # down_after 3 at 15 s
    assert view(office, [central], 100 + delay - 1).domain is None
    assert view(office, [central], 100 + delay).domain == "datacenter"
    local = Fault("local", 0, 300, offices=frozenset({office.id}))
    assert view(office, [central, local], 150).domain == "local"  # a dead LAN hides the rest
    stale = Fault("stale", 0, 300, offices=frozenset({office.id}))
    assert view(office, [central, stale], 150) == View(reporting=False, domain=None)
