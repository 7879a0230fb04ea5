"""Issue 16's lab: an office with two uplinks, through two ISP namespaces, to one data center.

    office --fib0-- isp1 --\\
                            dc (10.252.9.10, a TCP service)
    office --wwan0- isp2 --/

The fiber targets bind to the interface `fib0` (SO_BINDTODEVICE); the 4G targets to the
address 10.252.2.2 (policy routing sends that source through `wwan0`). Cut the fiber ISP: the
ISP is blamed for the fiber uplink within two probe intervals of the cut (back-dated start),
the service is "up on backup" (a degraded row, no outage) and not one 4G probe fails. Cut both:
an outage. Namespaces are `pupl<pid>-*`, deleted at the end; the daemon is stopped by its PID.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import require_root, require_tool
from tests.lab.topology import stop_pid

pytestmark = [pytest.mark.lab, pytest.mark.timeout(180)]
REPO = Path(__file__).parents[1]
INTERVAL = 1.0
DC = "10.252.9.10"
PORT = 8080
ROLES = ("office", "isp1", "isp2", "dc")
LINKS = [  # (near ns, near if, near addr, far ns, far if, far addr), /30 each
    ("office", "fib0", "10.252.1.2", "isp1", "cust0", "10.252.1.1"),
    ("office", "wwan0", "10.252.2.2", "isp2", "cust0", "10.252.2.1"),
    ("isp1", "dc0", "10.252.3.1", "dc", "isp1", "10.252.3.2"),
    ("isp2", "dc0", "10.252.4.1", "dc", "isp2", "10.252.4.2"),
]
ROUTES = {
    "office": [
        f"{DC} via 10.252.1.1 dev fib0",
        f"{DC} via 10.252.2.1 dev wwan0 metric 100",
        f"{DC} via 10.252.2.1 dev wwan0 table 102",
        "10.252.2.1 dev wwan0 table 102",
    ],
    "isp1": [f"{DC} via 10.252.3.2"],
    "isp2": [f"{DC} via 10.252.4.2"],
    "dc": ["10.252.1.0/30 via 10.252.3.1", "10.252.2.0/30 via 10.252.4.1"],
}
SERVER = (
    "import socket\n"
    f"s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    f"s.bind(('{DC}', {PORT})); s.listen(64)\n"
    "while True:\n"
    "    c, _ = s.accept(); c.close()\n"
)


def sh(*args: str, check: bool = True) -> None:
    subprocess.run(args, check=check, capture_output=True, text=True, timeout=10)


class Office:
    """The four namespaces, a TCP service in the data center, and Pantau in the office."""

    def __init__(self, workdir: Path) -> None:
        self.prefix = f"pupl{os.getpid()}"
        self.workdir = workdir
        self.built: list[str] = []
        self.procs: list[subprocess.Popen[str]] = []
        self.events: list[dict[str, Any]] = []

    def ns(self, role: str) -> str:
        return f"{self.prefix}-{role}"

    def ip(self, role: str, *args: str, check: bool = True) -> None:
        sh("ip", "-n", self.ns(role), *args, check=check)

    def build(self) -> None:
        for role in ROLES:
            sh("ip", "netns", "add", self.ns(role))
            self.built.append(self.ns(role))
            self.ip(role, "link", "set", "lo", "up")
        for near, near_if, near_addr, far, far_if, far_addr in LINKS:
            self.ip(near, "link", "add", near_if, "type", "veth", "peer", "name", far_if,
                    "netns", self.ns(far))  # fmt: skip
            for role, ifname, addr in ((near, near_if, near_addr), (far, far_if, far_addr)):
                self.ip(role, "addr", "add", f"{addr}/30", "dev", ifname)
                self.ip(role, "link", "set", ifname, "up")
        self.ip("dc", "addr", "add", f"{DC}/32", "dev", "lo")
        for role in ("isp1", "isp2"):
            sh("ip", "netns", "exec", self.ns(role), "sysctl", "-qw", "net.ipv4.ip_forward=1")
        self.ip("office", "rule", "add", "from", "10.252.2.2", "table", "102")
        self.routes()

    def routes(self) -> None:
        for role, routes in ROUTES.items():
            for route in routes:
                self.ip(role, "route", "replace", *route.split(), check=False)

    def spawn(self, role: str, argv: list[str], **popen: Any) -> subprocess.Popen[str]:
        proc = subprocess.Popen(["ip", "netns", "exec", self.ns(role), *argv], **popen)
        self.procs.append(proc)
        return proc

    def start(self) -> Path:
        self.spawn("dc", [sys.executable, "-c", SERVER])
        target = {"kind": "tcp", "host": DC, "port": PORT, "role": "datacenter"}
        fiber = {"uplink": "fiber", "source": {"interface": "fib0"}}
        four_g = {"uplink": "4g", "source": {"address": "10.252.2.2"}}
        config = {
            "office": {"name": "Lab dua jalur", "id": "lab-uplinks"},
            "listen": "127.0.0.1:0",
            "storage": {"path": str(self.workdir / "pantau.db")},
            "defaults": {"interval": "1s", "timeout": "800ms"},
            "outage": {"down_after": 2, "up_after": 2},
            "service_hours": {"weekly": {d: ["00:00-24:00"] for d in
                                         ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
                              "holidays": None},
            "targets": [
                {"name": "isp-fiber", "role": "isp", "kind": "icmp", "host": "10.252.1.1",
                 "count": 2, "spacing": "100ms"} | fiber,
                {"name": "dc-fiber"} | target | fiber,
                {"name": "isp-4g", "role": "isp", "kind": "icmp", "host": "10.252.2.1",
                 "count": 2, "spacing": "100ms"} | four_g,
                {"name": "dc-4g"} | target | four_g,
            ],
        }  # fmt: skip
        path = self.workdir / "pantau.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        argv = [sys.executable, "-m", "monitor.cli", "run", "--log-format", "json", "-c", str(path)]
        env = os.environ | {"PYTHONPATH": str(REPO)}
        proc = self.spawn("office", argv, cwd=str(REPO), env=env, stderr=subprocess.PIPE,
                          text=True)  # fmt: skip
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()
        return self.workdir / "pantau.db"

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            try:
                self.events.append(json.loads(line) | {"_seen": time.time()})
            except ValueError:
                self.events.append({"raw": line, "_seen": time.time()})

    def wait(self, timeout: float, after: float = 0.0, **match: Any) -> dict[str, Any]:
        """The first event logged after `after` (unix time) whose fields match."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in list(self.events):
                if event["_seen"] > after and all(event.get(k) == v for k, v in match.items()):
                    return event
            time.sleep(0.05)
        raise AssertionError(f"no event {match} within {timeout:g}s: {self.events[-10:]}")

    def teardown(self) -> None:
        for proc in reversed(self.procs):
            stop_pid(proc.pid, 5.0)  # ours, by PID; reaped there
            proc.returncode = proc.returncode if proc.returncode is not None else -15
            if proc.stderr is not None:
                proc.stderr.close()
        for name in self.built:
            sh("ip", "netns", "del", name, check=False)


