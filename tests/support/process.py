"""The real daemon as a process of our own (`python -m monitor.cli run`), and other processes a
test starts against the ledger file; each is stopped by its PID."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from monitor.ledger import Ledger

OFFICE = "dispendukcapil-simulasi"


def start_daemon(config_path: Path, log: Path) -> subprocess.Popen[bytes]:
    """`pantau run -c config_path`, its output appended to `log`."""
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "run", "-c", str(config_path)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def ledger_view(db: Path) -> tuple[list, list, float | None]:
    """(outages, gaps, last heartbeat) in the ledger file, read by a connection of our own.

    Only episodes of kind "outage": a loaded machine can make the fast configs' 100 ms probes
    slow enough for a "slow" episode, which is true but not what these tests are about (a CI
    run once failed on one recorded after the outage had closed)."""
    ledger = Ledger(db, OFFICE)
    try:
        outages = [e for e in ledger.episodes(0, 2e10) if e.kind == "outage"]
        return outages, ledger.gaps(0, 2e10), ledger.last_seen()
    finally:
        ledger.close()


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> float:
    """Signal our own daemon by its PID; returns seconds until it exited."""
    began = time.monotonic()
    process.send_signal(sig)
    process.wait(timeout=10)
    return time.monotonic() - began


HOLD = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
db.execute("INSERT INTO heartbeat (office, first_seen, last_seen) VALUES ('other', 0, 0)"
           " ON CONFLICT (office) DO NOTHING")
print(time.time(), flush=True)
time.sleep(float(sys.argv[2]))
print(time.time(), flush=True)
db.execute("COMMIT")
"""


def hold_write_lock(db: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process that takes SQLite's write lock on `db` and keeps it `seconds`."""
    return subprocess.Popen(
        [sys.executable, "-c", HOLD, str(db), str(seconds)], stdout=subprocess.PIPE, text=True
    )
