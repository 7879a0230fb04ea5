"""Issue 16's hand-worked month: planned and unplanned lost time, the same in every view.

November 2026 in Grobogan (WIB, UTC+7); counter hours Mon-Fri 08:00-12:00 and 13:00-17:30
(8 h 30 min = 30,600 s a day), no holidays: 21 service days, 642,600 s scheduled.

- The center announced maintenance Thu 12 Nov 17:00 - Fri 13 Nov 09:00 (its schedule file,
  fetched earlier and kept in the ledger). The data center went down at 17:00 and came back
  only Fri 10:30. Thu: 17:00-17:30 = 1,800 s lost, all planned. Fri: 08:00-10:30 = 9,000 s
  lost, 08:00-09:00 = 3,600 s planned, 09:00-10:30 = 5,400 s unplanned.
- A two-day central outage, never announced: Mon 16 Nov 10:00 - Wed 18 Nov 10:00.
  Mon 10:00-12:00 + 13:00-17:30 = 23,400 s; Tue all day = 30,600 s; Wed 08:00-10:00 = 7,200 s.
- The office's weekly window (config), Fridays 16:30-17:30. An ISP outage Fri 20 Nov
  16:00-17:00: 3,600 s lost, 16:30-17:00 = 1,800 s planned, 16:00-16:30 = 1,800 s unplanned.
- The primary uplink down Tue 24 Nov 09:00-14:10 while the service went on through the 4G
  backup: 09:00-12:00 + 13:00-14:10 = 15,000 s = "4 jam 10 menit melalui jalur cadangan".

Month: lost 75,600 s = planned 7,200 + unplanned 68,400; on backup 15,000 s; availability
(642,600 - 75,600) / 642,600.
"""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from prometheus_client import CollectorRegistry

from monitor.calendar import ServiceCalendar
from monitor.cli import main
from monitor.config import parse_config
from monitor.daemon import Daemon
from monitor.ledger import Ledger
from monitor.maintenance.central import CentralStore
from monitor.maintenance.config import Schedule
from monitor.maintenance.job import MaintenanceWatch
from monitor.metrics import Metrics
from monitor.report.locale import Formatter
from monitor.report.model import build_report, collect
from monitor.report.render import render_html, render_text
from monitor.status.board import service_week
from monitor.uplinks.ledger import DegradedLedger
from monitor.web import make_routes
from tests.fixtures.report.ledger import CONFIG, at, evidence, outage
from tests.support.web import serving

DAY = 30_600.0
FIRST, LAST = date(2026, 11, 1), date(2026, 11, 30)
# date -> (lost, planned) by hand
EXPECTED = {
    date(2026, 11, 12): (1_800.0, 1_800.0),
    date(2026, 11, 13): (9_000.0, 3_600.0),
    date(2026, 11, 16): (23_400.0, 0.0),
    date(2026, 11, 17): (30_600.0, 0.0),
    date(2026, 11, 18): (7_200.0, 0.0),
    date(2026, 11, 20): (3_600.0, 1_800.0),
}
BACKUP = {date(2026, 11, 24): 15_000.0}
LOST, PLANNED, UNPLANNED, SCHEDULED = 75_600.0, 7_200.0, 68_400.0, 21 * DAY
CENTRAL = {
    "windows": [
        {"name": "Pemeliharaan SIAK Terpusat", "start": "2026-11-12T17:00:00+07:00",
         "end": "2026-11-13T09:00:00+07:00", "announced_by": "center"},
    ]
}  # fmt: skip


def config_data(tmp_path: Path) -> dict[str, Any]:
    data = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    data["storage"]["path"] = str(tmp_path / "pantau.db")
    hours = ["08:00-12:00", "13:00-17:30"]
    weekly: dict[str, Any] = {d: hours for d in ("mon", "tue", "wed", "thu", "fri")}
    weekly |= {"sat": [], "sun": []}
    data["service_hours"] = {"weekly": weekly, "holidays": None}
    data["targets"][1] |= {"uplink": "fiber"}
    data["targets"].append(
        {"name": "isp-4g", "role": "isp", "kind": "tcp", "host": "127.0.0.1", "port": 9,
         "uplink": "4g"}
    )  # fmt: skip
    data["maintenance"] = {
        "url": "http://127.0.0.1:9/jadwal.yaml",  # the WAN is down: the stored copy applies
        "weekly": [{"name": "Pekerjaan TI kantor", "days": ["fri"], "start": "16:30",
                    "end": "17:30", "announced_by": "office"}],
    }  # fmt: skip
    return data


