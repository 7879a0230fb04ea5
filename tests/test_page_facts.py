"""What the daemon exports for pages: the service windows ahead (a dead daemon still pages in
them, holidays included), the open outage's start and blamed hop, and the page settings."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry

from monitor.calendar import ServiceCalendar
from monitor.config import parse_config
from monitor.ledger import Ledger
from monitor.metrics import Metrics
from monitor.paging.facts import MAX_WINDOWS, PageFacts
from monitor.probes.result import Observation, ProbeResult
from monitor.tracker import LinkTracker

WIB = ZoneInfo("Asia/Jakarta")
WEEKDAY = ["07:30-12:00", "13:00-16:00"]


def _config(tmp_path: Path, **extra: object):
    return parse_config(
        {
            "office": {"name": "Dispendukcapil Grobogan", "id": "grobogan"},
            "storage": {"path": str(tmp_path / "pantau.db")},
            "service_hours": {
                "weekly": {d: WEEKDAY for d in ("mon", "tue", "wed", "thu", "fri")},
                "holidays": None,
                "closed": ["2026-12-03"],
            },
            "outage": {"down_after": 1, "up_after": 1},
            "targets": [
                {"name": "dc-siak", "role": "datacenter", "kind": "tcp", "host": "127.0.0.1",
                 "port": 9},
                {"name": "isp-gw", "role": "isp", "kind": "tcp", "host": "127.0.0.1", "port": 9},
            ],
            **extra,
        }
    )  # fmt: skip


def _at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=WIB).timestamp()


def _samples(metrics: Metrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in metrics.registry.collect()
        for s in family.samples
        if s.name == name
    }


def _windows(metrics: Metrics) -> list[tuple[str, str]]:
    starts = _samples(metrics, "pantau_service_window_start_timestamp_seconds")
    ends = _samples(metrics, "pantau_service_window_end_timestamp_seconds")
    assert starts.keys() == ends.keys()
    out = []
    for index in range(len(starts)):
        key = (("window", str(index)),)
        s = datetime.fromtimestamp(starts[key], WIB).strftime("%a %d %H:%M")
        e = datetime.fromtimestamp(ends[key], WIB).strftime("%H:%M")
        out.append((s, e))
    return out


def _setup(tmp_path: Path, **extra: object) -> tuple[Metrics, PageFacts, LinkTracker]:
    config = _config(tmp_path, **extra)
    metrics = Metrics(CollectorRegistry())
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    ledger = Ledger(config.storage.path, config.office.office_id)
    tracker = LinkTracker(config, calendar, ledger, metrics)
    return metrics, PageFacts(config, calendar, metrics), tracker


def test_windows_of_the_next_days_skip_closed_days_and_keep_the_open_ones_start(tmp_path):
    metrics, facts, tracker = _setup(tmp_path)
    facts.update(tracker, _at("2026-12-01T10:15:00"))  # a Tuesday, open
    windows = _windows(metrics)
    assert windows[:5] == [
        ("Tue 01 07:30", "12:00"),  # the open window, with its real start
        ("Tue 01 13:00", "16:00"),
        ("Wed 02 07:30", "12:00"),
        ("Wed 02 13:00", "16:00"),
        ("Fri 04 07:30", "12:00"),  # Thursday the 3rd is closed; the weekend too
    ]
    assert len(windows) == MAX_WINDOWS or windows[-1][0] < "Wed 09"
    # In the break, window 0 is the afternoon; a window fewer than before is removed.
    facts.update(tracker, _at("2026-12-01T12:30:00"))
    assert _windows(metrics)[0] == ("Tue 01 13:00", "16:00")


def test_outage_start_and_hop_while_open_and_page_settings(tmp_path):
    dashboard = "https://grafana.grobogan.example.go.id/d/pantau-link/pantau"
    metrics, facts, tracker = _setup(tmp_path, pages={"language": "en", "dashboard_url": dashboard})
    start = _at("2026-12-01T10:00:00")
    for t, ok in ((start - 10, True), (start, False), (start + 30, True)):
        for target, role in (("isp-gw", "isp"), ("dc-siak", "datacenter")):
            reason = None if ok or role == "isp" else "timeout"
            result = ProbeResult(target, role, "tcp", t, 0.0, 0.01, 0.01, reason, "", Observation())
            tracker.observe(result)
        facts.update(tracker, t + 1)
        if t == start:
            assert _samples(metrics, "pantau_outage_start_timestamp_seconds") == {(): start}
            assert _samples(metrics, "pantau_outage_hop_info") == {
                (("reason", "timeout"), ("role", "datacenter"), ("target", "dc-siak")): 1.0
            }
    assert _samples(metrics, "pantau_outage_start_timestamp_seconds") == {(): 0.0}
    assert _samples(metrics, "pantau_outage_hop_info") == {}
    (info,) = _samples(metrics, "pantau_page_info")
    assert dict(info) == {
        "language": "en", "dashboard_url": dashboard, "isp": "ISP", "circuit": "",
        "helpdesk": "Helpdesk Ditjen Dukcapil Kemendagri",
    }  # fmt: skip
