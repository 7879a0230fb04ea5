"""Maintenance windows (issue 16): expansion, the center's file (ETag, bad files, WAN down),
and `pantau_maintenance_active`."""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry

from monitor.calendar import ServiceCalendar, ServiceHoursConfig
from monitor.calendar.config import WEEKDAYS
from monitor.config import Config, parse_config
from monitor.ledger import Ledger
from monitor.maintenance.central import CentralStore, parse_schedule, refresh
from monitor.maintenance.config import MaintenanceConfig
from monitor.maintenance.job import MaintenanceWatch
from monitor.maintenance.plan import active, windows_between
from monitor.metrics import Metrics
from monitor.report.model import build_report, collect
from monitor.report.render import render_text
from monitor.status.board import Live, Week, build_view
from monitor.status.web import words_of
from tests.fixtures.report.ledger import FRIDAY, WIB, at, fill, make_config

GOOD = b"""
windows:
  - {name: SIAK, start: "2026-12-10 17:00", end: "2026-12-12 08:00", announced_by: center}
"""
JSON = b'{"weekly": [{"name": "DC", "days": ["sun"], "start": "22:00", "end": "02:00",' \
    b' "announced_by": "center"}]}'  # fmt: skip


def wib(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=WIB).timestamp()


def config(tmp_path: Path, **maintenance: Any) -> Config:
    return parse_config(
        {
            "office": {"name": "Grobogan", "id": "grobogan"},
            "storage": {"path": str(tmp_path / "pantau.db")},
            "targets": [{"name": "dc", "role": "datacenter", "kind": "tcp", "host": "127.0.0.1",
                         "port": 9}],
            "maintenance": maintenance,
        }
    )  # fmt: skip


def test_weekly_windows_cross_midnight_and_one_offs_keep_their_zone(tmp_path: Path) -> None:
    cfg = config(
        tmp_path,
        windows=[{"name": "ISP", "start": "2026-12-02 20:00", "end": "2026-12-02 22:00",
                  "timezone": "Asia/Makassar", "announced_by": "isp"}],
        weekly=[{"name": "backup", "days": ["fri"], "start": "23:00", "end": "01:30",
                 "announced_by": "office"}],
    )  # fmt: skip
    found = windows_between([("config", cfg.maintenance)], WIB, wib("2026-12-01T00:00"),
                            wib("2026-12-08T00:00"))  # fmt: skip
    # 20:00 WITA is 19:00 WIB; Friday 4 Dec 23:00 to Saturday 01:30.
    assert [(w.start, w.end, w.announced_by) for w in found] == [
        (wib("2026-12-02T19:00"), wib("2026-12-02T21:00"), "isp"),
        (wib("2026-12-04T23:00"), wib("2026-12-05T01:30"), "office"),
    ]
    # Saturday 00:30 is inside Friday's window; Saturday 23:30 is not (no window on Saturday).
    assert active(found, wib("2026-12-05T00:30")) is not None
    assert active(found, wib("2026-12-05T23:30")) is None


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"windows: [\n", "not YAML or JSON"),
        (b"- a list\n", "must be a mapping"),
        (b"windows: [{name: x, start: 2026-12-10 17:00, end: 2026-12-10 18:00}]", "announced_by"),
    ],
)
def test_a_bad_schedule_says_why_in_one_line(body: bytes, why: str) -> None:
    with pytest.raises(ValueError, match=why) as info:
        parse_schedule(body)
    assert "\n" not in str(info.value)


async def test_the_central_file_is_fetched_with_its_etag_and_a_bad_one_is_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    served: dict[str, Any] = {"body": GOOD, "etag": '"v1"', "status": 200}
    seen: list[str | None] = []

    async def schedule(request: web.Request) -> web.Response:
        seen.append(request.headers.get("If-None-Match"))
        if served["status"] != 200:
            return web.Response(status=served["status"])
        if request.headers.get("If-None-Match") == served["etag"]:
            return web.Response(status=304)
        return web.Response(body=served["body"], headers={"ETag": served["etag"]})

    app = web.Application()
    app.router.add_get("/jadwal", schedule)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/jadwal"
    cfg = config(tmp_path, url=url, timeout="2s")
    Ledger(cfg.storage.path, "grobogan").close()
    store = CentralStore(cfg.storage.path, "grobogan")
    settings = cfg.maintenance
    try:
        async with aiohttp.ClientSession() as http:
            first = await refresh(http, settings, store, 1.0)
            assert first is not None and first.windows[0].name == "SIAK"
            again = await refresh(http, settings, store, 2.0)  # 304: the stored copy
            assert again == first and seen == [None, '"v1"']
            # A new version that is not a schedule: logged in one line, the last good one stays.
            served.update(body=b"windows: [{name: x}]", etag='"v2"')
            with caplog.at_level(logging.WARNING, logger="pantau.maintenance"):
                kept = await refresh(http, settings, store, 3.0)
            assert kept == first
            assert any("maintenance.url" in r.getMessage() for r in caplog.records)
            # JSON works too; then the server fails and the JSON copy stays.
            served.update(body=JSON, etag='"v3"')
            weekly = await refresh(http, settings, store, 4.0)
            assert weekly is not None and weekly.weekly[0].days == ("sun",)
            served["status"] = 500
            assert await refresh(http, settings, store, 5.0) == weekly
    finally:
        await runner.cleanup()
    # The WAN is down (nothing listens): the copy in the ledger still applies.
    assert store.load()[2] == weekly
    store.close()
    down = config(tmp_path, url="http://127.0.0.1:9/jadwal", timeout="1s")
    watch = MaintenanceWatch(down, Metrics(CollectorRegistry()))
    await watch.refresh(wib("2026-12-06T23:00"))  # refused: logged, never raised
    assert watch.current is not None and watch.current.name == "DC"
    await watch.close()