def fill(ledger: Ledger, path: Path) -> None:
    ledger.beat(at(1, "00:00", 10))  # monitored since October
    dc = evidence("dc-siak", **{"dc-siak": ("datacenter", "refused", 3)})
    isp = evidence("isp-gw", **{"isp-gw": ("isp", "timeout", 3)})
    outage(
        ledger, "outage", at(12, "17:00"), at(13, "10:30"), [(at(12, "17:00"), "datacenter")], dc
    )
    outage(
        ledger, "outage", at(16, "10:00"), at(18, "10:00"), [(at(16, "10:00"), "datacenter")], dc
    )
    outage(ledger, "outage", at(20, "16:00"), at(20, "17:00"), [(at(20, "16:00"), "isp")], isp)
    ledger.beat(time.time())
    store = CentralStore(path, "grobogan")
    store.save("http://127.0.0.1:9/jadwal.yaml", '"v1"', Schedule.model_validate(CENTRAL), 0.0)
    store.close()
    degraded = DegradedLedger(path, "grobogan")
    row = degraded.open("fiber", at(24, "09:00"), "isp")
    degraded.close_row(row, at(24, "14:10"))
    degraded.close()


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(list(args)) == 0
    return capsys.readouterr().out


def _days() -> list[date]:
    return [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]


def _check_day(got: dict[str, Any], day: date) -> None:
    lost, planned = EXPECTED.get(day, (0.0, 0.0))
    service = day.weekday() < 5
    assert got["scheduled_seconds"] == (DAY if service else 0.0), day
    assert got["lost_seconds"] == lost, day
    assert got["planned_seconds"] == planned, day
    assert got["unplanned_seconds"] == lost - planned, day
    assert got["degraded_seconds"] == BACKUP.get(day, 0.0), day
    assert got["unmonitored_seconds"] == 0.0 and got["not_yet_seconds"] == 0.0, day


def _check_total(got: dict[str, Any]) -> None:
    assert (got["scheduled_seconds"], got["lost_seconds"]) == (SCHEDULED, LOST)
    assert (got["planned_seconds"], got["unplanned_seconds"]) == (PLANNED, UNPLANNED)
    assert got["degraded_seconds"] == 15_000.0
    assert got["availability"] == round((SCHEDULED - LOST) / SCHEDULED, 6)


