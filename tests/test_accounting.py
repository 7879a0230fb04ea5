"""The one accounting of service time (monitor.calendar.accounting), worked by hand, and the
evidence's first failing probe."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from monitor.calendar import ServiceCalendar
from monitor.calendar.accounting import (
    DAEMON_NOT_RUNNING,
    NOT_MONITORED_YET,
    Facts,
    account_day,
    account_days,
    unmonitored_spans,
)
from monitor.cli import main
from monitor.ledger import Episode, Gap, Ledger
from monitor.metrics import Metrics
from monitor.outages import outage_rows, render
from monitor.tracker import LinkTracker
from tests.factories import result
from tests.fixtures.report.ledger import WIB, at, make_config, write_config

MIN = 60.0
MONDAY = date(2026, 11, 30)  # 07:30-12:00, 13:00-16:00 (7 h 30 min)


@pytest.fixture
def calendar(tmp_path: Path) -> ServiceCalendar:
    config = make_config(tmp_path)
    return ServiceCalendar(config.service_hours, config.office.zone)


def outage(start: float, end: float | None, domain: str = "isp", kind: str = "outage") -> Episode:
    return Episode(0, kind, start, end, [(start, domain)])  # type: ignore[arg-type]


def test_installed_mid_day_then_the_future(calendar: ServiceCalendar) -> None:
    facts = Facts(first_seen=at(30, "10:00"), last_seen=at(30, "11:00"))
    day = account_day(facts, calendar, WIB, MONDAY, at(30, "11:00"))
    assert day.scheduled_seconds == 7.5 * 3600
    assert day.unmonitored_seconds == 150 * MIN  # 07:30-10:00, before the first heartbeat
    assert day.monitored_seconds == 60 * MIN  # 10:00-11:00
    assert day.not_yet_seconds == 4 * 3600  # 11:00-12:00 and 13:00-16:00
    assert day.availability == 1.0 and day.mostly_unmonitored
    tomorrow = account_day(facts, calendar, WIB, MONDAY + timedelta(days=1), at(30, "11:00"))
    assert (tomorrow.not_yet_seconds, tomorrow.monitored_seconds) == (7.5 * 3600, 0.0)
    assert tomorrow.availability is None


def test_no_heartbeat_at_all_is_unmonitored(calendar: ServiceCalendar) -> None:
    week = account_days(Facts(), calendar, WIB, date(2026, 11, 23), MONDAY, at(30, "17:00"))
    assert week.unmonitored_seconds == week.scheduled_seconds > 0
    assert week.availability is None and week.lost_seconds == 0


def test_stale_heartbeat_and_a_gap_overlapping_it_count_once(calendar: ServiceCalendar) -> None:
    facts = Facts(
        episodes=(outage(at(30, "07:45"), None),),
        gaps=(Gap(at(30, "08:00"), at(30, "10:00"), "daemon not running"),),
        first_seen=at(1, "00:00"),
        last_seen=at(30, "09:30"),
    )
    spans = unmonitored_spans(facts, at(30, "11:00"))
    assert spans[-1] == (at(30, "08:00"), at(30, "11:00"), DAEMON_NOT_RUNNING)
    assert spans[0][2] == NOT_MONITORED_YET
    day = account_day(facts, calendar, WIB, MONDAY, at(30, "11:00"))
    assert day.unmonitored_seconds == 3 * 3600  # 08:00-11:00 once, not 08:00-10:00 twice
    assert day.lost_seconds == 15 * MIN  # 07:45-08:00: the rest of the open outage is unknown


def test_an_outage_back_dated_before_the_first_heartbeat_is_known(
    calendar: ServiceCalendar,
) -> None:
    # Started 09:00:00, confirmed and first heartbeat at 09:00:03: the outage is evidence.
    first = at(30, "09:00")
    facts = Facts(episodes=(outage(first, first + 60),), first_seen=first + 3, last_seen=first + 60)
    day = account_day(facts, calendar, WIB, MONDAY, first + 60)
    assert day.lost_seconds == 60.0
    assert day.unmonitored_seconds == 90 * MIN  # 07:30-09:00


def test_evidence_cites_the_first_probe_of_the_confirming_run(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    ledger = Ledger(":memory:", config.office.office_id)
    tracker = LinkTracker(config, calendar, ledger, Metrics(CollectorRegistry()))
    roles = {t.name: t.role for t in config.targets}
    t0 = at(30, "09:00")
    for name, role in roles.items():
        tracker.observe(result(name, t0, role=role))
    failures = [t0 + 10 + 7 * i for i in range(config.outage.down_after)]  # 10, 17, 24 s
    for when in failures:
        for name, role in roles.items():
            tracker.observe(result(name, when, ok=role != "datacenter", role=role,
                                   reason="refused"))  # fmt: skip
    episode = tracker.episode
    assert episode is not None and episode.started_at == failures[0]
    cited = episode.evidence["targets"]["dc-siak"]
    assert cited["first_at"] == episode.started_at  # not the down_after-th probe, 14 s later
    assert cited["count"] == len(failures) and cited["last_at"] == failures[-1]
    ledger.close()


def test_a_future_date_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path)
    Ledger(tmp_path / "pantau.db", "grobogan").close()
    tomorrow = datetime.now(WIB).date() + timedelta(days=1)
    assert main(["report", "daily", "-c", str(path), "--date", tomorrow.isoformat()]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--date" in err and "Traceback" not in err


def test_outages_header_is_in_the_office_zone(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    ledger = Ledger(config.storage.path, config.office.office_id)
    ledger.beat(at(30, "07:00"))
    ledger.beat(at(30, "16:59"))
    data = outage_rows(ledger, calendar, config, at(30, "00:00"), at(1, "00:00", 12),
                       at(30, "17:00"))  # fmt: skip
    ledger.close()
    header = render(data, "table").splitlines()[0]
    assert "2026-11-30T00:00:00+07:00 .. 2026-12-01T00:00:00+07:00" in header
    assert data["days"][0]["unmonitored_seconds"] == 0.0  # 07:00 heartbeat, hours from 07:30
