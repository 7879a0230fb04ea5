"""The daily report's numbers against a ledger worked out by hand (tests/fixtures/report/ledger.py),
its rendering in both languages, and escaping of every ledger value in HTML."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from monitor.calendar import ServiceCalendar
from monitor.config import ConfigError, parse_config
from monitor.ledger import Ledger
from monitor.report.job import ReportJob, send_time
from monitor.report.locale import Formatter
from monitor.report.model import DailyReport, LedgerData, build_report, collect
from monitor.report.render import render_html, render_subject, render_text
from tests.fixtures.report.ledger import FRIDAY, at, evidence, fill, make_config, outage

MIN = 60.0
HOSTILE = "<script>alert(1)</script>"


def report_of(tmp_path: Path, day: date = FRIDAY, now: float | None = None,
              target: str = "isp-gw", extra=None) -> DailyReport:  # fmt: skip
    config = make_config(tmp_path)
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    ledger = Ledger(config.storage.path, config.office.office_id)
    try:
        fill(ledger, target)
        if extra:
            extra(ledger)
        data = collect(ledger, calendar, config, day)
    finally:
        ledger.close()
    return build_report(data, calendar, config, day, now or at(day.day, "23:00", day.month))


def test_friday_numbers_worked_by_hand(tmp_path: Path) -> None:
    r = report_of(tmp_path)
    assert r.scheduled_seconds == 7.5 * 3600  # 07:30-11:30 + 13:00-16:30
    assert r.lost_seconds == 85 * MIN  # 25 (A, before opening) + 50 (B, across the break) + 10 (C)
    assert r.lost_by_domain == {"isp": 55 * MIN, "datacenter": 30 * MIN}
    assert r.slow_seconds == 30 * MIN
    assert r.slow_by_domain == {"datacenter": 30 * MIN}
    assert r.unmonitored_seconds == 25 * MIN
    assert r.availability == pytest.approx((450 - 25 - 85) / (450 - 25))
    assert (r.verdict_kind, r.verdict_domain) == ("outage", "isp")
    a, b, s, c = r.incidents
    assert (a.service_seconds, a.domain, a.domains) == (25 * MIN, "isp", ("isp",))
    assert (b.service_seconds, b.domain) == (50 * MIN, "datacenter")  # dc held 90 min, isp 50
    assert b.domains == ("datacenter", "isp")
    assert (s.kind, s.service_seconds) == ("slow", 30 * MIN)
    assert c.service_seconds == 10 * MIN
    assert b.duration_seconds == 140 * MIN
    assert (a.first_hop, a.first_hop_reason) == ("isp-gw", "timeout")
    assert [u.service_seconds for u in r.unmonitored] == [25 * MIN]
    assert r.worth_sending and r.complete


def test_latency_percentiles_and_worst_hour(tmp_path: Path) -> None:
    q = report_of(tmp_path).quality
    # In service hours: successes 0.05 x3, 0.1, 0.2, 0.3, 0.4 and one failure; 06:00 and the
    # 12:15 break are outside. Nearest rank: p50 = 4th of 7 = 0.1, p95 = 7th of 7 = 0.4.
    assert (q.samples, q.failed) == (8, 1)
    assert (q.p50, q.p95) == (0.1, 0.4)
    assert q.worst_hour is not None
    assert q.worst_hour.start.hour == 9  # 1 of 4 failed beats 08:00's slower successes
    assert (q.worst_hour.failed_ratio, q.worst_hour.p95) == (0.25, 0.05)


def test_trend_and_month(tmp_path: Path) -> None:
    r = report_of(tmp_path)
    seven, thirty = r.trends
    assert [d.date.day for d in seven.days] == [19, 20, 23, 24, 25, 26, 27]
    assert seven.scheduled_seconds == 7 * 7.5 * 3600
    assert seven.lost_seconds == (30 + 85) * MIN  # Thursday's 30 min + today
    assert len(thirty.days) == 30 and thirty.scheduled_seconds == 225 * 3600
    assert r.month.service_days == 20  # November 2026 weekdays up to the 27th, no holidays
    assert r.month.lost_seconds == (30 + 85) * MIN  # Sunday 22nd's outage lost nothing: closed
    assert r.month.scheduled_seconds == 150 * 3600


def test_tickets_for_isp_and_ministry(tmp_path: Path) -> None:
    r = report_of(tmp_path)
    isp, dc = r.tickets
    assert (isp.domain, isp.recipient, isp.circuit) == ("isp", "Telkom", "INET-0042-GRB")
    assert [i.start.hour for i in isp.incidents] == [7, 11]
    assert dc.recipient.startswith("Helpdesk")
    assert [i.start.hour for i in dc.incidents] == [11, 14, 16]
    text = render_text(r, "id")
    assert "Yth. Telkom," in text and "INET-0042-GRB" in text
    assert "2026-11-27 07:00 s.d. 2026-11-27 07:55 (WIB)" in text


def test_indonesian_conventions(tmp_path: Path) -> None:
    r = report_of(tmp_path)
    text = render_text(r, "id")
    assert "Jumat, 27 November 2026" in text
    # One headline: availability over monitored time, the unmonitored time beside it.
    assert "Ketersediaan pusat data selama jam layanan: 80,0% dari 7 jam 5 menit" in text
    assert "1 jam 25 menit dari 7 jam 5 menit waktu layanan terpantau" in text
    assert "Tidak terpantau: 25 menit" in text
    assert "Kesimpulan: Jaringan ISP terputus" in text
    subject = render_subject(r, "id")
    assert subject.endswith(
        "ketersediaan 80,0%, hilang 1 jam 25 menit dari 7 jam 5 menit terpantau;"
        " tidak terpantau 25 menit"
    )
    f = Formatter("id")
    assert f.date(date(2026, 11, 30)) == "Senin, 30 November 2026"
    assert (f.percent(0.18888), f.number(1234.5, 1)) == ("18,9%", "1.234,5")
    assert f.ms(1.2345) == "1.234 ms"
    assert (f.duration(85 * MIN), f.duration(7 * 3600), f.duration(30), f.duration(0)) == (
        "1 jam 25 menit", "7 jam", "30 detik", "0 menit",
    )  # fmt: skip


def test_english_renders(tmp_path: Path) -> None:
    r = report_of(tmp_path)
    text = render_text(r, "en")
    assert "Friday, 27 November 2026" in text
    assert "80.0% of 7 h 5 min of monitored service time" in text
    assert "Dear Telkom," in text
    html = render_html(r, "en", "chart@x")
    assert 'lang="en"' in html and 'src="cid:chart@x"' in html
    assert Formatter("en").number(1234.5, 1) == "1,234.5"


def test_no_ledger_value_injects_html(tmp_path: Path) -> None:
    def hostile(ledger: Ledger) -> None:
        outage(ledger, "outage", at(27, "08:00"), at(27, "08:05"), [(at(27, "08:00"), "isp")],
               evidence(HOSTILE, **{HOSTILE: ("isp", "<b>x</b>", 1)}))  # fmt: skip

    r = report_of(tmp_path, target=HOSTILE, extra=hostile)
    for language in ("id", "en"):
        html = render_html(r, language, "c")
        assert "<script>" not in html and "<b>x</b>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert HOSTILE in render_text(r, language)  # plain text shows it as it is


def test_closed_day_sends_nothing_unless_something_happened(tmp_path: Path) -> None:
    quiet = report_of(tmp_path / "a", day=date(2026, 11, 29))  # Sunday, nothing happened
    assert not quiet.is_service_day and not quiet.worth_sending
    sunday = report_of(tmp_path / "b", day=date(2026, 11, 22))  # Sunday with a 1 h outage
    assert sunday.worth_sending and sunday.lost_seconds == 0

    def christmas(ledger: Ledger) -> None:
        outage(ledger, "outage", at(25, "09:00", 12), at(25, "10:00", 12),
               [(at(25, "09:00", 12), "datacenter")], evidence("dc-siak"))  # fmt: skip

    r = report_of(tmp_path / "c", day=date(2026, 12, 25), extra=christmas)
    assert r.worth_sending and r.day_note and "Natal" in r.day_note
    assert r.day_note in render_subject(r, "id") and r.day_note in render_text(r, "id")


def test_partial_day_and_open_outage(tmp_path: Path) -> None:
    def still_down(ledger: Ledger) -> None:
        outage(ledger, "outage", at(30, "09:00"), None, [(at(30, "09:00"), "datacenter")],
               evidence("dc-siak"))  # fmt: skip
        ledger.beat(at(30, "10:00"))

    r = report_of(tmp_path, day=date(2026, 11, 30), now=at(30, "10:00"), extra=still_down)
    assert not r.complete
    assert r.lost_seconds == 60 * MIN and r.elapsed_seconds == 150 * MIN
    assert r.incidents[0].end is None
    assert "masih berlangsung" in render_text(r, "id")
    assert "Senin, 30 November 2026" in render_text(r, "id")


def test_daemon_stopped_since_heartbeat_is_unmonitored(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    day = date(2026, 11, 30)
    data = LedgerData((), (), (), last_seen=at(30, "12:00"))
    r = build_report(data, calendar, config, day, at(30, "17:00"))
    assert r.unmonitored_seconds == 3 * 3600  # 13:00-16:00 after the last heartbeat
    assert r.availability == 1.0  # of the monitored 4 h 30 min, nothing was lost


def test_no_heartbeat_at_all_is_unmonitored_never_available(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    r = build_report(LedgerData((), (), ()), calendar, config, date(2026, 11, 30), at(30, "17:00"))
    assert (r.unmonitored_seconds, r.availability) == (r.scheduled_seconds, None)
    assert r.mostly_unmonitored and r.watched_nothing
    assert "Tidak terpantau" in render_subject(r, "id")


def test_time_before_the_office_was_first_monitored_is_unmonitored(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    data = LedgerData((), (), (), last_seen=at(30, "17:00"), first_seen=at(30, "12:00"))
    r = build_report(data, calendar, config, date(2026, 11, 30), at(30, "17:00"))
    assert r.unmonitored_seconds == 4.5 * 3600  # 07:30-12:00, before the first heartbeat
    assert r.availability == 1.0


def test_json_is_plain(tmp_path: Path) -> None:
    data = report_of(tmp_path).as_json()
    text = json.dumps(data)
    assert data["lost_seconds"] == 85 * MIN and data["day"] == "2026-11-27"
    assert "timeline" not in data and '"lost_ratio"' in text


def test_send_time_default_after_close(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    assert config.report is not None
    assert send_time(calendar, config.report, FRIDAY).strftime("%H:%M") == "17:00"  # 16:30 + 30
    assert send_time(calendar, config.report, date(2026, 11, 26)).strftime("%H:%M") == "16:30"
    fixed = make_config(tmp_path, send_at="18:15").report
    assert fixed is not None
    assert send_time(calendar, fixed, FRIDAY).strftime("%H:%M") == "18:15"


def test_password_env_unset_names_the_variable(tmp_path: Path) -> None:
    config = make_config(tmp_path, smtp={"host": "127.0.0.1", "username": "pantau",
                                         "password_env": "PANTAU_TEST_SMTP_PASSWORD"})  # fmt: skip
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    ledger = Ledger(config.storage.path, config.office.office_id)
    try:
        with pytest.raises(ConfigError, match="PANTAU_TEST_SMTP_PASSWORD is not set"):
            ReportJob(config, ledger, calendar, environ={})
        job = ReportJob(config, ledger, calendar, environ={"PANTAU_TEST_SMTP_PASSWORD": "s3cret"})
        job.close()
    finally:
        ledger.close()


@pytest.mark.parametrize(
    ("report", "problem"),
    [
        ({"send_at": "25:00"}, "report.send_at: must be hh:mm, between 00:00 and 23:59"),
        ({"to": ["not-an-address"]}, "report.to: must be an e-mail address"),
        ({"language": "jv"}, "report.language: input should be 'id' or 'en'"),
        ({"smtp": {"host": "x", "security": "ssl"}}, "report.smtp.security"),
        ({"smtp": {"host": "x", "username": "u"}}, "username and password_env go together"),
        ({"smtp": {"host": "x", "username": "u", "password_env": "hunter2!"}}, "NAME of an"),
    ],
)
def test_report_config_errors_teach(tmp_path: Path, report: dict, problem: str) -> None:
    import yaml

    from tests.fixtures.report.ledger import CONFIG

    data = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    data["report"].update(report)
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert any(problem in p for p in caught.value.problems), caught.value.problems
