"""Delivery: a real aiosmtpd server on 127.0.0.1 receives the report; exactly once through an SMTP
outage, a SIGKILL and a restart; STARTTLS with a test CA (trustme).

The issue's "SMTP up 30 s later" runs here with a 1.5 s outage and a 0.2-0.5 s backoff: the same
path through stamina and the outbox, in seconds instead of a minute.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import ssl
import subprocess
import sys
import time
from pathlib import Path

import trustme

from monitor.calendar import ServiceCalendar
from monitor.cli import main
from monitor.config import Config
from monitor.ledger import Ledger
from monitor.report.job import ReportJob
from tests.fixtures.report.ledger import at, fill, make_config, write_config
from tests.fixtures.report.smtp import Inbox, free_port, smtp_server

NOW = at(27, "17:30")  # Friday's report is due at 17:00 (30 min after closing at 16:30)
FAST = {"attempts": 40, "wait_initial": "200ms", "wait_max": "500ms", "timeout": "20s",
        "pause": "1s"}  # fmt: skip
ROOT = Path(__file__).resolve().parent.parent


def smtp_at(port: int, **extra: object) -> dict[str, object]:
    return {"host": "127.0.0.1", "port": port, "security": "none", "timeout": "5s", **extra}


def prepared(tmp_path: Path, port: int, **report: object) -> Config:
    config = make_config(tmp_path, **{"smtp": smtp_at(port), "retry": FAST, **report})
    ledger = Ledger(config.storage.path, config.office.office_id)
    fill(ledger)
    ledger.close()
    return config


def new_job(config: Config) -> tuple[ReportJob, Ledger]:
    ledger = Ledger(config.storage.path, config.office.office_id)
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    return ReportJob(config, ledger, calendar, catch_up_days=0), ledger


async def run_job(config: Config, now: float = NOW) -> None:
    job, ledger = new_job(config)
    try:
        await job.run_due(now)
    finally:
        job.close()
        ledger.close()


def outbox_status(config: Config) -> list[tuple[str, str, str | None]]:
    db = sqlite3.connect(config.storage.path)
    try:
        return db.execute("SELECT day, status, claimed_by FROM report_outbox").fetchall()
    except sqlite3.OperationalError:  # no table yet: nothing queued
        return []
    finally:
        db.close()


async def test_mail_arrives_with_both_parts_and_inline_chart(tmp_path: Path) -> None:
    port = free_port()
    config = prepared(tmp_path, port)
    with smtp_server(port) as inbox:
        await run_job(config, at(27, "16:59"))  # not due yet
        assert inbox.mails == [] and outbox_status(config) == []
        await run_job(config)
    assert len(inbox.mails) == 1
    mail = inbox.mails[0]
    assert mail.sender == "pantau@dukcapil.example.go.id"
    assert sorted(mail.recipients) == ["it@dukcapil.example.go.id", "kepala@dukcapil.example.go.id"]
    message = mail.message()
    assert message["Subject"] == (
        "[Pantau] Dispendukcapil Grobogan, Jumat, 27 November 2026: ketersediaan 80,0%, "
        "hilang 1 jam 25 menit dari 7 jam 5 menit terpantau; tidak terpantau 25 menit"
    )
    assert message["To"] == "kepala@dukcapil.example.go.id"
    assert message["Cc"] == "it@dukcapil.example.go.id"
    assert message["Message-ID"] == "<pantau-daily-2026-11-27-grobogan@dukcapil.example.go.id>"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert "80,0% dari 7 jam 5 menit waktu layanan terpantau" in text.get_content()
    images = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1
    png = images[0].get_content()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert images[0].get_content_disposition() == "inline"  # shown in the body, not a file
    cid = images[0]["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html.get_content()
    assert outbox_status(config) == [("2026-11-27", "sent", None)]


async def test_queued_once_and_sent_once(tmp_path: Path) -> None:
    port = free_port()
    config = prepared(tmp_path, port)
    with smtp_server(port) as inbox:
        for minute in range(3):  # the scheduler calls every minute
            await run_job(config, NOW + 60 * minute)
    assert len(inbox.mails) == 1


async def test_smtp_down_then_up_exactly_one_mail(tmp_path: Path) -> None:
    port = free_port()
    config = prepared(tmp_path, port)
    inbox = Inbox()
    sending = asyncio.create_task(run_job(config))
    await asyncio.sleep(1.5)  # the server is down meanwhile: stamina retries with backoff
    assert not sending.done() and inbox.mails == []
    with smtp_server(port, inbox):
        await asyncio.wait_for(sending, 20)
        await run_job(config, NOW + 60)
    assert len(inbox.mails) == 1
    assert outbox_status(config)[0][1] == "sent"


async def test_a_failed_round_keeps_the_mail_for_the_next(tmp_path: Path) -> None:
    port = free_port()
    retry = {**FAST, "attempts": 2, "timeout": "2s", "pause": "60s"}
    config = make_config(tmp_path, smtp=smtp_at(port), retry=retry)
    ledger = Ledger(config.storage.path, config.office.office_id)
    fill(ledger)
    ledger.close()
    await run_job(config)  # nobody listens: the round gives up, the mail stays queued
    ((_, status, claimed),) = outbox_status(config)
    assert (status, claimed) == ("queued", None)
    with smtp_server(port) as inbox:
        await run_job(config, NOW + 30)  # before the pause is over: nothing
        assert inbox.mails == []
        await run_job(config, NOW + 3600)
    assert len(inbox.mails) == 1


CHILD = """
import asyncio, sys
from monitor.calendar import ServiceCalendar
from monitor.config import load_config
from monitor.ledger import Ledger
from monitor.report.job import ReportJob

