"""The dashboard's lost time per period is the ledger's: today live, past days kept and
recounted when a gap is recorded after a restart (monitor/paging/ledger_totals.py)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry

from monitor.calendar import ServiceCalendar
from monitor.config import parse_config
from monitor.ledger import Ledger
from monitor.metrics import Metrics
from monitor.outages import day_bounds, outage_rows
from monitor.paging.ledger_totals import LedgerTotals

WIB = ZoneInfo("Asia/Jakarta")
ALL_DAY = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=WIB).timestamp()  # Thursday 10:00 WIB


def _at(day: int, hh: int, mm: int = 0) -> float:
    return datetime(2026, 11 if day > 3 else 12, day, hh, mm, tzinfo=WIB).timestamp()


def _shown(metrics: Metrics, period: str) -> float:
    return sum(
        s.value
        for family in metrics.registry.collect()
        for s in family.samples
        if s.name == "pantau_ledger_lost_service_seconds" and s.labels["period"] == period
    )


def test_periods_follow_the_ledger_and_a_recorded_gap_is_recounted(tmp_path: Path) -> None:
    config = parse_config({
        "office": {"name": "Dispendukcapil Grobogan", "id": "grobogan"},
        "storage": {"path": str(tmp_path / "pantau.db")},
        "service_hours": {"weekly": ALL_DAY, "holidays": None},
        "targets": [{"name": "a", "role": "datacenter", "kind": "tcp", "host": "127.0.0.1",
                     "port": 9}],
    })  # fmt: skip
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    ledger = Ledger(config.storage.path, "grobogan")
    for start, seconds, domain in (
        (_at(28, 9), 600, "isp"),  # November: in 7d and 30d, not this month
        (_at(2, 9), 300, "datacenter"),  # yesterday
        (_at(3, 8), 75, "datacenter"),  # today
        (_at(1, 23, 59), 120, "datacenter"),  # across midnight: 60 s on each day
    ):
        episode = ledger.open_episode("outage", start, domain, {"targets": {}})
        episode.ended_at = start + seconds
        ledger.save_episode(episode)
    open_now = ledger.open_episode("outage", NOW - 30, "isp", {"targets": {}})  # still going
    ledger.save_episode(open_now)
    metrics = Metrics(CollectorRegistry())
    totals = LedgerTotals(config, calendar, ledger, metrics)
    totals.update(NOW, 0.0)

    today = datetime.fromtimestamp(NOW, WIB).date()
    start, end = day_bounds(today, today, config)
    rows = outage_rows(ledger, calendar, config, start, end, NOW)["outages"]
    assert _shown(metrics, "today") == sum(r["lost_service_seconds"] for r in rows) == 105
    assert _shown(metrics, "month") == 105 + 300 + 120
    assert _shown(metrics, "7d") == _shown(metrics, "30d") == 105 + 300 + 120 + 600

    # Today is live: 10 s later the open outage has lost 10 s more (after the refresh period).
    totals.update(NOW + 10, 5.0)
    assert _shown(metrics, "today") == 105
    totals.update(NOW + 10, 10.0)
    assert _shown(metrics, "today") == 115

    # A restart records that nobody watched yesterday 09:00-09:02: recounted, never lost.
    ledger.add_gap(_at(2, 9), _at(2, 9, 2), "daemon not running")
    totals.invalidate(_at(2, 9), _at(2, 9, 2))
    totals.update(NOW + 20, 20.0)
    assert _shown(metrics, "today") == 125  # and the open outage goes on
    assert _shown(metrics, "month") == 125 + 180 + 120
    assert _shown(metrics, "7d") == 125 + 180 + 120 + 600
