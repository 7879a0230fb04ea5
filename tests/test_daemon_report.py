"""The daemon sends the daily report through its outbox; a missing secret stops it at start."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from monitor.cli import main
from monitor.daemon import Daemon
from monitor.sim import SimNetwork
from tests.daemon_helpers import fast_config, running, wait_until
from tests.fixtures.report.smtp import free_port, smtp_server

REPORT = {"to": ["kepala@dukcapil.example.go.id"], "from": "pantau@dukcapil.example.go.id",
          "send_at": "00:00"}  # fmt: skip


async def test_the_running_daemon_mails_todays_report_once(tmp_path: Path) -> None:
    port = free_port()
    with smtp_server(port) as inbox:
        async with SimNetwork(icmp=False) as net:
            smtp = {"host": "127.0.0.1", "port": port, "security": "none"}
            config = fast_config(net, report={**REPORT, "smtp": smtp})
            async with running(config) as daemon:
                await wait_until(lambda: len(inbox.mails) == 1, 60, "the daily report mail")
                # Stopped between the server's "250 accepted" and the end of the session, a
                # send counts as not done and the next run sends again (at least once); the
                # restart below is about a mail whose sending was over.
                await wait_until(lambda: sent(daemon), 60, "the outbox marking it sent")
            async with running(config):  # a restart the same day sends nothing again
                await asyncio.sleep(1.5)  # the job runs at start; give it time to (not) send
        assert len(inbox.mails) == 1
        message = inbox.mails[0].message()
    assert inbox.mails[0].recipients == ["kepala@dukcapil.example.go.id"]
    assert "Dispendukcapil Simulasi" in str(message["Subject"])


def sent(daemon: Daemon) -> bool:
    """Today's row of the outbox says sent (the SMTP session is over)."""
    job = daemon.report_job
    if job is None:
        return False
    today = daemon.clock.now().astimezone(daemon.config.office.zone).date()
    row = job.outbox.get(today)
    return row is not None and row.status == "sent"


def test_a_missing_smtp_password_stops_the_start_and_names_the_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PANTAU_TEST_SMTP_PASSWORD", raising=False)
    data = {
        "office": {"name": "X"},
        "listen": "127.0.0.1:0",
        "storage": {"path": str(tmp_path / "l.db")},
        "targets": [{"name": "a", "role": "datacenter", "kind": "tcp", "host": "127.0.0.1",
                     "port": 1}],
        "report": {**REPORT, "smtp": {"host": "127.0.0.1", "port": 25, "security": "none",
                   "username": "pantau", "password_env": "PANTAU_TEST_SMTP_PASSWORD"}},
    }  # fmt: skip
    path = tmp_path / "pantau.yaml"
    path.write_text(yaml.safe_dump(data))
    assert main(["run", "-c", str(path)]) == 1
    err = capsys.readouterr().err
    assert "PANTAU_TEST_SMTP_PASSWORD" in err and "Traceback" not in err
