"""Faults on the lab's path. Each is `start()` / `stop()`, a context manager, or one call with a
duration: `inject(fault, seconds)` returns when it is over, with the wall times it held.

Where each fault acts (hops: lan = office-router, wan = router-isp, backbone = isp-dc):
- `LinkDown(hop)`: `ip link set ... down` on the forwarding device's port of that hop (the
  router's lan0 or wan0, the ISP's dc0); on stop the link comes up and the routes the kernel
  dropped with it are put back.
- `Firewall(hop, "drop" | "reject")`: an nft table on the far side of the hop that drops
  (black hole: every probe waits for its timeout) or rejects (TCP reset, ICMP admin-prohibited
  for the rest) whatever arrives from the office side, in its input and forward hooks.
- `ServerMode(server, mode)`: a simulated server's mode through its control API, e.g. the ISP
  resolver `silent` / `servfail` / `nxdomain`, the data center `error` / `hang` / `slow`.
- `Cert(variant)`: the data center presents an `expired` or `wrong_name` certificate.
- `BandwidthCap(rate, queue)`: `tc tbf` on the ISP's port toward the office plus a bulk
  download that keeps `queue` seconds of packets standing in it (tc netem is not available).
"""

from __future__ import annotations

import io
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from tests.lab.servers import control
from tests.lab.topology import ANCHOR, BULK_PORT, HOPS, Topology, sh


class Fault:
    """Base: `with fault:` holds it; `label` names it in logs and reports."""

    label = "fault"

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Fault:
        self.start()
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()


@dataclass(frozen=True, slots=True)
class Injected:
    """What a fault really held: wall times just after start() and just after stop()."""

    label: str
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


def inject(fault: Fault, seconds: float) -> Injected:
    """Hold `fault` for `seconds` and return its measured start and end."""
    fault.start()
    try:
        started = time.time()
        time.sleep(seconds)
    finally:
        fault.stop()
    return Injected(fault.label, started, time.time())


def _hop(name: str) -> Any:
    if name not in HOPS:
        raise ValueError(f"hop must be one of {', '.join(HOPS)}; got {name!r}")
    return HOPS[name]


class LinkDown(Fault):
    def __init__(self, topo: Topology, hop: str) -> None:
        self.topo, self.hop = topo, _hop(hop)
        self.label = f"link-down {hop}"
        # The forwarding device's port: the router's LAN port, else the near side's uplink.
        if hop == "lan":
            self.role, self.ifname = self.hop.far, self.hop.far_if
        else:
            self.role, self.ifname = self.hop.near, self.hop.near_if

    def start(self) -> None:
        self.topo.ip(self.role, "link", "set", self.ifname, "down")

    def stop(self) -> None:
        self.topo.ip(self.role, "link", "set", self.ifname, "up")
        for role in (self.hop.near, self.hop.far):
            self.topo.restore_routes(role, check=False)


class Firewall(Fault):
    def __init__(self, topo: Topology, hop: str, action: str = "drop") -> None:
        if action not in ("drop", "reject"):
            raise ValueError(f"action must be drop or reject; got {action!r}")
        self.topo, self.hop, self.action = topo, _hop(hop), action
        self.label = f"{'black-hole' if action == 'drop' else 'reject'} {hop}"
        self.table = f"lab_{action}_{hop}"

    def _nft(self, script: str) -> None:
        argv = self.topo.exec_argv(self.hop.far, "nft", "-f", "/dev/stdin")
        done = subprocess.run(argv, input=script, capture_output=True, text=True, timeout=10)
        if done.returncode != 0:
            raise RuntimeError(f"nft: {done.stderr.strip()}\n{script}")

    def start(self) -> None:
        match = f'iifname "{self.hop.far_if}"'
        if self.action == "drop":
            verdicts = [f"{match} drop"]
        else:
            verdicts = [
                f"{match} meta l4proto tcp reject with tcp reset",
                f"{match} reject with icmpx type admin-prohibited",
            ]
        chains = []
        for hook in ("input", "forward"):
            rules = "\n".join(f"    {v}" for v in verdicts)
            chains.append(
                f"  chain {hook} {{\n    type filter hook {hook} priority -10; policy accept;\n"
                f"{rules}\n  }}"
            )
        self._nft(f"table inet {self.table} {{\n" + "\n".join(chains) + "\n}\n")

    def stop(self) -> None:
        self._nft(f"delete table inet {self.table}\n")


