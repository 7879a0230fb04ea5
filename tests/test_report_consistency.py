"""One generated ledger read through every view a person sees: the same seconds everywhere.

The ledger (office hours 08:00-12:00 and 13:00-16:00 every day, WIB; D is today):

- D-6: before the first heartbeat: wholly unmonitored, never "0 lost".
- D-5: installed at 10:00 (first heartbeat); ISP outage 11:00-11:20.
- D-4: data-center outage 08:30-11:00, with a SIGKILL gap 09:00-10:30 inside it: 60 min lost.
- D-3: outage 13:30-14:30 whose domain changes (data center, ISP from 14:00); slow 15:00-15:30.
- D-2: a holiday (closed): an outage 09:00-09:30 costs nothing; an ISP outage from 23:00 runs
  across midnight to D-1 08:30 (30 min lost on D-1).
- D: today, the daemon is running (fresh heartbeat). D+1 and D+2: not yet.

Views: the daily report (JSON, text, HTML, subject), `pantau report range` (CSV and JSON),
`pantau outages --format json`, /api/outages and /api/status of a real HTTP listener.
"""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from monitor.calendar import ServiceCalendar
from monitor.calendar.accounting import Account, account_days, read_facts
from monitor.cli import main
from monitor.config import Config, parse_config
from monitor.daemon import Daemon
from monitor.httpserver import Routes
from monitor.ledger import Ledger
from monitor.report.locale import Formatter
from monitor.report.model import build_report, collect
from monitor.report.render import render_html, render_subject, render_text
from monitor.web import make_routes
from tests.fixtures.report.ledger import CONFIG, WIB, evidence, outage
from tests.support.web import serving

MIN = 60.0
HOURS = ["08:00-12:00", "13:00-16:00"]
DAY = 7 * 3600.0
TODAY = datetime.now(WIB).date()


def d(offset: int) -> date:
    return TODAY + timedelta(days=offset)


def loc(offset: int, hhmm: str) -> float:
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return datetime.combine(d(offset), datetime.min.time(), WIB).timestamp() + (
        hours * 3600 + minutes * 60
    )