@pytest.fixture
def office(tmp_path: Path) -> Iterator[Office]:
    require_root("the lab builds network namespaces")
    require_tool("ip")
    built = Office(tmp_path)
    try:
        built.build()
        yield built
    finally:
        built.teardown()


def _rows(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def test_primary_cut_is_up_on_backup_and_both_cut_is_an_outage(office: Office) -> None:
    db = office.start()
    for target in ("isp-fiber", "dc-fiber", "isp-4g", "dc-4g"):
        office.wait(20, event="target", target=target, new="up")
    office.wait(5, event="uplink", uplink="fiber", state="up")
    time.sleep(2 * INTERVAL)

    # Cut the fiber ISP (its customer port goes dark).
    cut = time.time()
    office.ip("isp1", "link", "set", "cust0", "down")
    down = office.wait(10, cut, event="uplink", uplink="fiber", state="down")
    assert down["domain"] == "isp", down
    time.sleep(3 * INTERVAL)
    back = time.time()
    office.ip("isp1", "link", "set", "cust0", "up")
    office.routes()
    office.wait(10, back, event="uplink", uplink="fiber", state="up")
    restored = time.time()
    time.sleep(2 * INTERVAL)  # the degraded row is closed and flushed

    (row,) = _rows(db, "SELECT uplink, started_at, ended_at, domain FROM degraded")
    assert (row[0], row[3]) == ("fiber", "isp"), row
    start_error, detect = row[1] - cut, down["_seen"] - cut
    assert -INTERVAL <= start_error <= 2 * INTERVAL, (start_error, row)
    assert row[2] is not None and abs(row[2] - restored) <= 3 * INTERVAL, row
    assert _rows(db, "SELECT * FROM episodes WHERE kind = 'outage'") == []
    backup = _rows(db, "SELECT target, ok FROM samples WHERE at BETWEEN ? AND ?"
                   " AND target IN ('isp-4g', 'dc-4g')", cut, restored)  # fmt: skip
    assert backup and all(ok for _, ok in backup), backup
    print(f"fiber cut: start {start_error:+.2f}s, seen after {detect:.2f}s, "
          f"{len(backup)} backup probes all ok")  # fmt: skip

    # Cut both ISPs: an outage, blamed on the ISP.
    both = time.time()
    office.ip("isp1", "link", "set", "cust0", "down")
    office.ip("isp2", "link", "set", "cust0", "down")
    office.wait(10, both, event="link", state="down")
    time.sleep(4 * INTERVAL)
    back = time.time()
    office.ip("isp1", "link", "set", "cust0", "up")
    office.ip("isp2", "link", "set", "cust0", "up")
    office.routes()
    office.wait(15, back, event="link", state="up")
    time.sleep(2 * INTERVAL)
    outages = _rows(db, "SELECT started_at, ended_at, domains FROM episodes WHERE kind = 'outage'")
    assert len(outages) == 1 and outages[0][0] - both <= 2 * INTERVAL, outages
    # Probes are staggered: the first guess may name the data center; the ISP holds longest.
    domains = json.loads(outages[0][2])
    assert domains[-1][1] == "isp", outages
    stops = [at for at, _ in domains[1:]] + [outages[0][1]]
    held = {d: 0.0 for _, d in domains}
    for (at, d), stop in zip(domains, stops, strict=True):
        held[d] += stop - at
    assert max(held, key=lambda d: held[d]) == "isp", held