class ServerMode(Fault):
    """`server` is `dns` or `anchor` (ISP) or `http`, `vpn`, `dc-dns` (data center)."""

    def __init__(self, sockets: dict[str, Path], server: str, mode: str, **params: float) -> None:
        self.sock, self.server = _socket_of(sockets, server)
        self.mode, self.params = mode, params
        self.label = f"{server} {mode}" + "".join(f" {k}={v:g}" for k, v in params.items())

    def start(self) -> None:
        extra = "".join(f"&{k}={v:g}" for k, v in self.params.items())
        control(self.sock, "POST", f"/mode?server={self.server}&mode={self.mode}{extra}")

    def stop(self) -> None:
        control(self.sock, "POST", f"/mode?server={self.server}&mode=ok")


class Cert(Fault):
    def __init__(self, sockets: dict[str, Path], variant: str) -> None:
        self.sock = sockets["dc"]
        self.variant = variant
        self.label = f"cert {variant}"

    def start(self) -> None:
        control(self.sock, "POST", f"/cert?server=http&variant={self.variant}")

    def stop(self) -> None:
        control(self.sock, "POST", "/cert?server=http&variant=good")


class BandwidthCap(Fault):
    """tbf at `rate` bit/s on the ISP's port toward the office, `queue` s of standing load."""

    def __init__(self, topo: Topology, rate: int = 2_000_000, queue: float = 0.2) -> None:
        self.topo, self.rate, self.queue = topo, rate, queue
        self.label = f"bandwidth-cap {rate / 1e6:g}mbit queue {queue * 1000:.0f}ms"
        hop = HOPS["wan"]
        self.role, self.ifname = hop.far, hop.far_if
        self._said: IO[bytes] = io.BytesIO()  # the load generator's stdout, once started

    def start(self) -> None:
        # latency 5s: a limit far above the clamped window, so the load never causes drops.
        self.topo.ip(self.role, "link", "set", self.ifname, "txqueuelen", "1000")
        sh("tc", "-n", self.topo.ns(self.role), "qdisc", "replace", "dev", self.ifname, "root",
           "tbf", "rate", str(self.rate), "burst", "4kb", "latency", "5s")  # fmt: skip
        window = int(self.rate / 8 * self.queue)
        argv = [
            sys.executable,
            "-m",
            "tests.lab.load",
            f"{ANCHOR}:{BULK_PORT}",
            "--window",
            str(window),
        ]
        load = self.topo.spawn(
            "load", "office", argv, cwd=str(Path(__file__).parents[2]), stdout=subprocess.PIPE
        )
        # The cap is a fault only once the office's traffic fills it: wait for the download to
        # flow (an interpreter starting on a busy machine takes a second or two), so that the
        # measured start is the link's, not Python's.
        assert load.stdout is not None
        self._said = load.stdout
        ready, _, _ = select.select([load.stdout], [], [], 15)
        if not ready or load.stdout.readline() != b"flowing\n":
            raise RuntimeError("tests.lab.load did not start its download within 15 s")

    def stop(self) -> None:
        self.topo.kill("load")
        self._said.close()
        sh("tc", "-n", self.topo.ns(self.role), "qdisc", "del", "dev", self.ifname, "root",
           check=False)  # fmt: skip


def _socket_of(sockets: dict[str, Path], server: str) -> tuple[Path, str]:
    where = {"dns": ("isp", "dns"), "anchor": ("isp", "anchor"), "http": ("dc", "http"),
             "vpn": ("dc", "vpn"), "dc-dns": ("dc", "dns")}  # fmt: skip
    if server not in where:
        raise ValueError(f"server must be one of {', '.join(where)}; got {server!r}")
    role, name = where[server]
    return sockets[role], name


def run_timeline(steps: list[tuple[float, Fault, float]]) -> list[Injected]:
    """Play `(offset, fault, seconds)` steps from now, overlapping as written; returns each
    step's measured start and end, in the order given. Every fault is stopped, even on error."""
    t0 = time.monotonic()
    events = sorted(
        [(offset, 1, index) for index, (offset, _, _) in enumerate(steps)]
        + [(offset + seconds, 0, index) for index, (offset, _, seconds) in enumerate(steps)]
    )  # at equal times a stop (0) runs before a start (1)
    starts: dict[int, float] = {}
    ends: dict[int, float] = {}
    try:
        for at, is_start, index in events:  # bounded: two events per step
            time.sleep(max(t0 + at - time.monotonic(), 0))
            fault = steps[index][1]
            if is_start:
                fault.start()
                starts[index] = time.time()
            else:
                fault.stop()
                ends[index] = time.time()
    finally:
        for index in set(starts) - set(ends):
            steps[index][1].stop()
    return [Injected(steps[i][1].label, starts[i], ends[i]) for i in range(len(steps))]