def test_the_gauge_follows_the_window(tmp_path: Path) -> None:
    cfg = config(
        tmp_path,
        windows=[{"name": "SIAK", "start": "2026-12-10 17:00", "end": "2026-12-11 08:00",
                  "announced_by": "center"}],
    )  # fmt: skip
    registry = CollectorRegistry()
    watch = MaintenanceWatch(cfg, Metrics(registry))

    def value(who: str) -> float | None:
        return registry.get_sample_value("pantau_maintenance_active", {"announced_by": who})

    watch.tick(wib("2026-12-10T16:59"))
    assert (value("center"), value("office")) == (0.0, 0.0)
    watch.tick(wib("2026-12-10T17:00"))
    assert (value("center"), value("office")) == (1.0, 0.0)
    watch.tick(wib("2026-12-11T08:00"))
    assert value("center") == 0.0


def test_the_status_page_says_maintenance_and_backup_in_words(tmp_path: Path) -> None:
    cfg = config(
        tmp_path,
        windows=[{"name": "Pemeliharaan SIAK", "start": "2026-12-10 17:00",
                  "end": "2026-12-11 08:00", "announced_by": "center"}],
    )  # fmt: skip
    cfg = cfg.model_copy(update={"service_hours": ServiceHoursConfig.model_validate(
        {"weekly": {d: ["07:00-18:00"] for d in WEEKDAYS}, "holidays": None})})  # fmt: skip
    calendar = ServiceCalendar(cfg.service_hours, cfg.office.zone)
    now = wib("2026-12-10T17:30")
    window = active(windows_between([("config", cfg.maintenance)], WIB, now - 1, now + 1), now)
    week = Week(date(2026, 12, 10), 1800.0, (), today_planned=1800.0, maintenance=window)
    live = Live("down", "datacenter", wib("2026-12-10T17:00"), healthy=True)
    view = build_view(live, week, cfg, calendar, words_of("id"), now)
    assert "Pemeliharaan terjadwal oleh pusat: Pemeliharaan SIAK, sampai" in view["lines"][0]
    assert "Pemeliharaan terjadwal hari ini: 30 menit" in view["lines"]
    backup = build_view(
        Live("up", None, None, healthy=True, degraded=True),
        Week(date(2026, 12, 10), 0.0, ()),
        cfg,
        calendar,
        words_of("id"),
        now,
    )
    assert backup["lines"][0] == "Layanan berjalan melalui jalur cadangan"  # fmt: skip


def test_announced_work_gets_no_ticket_and_the_incident_shows_its_planned_part(
    tmp_path: Path,
) -> None:
    base = make_config(tmp_path)
    # The ISP announced work 06:30-08:00 on Friday 27 Nov: outage A (07:00-07:55) lies inside.
    window = {"name": "Perawatan jaringan", "start": "2026-11-27 06:30",
              "end": "2026-11-27 08:00", "announced_by": "isp"}  # fmt: skip
    cfg = base.model_copy(
        update={"maintenance": MaintenanceConfig.model_validate({"windows": [window]})}
    )
    ledger = Ledger(cfg.storage.path, cfg.office.office_id)
    fill(ledger)
    calendar = ServiceCalendar(cfg.service_hours, cfg.office.zone)
    now = at(28, "12:00")
    report = build_report(collect(ledger, calendar, cfg, FRIDAY), calendar, cfg, FRIDAY, now)
    plain = build_report(collect(ledger, calendar, base, FRIDAY), calendar, base, FRIDAY, now)
    ledger.close()
    first = report.incidents[0]
    assert (first.announced, first.planned_seconds, first.service_seconds) == (True, 1500.0, 1500.0)
    isp = {t.domain: t for t in report.tickets}["isp"]
    assert len(isp.incidents) == len({t.domain: t for t in plain.tickets}["isp"].incidents) - 1
    assert first not in isp.incidents
    assert report.account is not None and report.account.planned_seconds == 1500.0
    assert "pemeliharaan terjadwal 25 menit" in render_text(report, "id")