async def test_the_month_matches_the_hand_calculation_in_every_view(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = config_data(tmp_path)
    config = parse_config(data)
    path = tmp_path / "pantau.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    ledger = Ledger(config.storage.path, config.office.office_id)
    fill(ledger, config.storage.path)
    now = time.time()

    # The daily report of every day (its account, and the words in text and HTML).
    f = Formatter("id")
    for day in _days():
        report = build_report(collect(ledger, calendar, config, day), calendar, config, day, now)
        assert report.account is not None
        _check_day(report.account.as_json(), day)
        text, html = render_text(report, "id"), render_html(report, "id")
        lost, planned = EXPECTED.get(day, (0.0, 0.0))
        if planned:
            line = f"{f.duration(planned)} dari waktu yang hilang, dalam jadwal pemeliharaan"
            assert f"Pemeliharaan terjadwal: {line}" in text and line in html, text
            assert f"Gangguan tidak terencana: {f.duration(lost - planned)}" in text
        else:
            assert "Pemeliharaan terjadwal" not in text
        if day in BACKUP:
            assert "Melalui jalur cadangan: 4 jam 10 menit melalui jalur cadangan" in text
    month_end = build_report(collect(ledger, calendar, config, LAST), calendar, config, LAST, now)
    _check_total(month_end.month.as_json()["total"])
    assert (
        f"Bulan ini: pemeliharaan terjadwal {f.duration(PLANNED)}, gangguan tidak terencana"
        f" {f.duration(UNPLANNED)}" in render_text(month_end, "id")
    )
    assert "Bulan ini: 4 jam 10 menit melalui jalur cadangan" in render_text(month_end, "id")
    # The dashboard's gauges (the daemon refreshes them every minute) on the month's last day.
    registry = CollectorRegistry()
    watch = MaintenanceWatch(config, Metrics(registry), ledger, calendar)
    watch.totals(at(30, "23:00"))
    watch.store.close()
    for period, planned, backup in (("today", 0.0, 0.0), ("month", PLANNED, 15_000.0)):
        labels = {"period": period}
        assert registry.get_sample_value("pantau_ledger_planned_service_seconds", labels) == planned
        assert registry.get_sample_value("pantau_ledger_degraded_service_seconds", labels) == backup
    # The status page on Friday the 13th at noon: today's planned part of the lost time.
    week = service_week(ledger, calendar, config, at(13, "12:00"))
    assert (week.today_lost, week.today_planned) == (9_000.0, 3_600.0)
    ledger.close()

    # The recap (`pantau report range`) as CSV, JSON and HTML.
    span = ["-c", str(path), "--from", FIRST.isoformat(), "--to", LAST.isoformat()]
    rows = list(csv.DictReader(io.StringIO(_cli(capsys, "report", "range", *span))))
    recap = json.loads(_cli(capsys, "report", "range", *span, "--format", "json"))
    recap_html = _cli(capsys, "report", "range", *span, "--format", "html")
    for row, day in zip(rows, _days(), strict=True):
        lost, planned = EXPECTED.get(day, (0.0, 0.0))
        got = {k: int(row[k]) for k in ("lost_seconds", "planned_seconds", "unplanned_seconds")}
        assert got == {"lost_seconds": lost, "planned_seconds": planned,
                       "unplanned_seconds": lost - planned}, day  # fmt: skip
        assert int(row["degraded_seconds"]) == BACKUP.get(day, 0.0)
    for got_day, day in zip(recap["days"], _days(), strict=True):
        _check_day(got_day, day)
    _check_total(recap["total"])
    total_cells = f"<td>{f.duration(LOST)}</td><td>{f.duration(PLANNED)}</td>"
    assert total_cells + f"<td>{f.duration(UNPLANNED)}</td>" in recap_html

    # `pantau outages` (JSON and table) and /api/outages of a real listener.
    outages = json.loads(_cli(capsys, "outages", *span, "--format", "json"))
    table = _cli(capsys, "outages", *span)
    assert f"of the lost: planned {PLANNED:.0f}, unplanned {UNPLANNED:.0f}" in table
    daemon = Daemon(config)
    daemon.ledger = Ledger(config.storage.path, config.office.office_id)
    routes = make_routes(daemon.metrics, daemon.status, daemon.healthy, daemon.outages)
    try:
        async with serving(routes) as base, aiohttp.ClientSession() as http:
            query = {"from": FIRST.isoformat(), "to": LAST.isoformat()}
            url = f"{base}/api/outages"
            async with http.get(url, params=query) as response:
                api = await response.json()
    finally:
        daemon.ledger.close()
    for view in (outages, api):
        for got_day, day in zip(view["days"], _days(), strict=True):
            _check_day(got_day, day)
        _check_total(view["total"])
        per_outage = [
            (o["lost_service_seconds"], o["planned_service_seconds"]) for o in view["outages"]
        ]
        assert per_outage == [(10_800.0, 5_400.0), (61_200.0, 0.0), (3_600.0, 1_800.0)]
        assert [w["announced_by"] for w in view["maintenance"]][:2] == ["office", "center"]
        (backup,) = view["degraded"]
        assert (backup["uplink"], backup["domain"], backup["service_seconds"]) == (
            "fiber", "isp", 15_000.0,
        )  # fmt: skip
        assert backup["start_local"] == "2026-11-24T09:00:00+07:00"
