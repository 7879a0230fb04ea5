"""The running lab: the topology plus its servers, the faults it offers, the config that watches it.

    lab = Lab.up()                       # build namespaces, start servers (about 1 s)
    with lab.link_down("wan"): ...       # or inject(lab.dns("servfail"), 6.0)
    lab.down()                           # always; also registered with atexit

Servers: the ISP namespace runs the resolver (10.251.9.53:53, zone with the data center's
name) and an internet anchor (10.251.9.1:443, plus the bulk port for load); the data center
runs the HTTPS app (siak.kemendagri.go.id -> 10.251.3.2:8443, a lab CA), the VPN port
(10.251.3.2:1194) and its authoritative name server (10.251.3.2:53). The office's resolver is
the ISP's, through /etc/netns/<office>/resolv.conf.
"""

from __future__ import annotations

import atexit
import json
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.lab import topology as t
from tests.lab.faults import BandwidthCap, Cert, Firewall, LinkDown, ServerMode
from tests.lab.topology import Topology

REPO = Path(__file__).resolve().parents[2]
ALL_DAY = ["00:00-24:00"]


class Lab:
    def __init__(self, topo: Topology) -> None:
        self.topo = topo
        self.sockets = {"isp": self.dir / "isp.sock", "dc": self.dir / "dc.sock"}

    @property
    def dir(self) -> Path:
        return Path(self.topo.workdir)

    @property
    def ca_file(self) -> Path:
        return self.dir / "dc-ca.pem"

    # --- life cycle ---
    @classmethod
    def up(cls, prefix: str | None = None, *, keep: bool = False) -> Lab:
        """Build and start a lab; unless `keep`, it is torn down when this process exits."""
        lab = cls(Topology.new(prefix))
        lab.topo.kept = keep
        if not keep:
            atexit.register(lab.down)
        try:
            lab.topo.build()
            lab._start_servers()
        except BaseException:
            lab.down()
            raise
        return lab

    @classmethod
    def attach(cls, state_file: str | Path) -> Lab:
        """A lab built by another process (`python -m tests.lab up`)."""
        return cls(Topology.load(state_file))

    def down(self) -> None:
        self.topo.teardown()

    def _start_servers(self) -> None:
        isp = [
            "--control", str(self.sockets["isp"]),
            "--dns", f"{t.RESOLVER}:53", "--zone", f"{t.DC_NAME}={t.DC}",
            "--tcp", f"anchor={t.ANCHOR}:{t.ANCHOR_PORT}", "--bulk", f"{t.ANCHOR}:{t.BULK_PORT}",
        ]  # fmt: skip
        dc = [
            "--control", str(self.sockets["dc"]),
            "--https", f"{t.DC}:{t.DC_HTTPS_PORT}", "--cert-name", t.DC_NAME,
            "--ca-out", str(self.ca_file), "--tcp", f"vpn={t.DC}:{t.DC_VPN_PORT}",
            "--dns", f"{t.DC}:53", "--zone", f"{t.DC_NAME}={t.DC}",
        ]  # fmt: skip
        procs = {}
        for role, args in (("isp", isp), ("dc", dc)):
            with (self.dir / f"servers-{role}.log").open("w") as log:
                procs[role] = self.topo.spawn(
                    f"servers-{role}", role, [sys.executable, "-m", "tests.lab.servers", *args],
                    cwd=str(REPO), stdout=subprocess.PIPE, stderr=log, text=True,
                )  # fmt: skip
        for role, proc in procs.items():
            assert proc.stdout is not None
            with proc.stdout:  # the servers print one line, when they listen
                ready, _, _ = select.select([proc.stdout], [], [], 20.0)
                line = proc.stdout.readline() if ready else ""
            if not line:
                log_text = (self.dir / f"servers-{role}.log").read_text()
                raise t.LabError(f"the {role} servers did not start:\n{log_text}")
            json.loads(line)

    # --- faults ---
    def link_down(self, hop: str) -> LinkDown:
        return LinkDown(self.topo, hop)

    def blackhole(self, hop: str) -> Firewall:
        return Firewall(self.topo, hop, "drop")

    def reject(self, hop: str) -> Firewall:
        return Firewall(self.topo, hop, "reject")

    def dns(self, mode: str) -> ServerMode:
        """The ISP resolver: silent, servfail, nxdomain, refused or down."""
        return ServerMode(self.sockets, "dns", mode)

    def http(self, mode: str, delay: float | None = None) -> ServerMode:
        """The data-center app: error (503), hang, slow (with `delay` s) or down."""
        params = {} if delay is None else {"delay": delay}
        return ServerMode(self.sockets, "http", mode, **params)

    def vpn(self, mode: str) -> ServerMode:
        return ServerMode(self.sockets, "vpn", mode)

    def cert(self, variant: str) -> Cert:
        return Cert(self.sockets, variant)

    def bandwidth_cap(self, rate: int = 2_000_000, queue: float = 0.2) -> BandwidthCap:
        return BandwidthCap(self.topo, rate, queue)

    # --- the config Pantau runs with in the office ---
    def pantau_config(
        self,
        db: str | Path,
        *,
        interval: str = "1s",
        timeout: str = "800ms",
        slow_latency: str = "300ms",
        down_after: int = 3,
        up_after: int = 2,
        listen: str = "127.0.0.1:9470",
        targets: dict[str, dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Pantau watching the lab, open all day every day so lost = outage time.

        `targets` overrides fields per target name, e.g. {"dc-siak": {"timeout": "1500ms"}}.
        """
        overrides = targets or {}
        return {
            "office": {"name": "Dispendukcapil Lab", "id": "lab", "timezone": "Asia/Jakarta"},
            "listen": listen,
            "storage": {"path": str(db)},
            "defaults": {"interval": interval, "timeout": timeout},
            "outage": {
                "down_after": down_after,
                "up_after": up_after,
                "slow_latency": slow_latency,
            },
            "service_hours": {
                "weekly": {
                    day: ALL_DAY for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
                },
                "holidays": None,
            },
            "targets": [
                {**target, **overrides.get(target["name"], {})} for target in _targets(self.ca_file)
            ],
            # Issue 14: path tracing is off here so this lab keeps the verdict table it documents
            # (with it, a cut ISP-DC `backbone` link is `isp` once a baseline exists); path
            # verdicts are tested in their own topology, tests/test_lab_path.py.
            "path": {"enabled": False},
        }


def _targets(ca_file: Path) -> list[dict[str, Any]]:
    """One or two targets per hop, in path order (which is also their order of probing)."""
    icmp = {"kind": "icmp", "count": 2, "spacing": "100ms"}
    return [
        {"name": "office-router", "role": "local", "host": t.ROUTER, **icmp},
        {"name": "isp-edge", "role": "isp", "host": t.ISP_EDGE, **icmp},
        {"name": "isp-dns", "role": "isp", "kind": "dns", "server": f"{t.RESOLVER}:53",
         "query": t.DC_NAME, "record": "A", "expect": [t.DC]},
        {"name": "internet-anchor", "role": "internet", "kind": "tcp",
         "host": t.ANCHOR, "port": t.ANCHOR_PORT},
        {"name": "dc-siak", "role": "datacenter", "kind": "http",
         "url": f"https://{t.DC_NAME}:{t.DC_HTTPS_PORT}/", "expect_status": [200],
         "body_regex": "SIAK OK", "tls_ca_file": str(ca_file)},
        {"name": "dc-vpn", "role": "datacenter", "kind": "tcp",
         "host": t.DC, "port": t.DC_VPN_PORT},
    ]  # fmt: skip


def wait_until(predicate: Any, timeout: float, step: float = 0.1) -> Any:
    """Poll `predicate()` until it returns something truthy or `timeout` s pass (then None)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)
