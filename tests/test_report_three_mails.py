"""The three e-mails that matter, sent through a real SMTP server and read as the head of office
reads them: the install day, an ordinary day with outages, a day nobody watched."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from monitor.config import Config
from monitor.ledger import Ledger
from tests.fixtures.report.ledger import at
from tests.fixtures.report.smtp import free_port, smtp_server
from tests.test_report_mail import outbox_status, prepared, run_job

MONDAY_DUE = at(30, "16:31")  # Monday 30th: 07:30-12:00, 13:00-16:00; due 16:30


def fresh(tmp_path: Path, port: int, *beats: float) -> Config:
    """A config whose ledger holds only the given heartbeats (Pantau's whole history)."""
    config = prepared(tmp_path, port)
    Path(config.storage.path).unlink()
    ledger = Ledger(config.storage.path, config.office.office_id)
    for beat in beats:
        ledger.beat(beat)
    ledger.close()
    return config


def parts(message: EmailMessage) -> tuple[str, str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return str(message["Subject"]), text.get_content(), html.get_content()


async def test_install_day_says_what_it_did_not_watch(tmp_path: Path) -> None:
    port = free_port()
    config = fresh(tmp_path, port, at(30, "10:00"), at(30, "16:30"))
    with smtp_server(port) as inbox:
        await run_job(config, MONDAY_DUE)
    (mail,) = inbox.mails
    subject, text, html = parts(mail.message())
    assert subject.endswith(
        "tidak ada gangguan selama 5 jam waktu layanan terpantau; tidak terpantau 2 jam 30 menit"
    )
    for body in (text, html):
        assert "100,0% dari 5 jam waktu layanan terpantau" in body
        assert "2 jam 30 menit jam layanan tanpa data" in body
        assert "Tidak ada gangguan selama jam layanan." not in body  # only the watched part
    assert "Tidak ada gangguan selama jam layanan yang terpantau." in text
    # Days before Pantau existed are unmonitored, never "0 menit" lost.
    assert "Jum 27/11  tidak terpantau" in text and "Jum 27/11  0 menit" not in text
    assert "7 hari layanan terakhir: ketersediaan 100,0%, hilang 0 menit dari 5 jam" in text


async def test_installed_after_closing_time_sends_nothing(tmp_path: Path) -> None:
    port = free_port()
    config = fresh(tmp_path, port, at(30, "16:47"))
    with smtp_server(port) as inbox:
        await run_job(config, at(30, "16:48"))
    assert inbox.mails == []  # not a false "all good", which exactly-once would make permanent
    assert outbox_status(config) == [("2026-11-30", "skipped", None)]


async def test_ordinary_day_with_outages(tmp_path: Path) -> None:
    port = free_port()
    config = prepared(tmp_path, port)
    with smtp_server(port) as inbox:
        await run_job(config)
    (mail,) = inbox.mails
    subject, text, html = parts(mail.message())
    assert "ketersediaan 80,0%, hilang 1 jam 25 menit dari 7 jam 5 menit terpantau" in subject
    for body in (text, html):
        assert "80,0% dari 7 jam 5 menit waktu layanan terpantau" in body
        assert "1 jam 25 menit dari 7 jam 5 menit waktu layanan terpantau" in body
        assert "Jaringan ISP terputus." in body and "jaringan ISP normal" not in body


async def test_a_day_nobody_watched_says_so_in_headline_and_subject(tmp_path: Path) -> None:
    port = free_port()
    config = prepared(tmp_path, port)  # monitored for months, last heartbeat Friday 23:59
    with smtp_server(port) as inbox:
        await run_job(config, MONDAY_DUE)
    (mail,) = inbox.mails
    subject, text, html = parts(mail.message())
    assert subject.endswith(
        "Tidak terpantau (7 jam 30 menit dari 7 jam 30 menit waktu layanan tanpa data)"
    )
    for body in (text, html):
        assert (
            "Tidak terpantau (7 jam 30 menit dari 7 jam 30 menit waktu layanan tanpa data)" in body
        )
        assert "Tidak terpantau: sebagian besar jam layanan tanpa data" in body
    assert "100,0%" not in text.split("==")[0]  # no share above the incident table
    assert "0 menit dari 0 menit" not in text