def config_data(tmp_path: Path) -> dict[str, Any]:
    data = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    data["storage"]["path"] = str(tmp_path / "pantau.db")
    weekly = {day: HOURS for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    data["service_hours"] = {"weekly": weekly, "holidays": None, "closed": [d(-2).isoformat()]}
    return data


def fill(ledger: Ledger) -> None:
    ledger.beat(loc(-5, "10:00"))  # installed: the first heartbeat
    ev = evidence("isp-gw", **{"isp-gw": ("isp", "timeout", 3)})
    outage(ledger, "outage", loc(-5, "11:00"), loc(-5, "11:20"), [(loc(-5, "11:00"), "isp")], ev)
    dc = evidence("dc-siak", **{"dc-siak": ("datacenter", "refused", 3)})
    outage(ledger, "outage", loc(-4, "08:30"), loc(-4, "11:00"), [(loc(-4, "08:30"), "datacenter")],
           dc)  # fmt: skip
    ledger.add_gap(loc(-4, "09:00"), loc(-4, "10:30"), "daemon not running")
    outage(ledger, "outage", loc(-3, "13:30"), loc(-3, "14:30"),
           [(loc(-3, "13:30"), "datacenter"), (loc(-3, "14:00"), "isp")], dc)  # fmt: skip
    outage(ledger, "slow", loc(-3, "15:00"), loc(-3, "15:30"), [(loc(-3, "15:00"), "datacenter")],
           dc)  # fmt: skip
    outage(ledger, "outage", loc(-2, "09:00"), loc(-2, "09:30"), [(loc(-2, "09:00"), "isp")], ev)
    outage(ledger, "outage", loc(-2, "23:00"), loc(-1, "08:30"), [(loc(-2, "23:00"), "isp")], ev)
    ledger.beat(time.time())  # the daemon is running now


EXPECTED_LOST = {-6: 0.0, -5: 20 * MIN, -4: 60 * MIN, -3: 60 * MIN, -2: 0.0, -1: 30 * MIN}
EXPECTED_UNMONITORED = {-6: DAY, -5: 2 * 3600.0, -4: 90 * MIN, -3: 0.0, -2: 0.0, -1: 0.0}
FIXED = ("date", "scheduled_seconds", "lost_by_domain", "slow_by_domain", "outages")
"""Fields that do not move with `now`; the rest do for today (monitored time grows)."""


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(list(args)) == 0
    return capsys.readouterr().out


def _routes(config: Config) -> tuple[Routes, Daemon]:
    daemon = Daemon(config)
    daemon.ledger = Ledger(config.storage.path, config.office.office_id)
    return make_routes(daemon.metrics, daemon.status, daemon.healthy, daemon.outages), daemon


def _same_day(a: dict[str, Any], b: dict[str, Any], past: bool) -> None:
    keys = set(a) if past else FIXED
    assert {k: a[k] for k in keys} == {k: b[k] for k in keys}, (a, b)


async def test_every_view_tells_the_same_seconds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = config_data(tmp_path)
    config = parse_config(data)
    path = tmp_path / "pantau.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    ledger = Ledger(config.storage.path, config.office.office_id)
    fill(ledger)
    now = time.time()
    first, last = d(-6), d(2)
    start = datetime.combine(first, datetime.min.time(), WIB).timestamp()
    truth: Account = account_days(read_facts(ledger, start - 86400, now + 3 * 86400), calendar,
                                  config.office.zone, first, last, now)  # fmt: skip
    by_date = {a.date: a for a in truth.days}

    # The account itself, worked by hand.
    for offset, lost in EXPECTED_LOST.items():
        day = by_date[d(offset)]
        assert day.lost_seconds == lost, (offset, day)
        assert day.unmonitored_seconds == EXPECTED_UNMONITORED[offset], (offset, day)
        assert day.not_yet_seconds == 0.0
        assert day.scheduled_seconds == (0.0 if offset == -2 else DAY)
    assert by_date[d(-6)].availability is None  # before installing: no number, never 100 %
    assert by_date[d(-3)].lost_by_domain == {"datacenter": 30 * MIN, "isp": 30 * MIN}
    assert by_date[d(-3)].slow_seconds == 30 * MIN
    assert by_date[d(-2)].outages == 2 and by_date[d(-1)].lost_by_domain == {"isp": 30 * MIN}
    for offset in (1, 2):
        future = by_date[d(offset)]
        assert (future.not_yet_seconds, future.monitored_seconds) == (DAY, 0.0)
        assert future.availability is None
    for day in truth.days:  # every scheduled second is exactly one of these
        assert day.monitored_seconds + day.unmonitored_seconds + day.not_yet_seconds == (
            day.scheduled_seconds
        )

    # The daily report of each past day: JSON, text, HTML and subject.
    reports = {}
    for offset in range(-6, 0):
        report = build_report(collect(ledger, calendar, config, d(offset)), calendar, config,
                              d(offset), now)  # fmt: skip
        reports[offset] = report
        assert report.as_json()["account"] == by_date[d(offset)].as_json()
        assert report.lost_seconds == by_date[d(offset)].lost_seconds
        assert report.unmonitored_seconds == by_date[d(offset)].unmonitored_seconds
        assert sum(i.service_seconds for i in report.incidents if i.kind == "outage") == (
            report.lost_seconds
        )
        assert sum(u.service_seconds for u in report.unmonitored) == report.unmonitored_seconds
        f = Formatter("id")
        if report.is_service_day and not report.mostly_unmonitored:
            text, html = render_text(report, "id"), render_html(report, "id")
            shown = f.duration(report.lost_seconds)
            assert f"{shown} dari {f.duration(report.monitored_seconds)}" in text
            assert shown in html and f.percent(report.availability) in render_subject(report, "id")
        # The trend's days are the same accounts as the range's.
        for trend_day in report.trends[0].days:
            if trend_day.date in by_date:
                _same_day(trend_day.as_json(), by_date[trend_day.date].as_json(), past=True)
    assert "Tidak terpantau" in render_subject(reports[-6], "id")
    assert "Tidak terpantau" not in render_subject(reports[-5], "id")  # 2 h of 7 h: beside it
    ledger.close()

    # `pantau report range` as CSV and JSON.
    span = ["-c", str(path), "--from", first.isoformat(), "--to", last.isoformat()]
    rows = list(csv.DictReader(io.StringIO(_cli(capsys, "report", "range", *span))))
    recap = json.loads(_cli(capsys, "report", "range", *span, "--format", "json"))
    recap_html = _cli(capsys, "report", "range", *span, "--format", "html")
    f = Formatter("id")
    assert f"<td>{f.duration(truth.lost_seconds)}</td>" in recap_html  # the total row
    # `pantau outages --format json` and the same through the daemon's HTTP API.
    outages = json.loads(_cli(capsys, "outages", *span, "--format", "json"))
    routes, daemon = _routes(config)
    try:
        async with serving(routes) as base, aiohttp.ClientSession() as http:
            query = {"from": first.isoformat(), "to": last.isoformat()}
            async with http.get(f"{base}/api/outages", params=query) as response:
                api = await response.json()
            async with http.get(f"{base}/api/status") as response:
                status = await response.json()
    finally:
        assert daemon.ledger is not None
        daemon.ledger.close()

    for view in (recap, outages, api):
        assert [x["date"] for x in view["days"]] == [a.date.isoformat() for a in truth.days]
        for got, want in zip(view["days"], truth.days, strict=True):
            _same_day(got, want.as_json(), past=want.date < TODAY)
    for row, want in zip(rows, truth.days, strict=True):
        assert row["date"] == want.date.isoformat()
        expected = {
            "scheduled_seconds": want.scheduled_seconds,
            "lost_seconds": want.lost_seconds,
            "slow_seconds": want.slow_seconds,
            "lost_isp_seconds": want.lost_by_domain.get("isp", 0.0),
            "lost_datacenter_seconds": want.lost_by_domain.get("datacenter", 0.0),
        }
        assert {k: int(row[k]) for k in expected} == {k: round(v) for k, v in expected.items()}
        if want.date < TODAY:
            assert int(row["unmonitored_seconds"]) == round(want.unmonitored_seconds)
            assert int(row["not_yet_seconds"]) == round(want.not_yet_seconds)
    _same_day(status["today"], by_date[TODAY].as_json(), past=False)

    # Per outage (pantau outages): each one's lost seconds add up to the days' lost seconds.
    assert sum(o["lost_service_seconds"] for o in outages["outages"] if o["kind"] == "outage") == (
        pytest.approx(truth.lost_seconds, abs=0.01)
    )
    assert sum(u["service_seconds"] for u in outages["unmonitored"]) == pytest.approx(
        truth.unmonitored_seconds, abs=1.0
    )  # today's part moves with `now`; the past is exact (checked per day above)
