"""The real `pantau run` inside the office namespace, its events, and its ledger.

The daemon logs one JSON line per state change (`--log-format json`, field `event`: target,
link, domain, gap, resumed); a reader thread keeps them so a test can wait for "the outage is
open" without reaching into the namespace. The ledger is the daemon's SQLite file, read with
the same `outage_rows` that serves `/api/outages`.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta
from typing import Any

import yaml

from monitor.calendar import ServiceCalendar
from monitor.config import parse_config
from monitor.ledger import Ledger
from monitor.outages import outage_rows
from tests.lab.lab import REPO, Lab


class Pantau:
    """One daemon process per `start()`; the ledger file outlives restarts."""

    def __init__(self, lab: Lab, name: str = "pantau", **settings: Any) -> None:
        self.lab, self.name = lab, name
        self.db = lab.dir / f"{name}.db"
        self.config_file = lab.dir / f"{name}.yaml"
        self.data = lab.pantau_config(self.db, **settings)
        self.config = parse_config(self.data)
        self.config_file.write_text(yaml.safe_dump(self.data, sort_keys=False))
        self.events: list[dict[str, Any]] = []
        self.log = lab.dir / f"{name}.log"
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self.runs = 0
        self.states: dict[str, str] = {}  # target -> confirmed state, from the events
        self.link = "unknown"

    def start(self) -> None:
        argv = [sys.executable, "-m", "monitor.cli", "run", "--log-format", "json",
                "-c", str(self.config_file)]  # fmt: skip
        self.runs += 1
        self._proc = self.lab.topo.spawn(
            self.name, "office", argv, cwd=str(REPO), stderr=subprocess.PIPE, text=True
        )
        self._reader = threading.Thread(target=self._read, args=(self._proc,), daemon=True)
        self._reader.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        with proc.stderr, self.log.open("a") as log:
            for line in proc.stderr:  # ends when the process exits
                log.write(line)
                log.flush()
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                kind = record.get("event") or _kind_of(record)
                if kind is not None:
                    record["event"] = kind
                    with self._lock:
                        self.events.append(record)
                        if kind == "target":
                            self.states[record["target"]] = record["new"]
                        elif kind == "link":
                            self.link = record["state"]

    def wait_event(self, timeout: float, **match: Any) -> dict[str, Any]:
        """The first event seen so far or within `timeout` s whose fields match `match`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for event in self.events:
                    if all(event.get(k) == v for k, v in match.items()):
                        return event
            if self._proc is not None and self._proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no event {match} within {timeout:g}s; log: {self.log}")

    def clear_events(self) -> None:
        with self._lock:
            self.events.clear()

    def wait_up(self, timeout: float = 15.0) -> dict[str, Any]:
        """Until the link is up with every target confirmed up."""
        return self.wait_event(timeout, event="link", state="up")

    def steady(self) -> bool:
        """The link is up and every target is confirmed up."""
        with self._lock:
            targets = {t.name for t in self.config.targets}
            return self.link == "up" and all(self.states.get(n) == "up" for n in targets)

    def wait_steady(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.steady():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"not steady within {timeout:g}s: link {self.link}, targets {self.states}"
                )
            time.sleep(0.05)

    def next_probe(self, target: str, after: float = 0.05) -> float:
        """The wall time `after` s past the next scheduled probe of `target` (its phase)."""
        interval = self.config.interval_of(next(t for t in self.config.targets if t.name == target))
        recent = [
            s.at for s in self.samples(time.time() - 30, time.time() + 1) if s.target == target
        ]
        if not recent:
            raise AssertionError(f"no probe of {target} in the ledger yet")
        now = time.time()
        moment = recent[-1] + after
        moment += max(0, int((now - moment) // interval) + 1) * interval
        return moment

    def kill(self) -> None:
        """SIGKILL, as a power cut or the OOM killer would."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGKILL)
        self._proc.wait(timeout=5)
        if self._reader is not None:
            self._reader.join(timeout=5)
        with self._lock:
            self.link, self.states = "unknown", {}
        self.lab.topo.forget(self.name)

    def stop(self) -> None:
        """SIGTERM and wait (the daemon promises to stop within 5 s)."""
        if self._proc is not None and self._proc.poll() is None:
            self.lab.topo.kill(self.name, grace=6.0)
        if self._reader is not None:
            self._reader.join(timeout=5)
        self._proc = None
        with self._lock:
            self.link, self.states = "unknown", {}

    def ledger(self) -> dict[str, Any]:
        """Outages and unmonitored gaps of yesterday through tomorrow (office time)."""
        today = datetime.now(self.config.office.zone).date()
        return self.ledger_range(today - timedelta(days=1), today + timedelta(days=1))

    def ledger_range(self, first: date, last: date) -> dict[str, Any]:
        from monitor.outages import day_bounds

        calendar = ServiceCalendar(self.config.service_hours, self.config.office.zone)
        ledger = Ledger(self.db, self.config.office.office_id)
        try:
            start, end = day_bounds(first, last, self.config)
            data = outage_rows(ledger, calendar, self.config, start, end, time.time())
            # The JSON's times are whole seconds; the tests measure against the float ones.
            exact = {e.id: e for e in ledger.episodes(start, end)}
            for row in data["outages"]:
                row["started_at"] = exact[row["id"]].started_at
                row["ended_at"] = exact[row["id"]].ended_at
                row["domain_times"] = exact[row["id"]].domains
            # Before the first heartbeat is unmonitored too; the ledger's gaps are the rest.
            gap_rows = [r for r in data["unmonitored"] if r["reason"] != "not_monitored_yet"]
            for row, gap in zip(gap_rows, ledger.gaps(start, end), strict=False):
                row["started_at"], row["ended_at"] = gap.started_at, gap.ended_at
            return data
        finally:
            ledger.close()

    def samples(self, start: float, end: float) -> list[Any]:
        ledger = Ledger(self.db, self.config.office.office_id)
        try:
            return ledger.samples(start, end)
        finally:
            ledger.close()


def _kind_of(record: dict[str, Any]) -> str | None:
    """The event kind from its fields, for a daemon that does not log `event` itself."""
    if "target" in record and "new" in record:
        return "target"
    if "state" in record and "at" in record:
        return "link"
    if "kind" in record and "since" in record:
        return "resumed"
    if "kind" in record and "domain" in record:
        return "domain"
    if "from" in record and "to" in record:
        return "gap"
    return None


def unix(iso: str | None) -> float | None:
    """An ISO time from the ledger JSON as unix seconds."""
    return None if iso is None else datetime.fromisoformat(iso).timestamp()
