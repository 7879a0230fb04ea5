"""The path lab (issue 14): an ISP of four routers with two branches, and a data center behind
its own peering link. Built from network namespaces named `ptrace<pid>-...`; nothing leaves it.

    office --- isp1 --- isp2 ---- isp3            (internet branch: anchor 10.252.9.1:443)
    .1.2    .1.1  .2.1  .2.2  \\ .3.1  .3.2
                               \\
                                isp4 === dcedge --- dc   (peering link .5.0/30; app .6.2:8443)
                            .4.1  .4.2  .5.1  .5.2  .6.1  .6.2

The office prefix (10.252.1.0/30) is routed back from both branches. Every namespace turns the
kernel's own ICMP rate limit off (`net.ipv4.icmp_ratelimit=0`), so the only rate limiter is
the one a scenario adds on purpose.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from dataclasses import dataclass, field

from tests.lab.topology import sh

NAMES = ("office", "isp1", "isp2", "isp3", "isp4", "dcedge", "dc")
# (near ns, near if, near addr, far ns, far if, far addr), /30 each
LINKS = {
    "lan": ("office", "eth0", "10.252.1.2", "isp1", "cust0", "10.252.1.1"),
    "core": ("isp1", "core0", "10.252.2.1", "isp2", "acc0", "10.252.2.2"),
    "inet": ("isp2", "inet0", "10.252.3.1", "isp3", "core0", "10.252.3.2"),
    "peer": ("isp2", "peer0", "10.252.4.1", "isp4", "core0", "10.252.4.2"),
    "peering": ("isp4", "dc0", "10.252.5.1", "dcedge", "isp0", "10.252.5.2"),
    "dclan": ("dcedge", "lan0", "10.252.6.1", "dc", "eth0", "10.252.6.2"),
}
ROUTES = {
    "office": ["default via 10.252.1.1"],
    "isp1": ["default via 10.252.2.2"],
    "isp2": [
        "10.252.1.0/30 via 10.252.2.1",
        "10.252.9.0/24 via 10.252.3.2",
        "10.252.5.0/30 via 10.252.4.2",
        "10.252.6.0/24 via 10.252.4.2",
    ],
    "isp3": ["10.252.1.0/30 via 10.252.3.1"],
    # No default route: when the peering link is cut, isp4 has no route to the data center.
    "isp4": ["10.252.1.0/30 via 10.252.4.1", "10.252.6.0/24 via 10.252.5.2"],
    "dcedge": ["default via 10.252.5.1"],
    "dc": ["default via 10.252.6.1"],
}
FORWARDERS = ("isp1", "isp2", "isp3", "isp4", "dcedge")
ANCHOR, ANCHOR_PORT = "10.252.9.1", 443
DC, DC_PORT = "10.252.6.2", 8443
ISP2, ISP4, EDGE = "10.252.2.2", "10.252.4.2", "10.252.5.2"
OWNERS = [
    {"prefix": "10.252.0.0/16", "name": "ISP Lab", "role": "isp"},
    {"prefix": "10.252.5.2/32", "name": "DC edge", "role": "datacenter"},
    {"prefix": "10.252.6.0/24", "name": "Data center", "role": "datacenter"},
]
_LISTEN = (
    "import socket,sys,time;s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)"
    ";s.bind((sys.argv[1],int(sys.argv[2])));s.listen(64);time.sleep(900)"
)


@dataclass
class PathLab:
    """One built path lab; `teardown()` undoes it (the PIDs it started, its namespaces)."""

    prefix: str = field(default_factory=lambda: f"ptrace{os.getpid()}")
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    built: list[str] = field(default_factory=list)

    def ns(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def run(self, name: str, *argv: str, check: bool = True) -> str:
        return sh("ip", "netns", "exec", self.ns(name), *argv, check=check, timeout=120).stdout

    def build(self) -> None:
        for name in NAMES:
            sh("ip", "netns", "add", self.ns(name))
            self.built.append(self.ns(name))
            sh("ip", "-n", self.ns(name), "link", "set", "lo", "up")
            self.run(name, "sysctl", "-qw", "net.ipv4.icmp_ratelimit=0")
        for near, near_if, near_addr, far, far_if, far_addr in LINKS.values():
            sh("ip", "-n", self.ns(near), "link", "add", near_if, "type", "veth",
               "peer", "name", far_if, "netns", self.ns(far))  # fmt: skip
            for name, ifname, addr in ((near, near_if, near_addr), (far, far_if, far_addr)):
                sh("ip", "-n", self.ns(name), "addr", "add", f"{addr}/30", "dev", ifname)
                sh("ip", "-n", self.ns(name), "link", "set", ifname, "up")
        sh("ip", "-n", self.ns("isp3"), "addr", "add", f"{ANCHOR}/32", "dev", "lo")
        for name in FORWARDERS:
            self.run(name, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        for name in NAMES:
            self.restore_routes(name)
        self.listen("anchor", "isp3", ANCHOR, ANCHOR_PORT)
        self.listen("app", "dc", DC, DC_PORT)

    def restore_routes(self, name: str) -> None:
        for route in ROUTES[name]:
            sh("ip", "-n", self.ns(name), "route", "replace", *route.split())

    def listen(self, label: str, name: str, host: str, port: int) -> None:
        """A TCP listener (backlog only: the handshake is all a probe and a trace need)."""
        argv = ["ip", "netns", "exec", self.ns(name), sys.executable, "-c", _LISTEN]
        self.procs[label] = subprocess.Popen([*argv, host, str(port)])

    def stop(self, label: str) -> None:
        proc = self.procs.pop(label, None)
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def nft(self, name: str, ruleset: str) -> None:
        done = subprocess.run(
            ["ip", "netns", "exec", self.ns(name), "nft", "-f", "-"],
            input=ruleset, text=True, capture_output=True, timeout=10, check=False,
        )  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"nft in {name}: {done.stderr.strip()}")

    def nft_flush(self, name: str) -> None:
        self.run(name, "nft", "delete", "table", "inet", "ptrace", check=False)

    def teardown(self) -> None:
        for label in list(self.procs):
            self.stop(label)
        for ns in list(self.built):
            sh("ip", "netns", "del", ns, check=False)
            self.built.remove(ns)


# --- the scenarios' faults: (start, stop) on a built lab ---
EDGE_DROPS = """table inet ptrace {
  chain edge_drop { type filter hook prerouting priority -300; iifname "isp0" drop; }
}"""
RATE_LIMIT = """table inet ptrace {
  chain icmp_limit {
    type filter hook output priority 0; icmp type time-exceeded limit rate over 2/second drop;
  }
}"""
FORWARD_LOSS = """table inet ptrace {
  chain forward_loss { type filter hook forward priority 0; numgen random mod 100 < 30 drop; }
}"""


@contextlib.contextmanager
def app_refuses(lab: PathLab):  # type: ignore[no-untyped-def]
    lab.stop("app")
    try:
        yield
    finally:
        lab.listen("app", "dc", DC, DC_PORT)


@contextlib.contextmanager
def edge_drops(lab: PathLab):  # type: ignore[no-untyped-def]
    lab.nft("dcedge", EDGE_DROPS)
    try:
        yield
    finally:
        lab.nft_flush("dcedge")


@contextlib.contextmanager
def peering_cut(lab: PathLab):  # type: ignore[no-untyped-def]
    sh("ip", "-n", lab.ns("isp4"), "link", "set", "dc0", "down")
    try:
        yield
    finally:
        sh("ip", "-n", lab.ns("isp4"), "link", "set", "dc0", "up")
        lab.restore_routes("isp4")


@contextlib.contextmanager
def rate_limit_and_loss(lab: PathLab):  # type: ignore[no-untyped-def]
    lab.nft("isp2", RATE_LIMIT)
    lab.nft("isp4", FORWARD_LOSS)
    try:
        yield
    finally:
        lab.nft_flush("isp2")
        lab.nft_flush("isp4")