config = load_config(sys.argv[1])
ledger = Ledger(config.storage.path, config.office.office_id)
calendar = ServiceCalendar(config.service_hours, config.office.zone)
job = ReportJob(config, ledger, calendar, catch_up_days=0)
asyncio.run(job.run_due(float(sys.argv[2])))
"""


def test_killed_while_queued_then_restarted_still_one_mail(tmp_path: Path) -> None:
    port = free_port()
    path = write_config(tmp_path, smtp=smtp_at(port), retry={**FAST, "timeout": "60s"})
    config = make_config(tmp_path, smtp=smtp_at(port), retry=FAST)
    ledger = Ledger(config.storage.path, config.office.office_id)
    fill(ledger)
    ledger.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(NOW)], env=env)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # wait for the state, not for the clock
            rows = outbox_status(config)
            if rows and rows[0][1] == "queued" and rows[0][2] is not None:
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"the child never queued the mail: {rows}")
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(10)  # reaps it, so its pid is gone and its claim is void
    assert child.returncode == -signal.SIGKILL
    assert outbox_status(config)[0][1] == "queued"
    with smtp_server(port) as inbox:
        asyncio.run(run_job(config))  # the restarted daemon
        asyncio.run(run_job(config, NOW + 60))  # and its next minute
    assert len(inbox.mails) == 1


async def test_starttls_with_a_test_certificate(tmp_path: Path) -> None:
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    port = free_port()
    config = prepared(tmp_path, port, smtp=smtp_at(port, security="starttls", ca_file=str(ca_file)))
    with smtp_server(port, tls_context=server) as inbox:
        await run_job(config)
    assert len(inbox.mails) == 1 and inbox.tls == [True]


def test_cli_prints_and_sends(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    path = write_config(tmp_path, smtp=smtp_at(port), retry=FAST)
    config = make_config(tmp_path, smtp=smtp_at(port), retry=FAST)
    ledger = Ledger(config.storage.path, config.office.office_id)
    fill(ledger)
    ledger.close()
    assert main(["report", "daily", "-c", str(path), "--date", "2026-11-27"]) == 0
    assert "80,0% dari 7 jam 5 menit waktu layanan terpantau" in capsys.readouterr().out
    assert main(["report", "daily", "-c", str(path), "--date", "2026-11-27", "--format", "json",
                 "--language", "en"]) == 0  # fmt: skip
    assert '"lost_seconds": 5100.0' in capsys.readouterr().out
    assert (
        main(["report", "daily", "-c", str(path), "--date", "2026-11-27", "--format", "eml"]) == 0
    )
    assert "Content-Type: image/png" in capsys.readouterr().out
    assert (
        main(["report", "range", "-c", str(path), "--from", "2026-11-22", "--to", "2026-11-27"])
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("date,note,scheduled_seconds,lost_seconds")
    assert lines[-1].startswith("2026-11-27,,27000,5100,1800,1500,3,")
    assert main(["report", "range", "-c", str(path), "--from", "2026-11-01", "--to", "2026-11-30",
                 "--format", "html"]) == 0  # fmt: skip
    assert "Jumlah (21)" in capsys.readouterr().out
    with smtp_server(port) as inbox:
        args = ["report", "daily", "-c", str(path), "--date", "2026-11-27", "--send"]
        assert main(args) == 0
        assert main(args) == 0  # already sent: says so, sends nothing
    assert len(inbox.mails) == 1
    assert "sent" in capsys.readouterr().out
