"""The office's path as four network namespaces joined by veth pairs: build it, save it, undo it.

    office --lan-- router --wan-- isp --backbone-- dc

Addresses are the lab's own (10.251.0.0/16) and exist only inside the namespaces built here;
the root namespace gets no interface, no address and no route. Names carry a per-run prefix
(`plab<pid>-office`, ...) so parallel runs and leftovers never collide. Everything the lab
starts is recorded in `Topology` (saved as JSON beside its files), so `teardown()` can undo it
from the same process or from `python -m tests.lab down`, killing only the PIDs it recorded.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

NAMESPACES = ("office", "router", "isp", "dc")
DC_NAME = "siak.kemendagri.go.id"


@dataclass(frozen=True, slots=True)
class Hop:
    """One veth pair: `near` is the office side, `far` the data-center side."""

    name: str
    near: str  # namespace role
    near_if: str
    near_addr: str
    far: str
    far_if: str
    far_addr: str


HOPS = {
    "lan": Hop("lan", "office", "lan0", "10.251.1.2", "router", "lan0", "10.251.1.1"),
    "wan": Hop("wan", "router", "wan0", "10.251.2.2", "isp", "cust0", "10.251.2.1"),
    "backbone": Hop("backbone", "isp", "dc0", "10.251.3.1", "dc", "wan0", "10.251.3.2"),
}
# Service addresses held on `lo` (a /32 each): the ISP's resolver and a neutral internet anchor.
LOOPBACKS = {"isp": ["10.251.9.1", "10.251.9.53"], "dc": []}
ROUTES = {
    "office": ["default via 10.251.1.1"],
    "router": ["default via 10.251.2.1"],
    "isp": ["10.251.1.0/30 via 10.251.2.2"],
    "dc": ["default via 10.251.3.1"],
}
FORWARDERS = ("router", "isp")

# Where the lab's servers listen (see tests/lab/servers.py).
ROUTER = "10.251.1.1"
ISP_EDGE = "10.251.2.1"
ANCHOR = "10.251.9.1"
ANCHOR_PORT = 443
BULK_PORT = 9000
RESOLVER = "10.251.9.53"
DC = "10.251.3.2"
DC_HTTPS_PORT = 8443
DC_VPN_PORT = 1194


class LabError(Exception):
    """A lab command failed; the message holds the command and what it printed."""


def sh(*args: str, check: bool = True, timeout: float = 10.0) -> subprocess.CompletedProcess[str]:
    """Run one command (no shell), bounded in time; LabError with its stderr when it fails."""
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise LabError(f"{' '.join(args)}: no answer within {timeout:g}s") from None
    if check and done.returncode != 0:
        raise LabError(f"{' '.join(args)}: exit {done.returncode}: {done.stderr.strip()}")
    return done


@dataclass
class Topology:
    """What one lab run built and started; enough to drive or undo it from another process."""

    prefix: str
    workdir: str
    pids: dict[str, int] = field(default_factory=dict)  # label -> PID of a process we started
    built: list[str] = field(default_factory=list)  # namespace names actually created
    kept: bool = False  # built by `python -m tests.lab up`: lives on after its creator exits

    def __post_init__(self) -> None:
        self._procs: dict[str, subprocess.Popen[str]] = {}  # ours, in this process (not saved)

    @classmethod
    def new(cls, prefix: str | None = None, workdir: str | Path | None = None) -> Topology:
        prefix = prefix or f"plab{os.getpid()}"
        workdir = Path(workdir or f"/tmp/pantau-lab-{prefix}")
        workdir.mkdir(parents=True, exist_ok=True)
        return cls(prefix, str(workdir))

    @classmethod
    def load(cls, path: str | Path) -> Topology:
        return cls(**json.loads(Path(path).read_text()))

    @property
    def state_file(self) -> Path:
        return Path(self.workdir) / "lab.json"

    def save(self) -> None:
        self.state_file.write_text(json.dumps(asdict(self), indent=2) + "\n")

    def ns(self, role: str) -> str:
        """The namespace name of `office`, `router`, `isp` or `dc` in this run."""
        if role not in NAMESPACES:
            raise ValueError(f"namespace must be one of {', '.join(NAMESPACES)}; got {role!r}")
        return f"{self.prefix}-{role}"

    def ip(self, role: str, *args: str, check: bool = True) -> None:
        sh("ip", "-n", self.ns(role), *args, check=check)

    def exec_argv(self, role: str, *argv: str) -> list[str]:
        """argv that runs a program inside a namespace (`ip netns exec` also applies
        /etc/netns/<ns>/resolv.conf, which is how the office finds the ISP's resolver)."""
        return ["ip", "netns", "exec", self.ns(role), *argv]

    # --- build ---
    def build(self) -> None:
        """Create the namespaces, links, addresses, routes and the office's resolv.conf."""
        self.save()
        for role in NAMESPACES:
            sh("ip", "netns", "add", self.ns(role))
            self.built.append(self.ns(role))
            self.save()
            self.ip(role, "link", "set", "lo", "up")
        for hop in HOPS.values():
            self.ip(
                hop.near, "link", "add", "name", hop.near_if, "type", "veth",
                "peer", "name", hop.far_if, "netns", self.ns(hop.far),
            )  # fmt: skip
            for role, ifname, addr in (
                (hop.near, hop.near_if, hop.near_addr),
                (hop.far, hop.far_if, hop.far_addr),
            ):
                self.ip(role, "addr", "add", f"{addr}/30", "dev", ifname)
                self.ip(role, "link", "set", ifname, "up")
        for role, addresses in LOOPBACKS.items():
            for addr in addresses:
                self.ip(role, "addr", "add", f"{addr}/32", "dev", "lo")
        for role in FORWARDERS:
            sh(*self.exec_argv(role, "sysctl", "-qw", "net.ipv4.ip_forward=1"))
        for role in NAMESPACES:
            self.restore_routes(role)
        resolv = self.netns_etc / "resolv.conf"
        resolv.parent.mkdir(parents=True, exist_ok=True)
        # One try, one second: a silent resolver fails a lookup (EAI_AGAIN) within a probe's
        # timeout instead of after glibc's default 5 s x 2 attempts.
        resolv.write_text(f"nameserver {RESOLVER}\noptions timeout:1 attempts:1\n")

    @property
    def netns_etc(self) -> Path:
        return Path("/etc/netns") / self.ns("office")

    def restore_routes(self, role: str, *, check: bool = True) -> None:
        """(Re)install a namespace's routes: the kernel drops them when their link goes down.

        With `check=False` a route whose link is still down (another fault) is left for that
        fault's own stop to restore."""
        for route in ROUTES[role]:
            self.ip(role, "route", "replace", *route.split(), check=check)

    # --- processes we start ---
    def spawn(self, label: str, role: str, argv: list[str], **popen: object) -> subprocess.Popen:
        """Start `argv` inside a namespace and record its PID under `label`."""
        proc = subprocess.Popen(self.exec_argv(role, *argv), **popen)  # type: ignore[call-overload]
        self._procs[label] = proc
        self.pids[label] = proc.pid
        self.save()
        return proc

    def kill(self, label: str, grace: float = 3.0) -> None:
        """SIGTERM the recorded PID, SIGKILL it after `grace` seconds; forget it."""
        pid = self.pids.pop(label, None)
        proc = self._procs.pop(label, None)
        self.save()
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        elif pid is not None:
            stop_pid(pid, grace)  # started by another lab command: not our child

    def forget(self, label: str) -> None:
        """A process that ended by other means (a test's SIGKILL): no longer ours to stop."""
        self.pids.pop(label, None)
        self._procs.pop(label, None)
        self.save()

    # --- undo ---
    def teardown(self) -> None:
        """Kill what we started, delete our namespaces and files. Safe to call twice."""
        for label in list(self.pids):
            self.kill(label)
        for name in list(self.built):
            sh("ip", "netns", "del", name, check=False)
            self.built.remove(name)
        shutil.rmtree(self.netns_etc, ignore_errors=True)
        with contextlib.suppress(OSError):
            Path("/etc/netns").rmdir()  # only if nobody else keeps files there
        shutil.rmtree(self.workdir, ignore_errors=True)


def stop_pid(pid: int, grace: float = 3.0) -> None:
    """Stop one process we started: SIGTERM, wait up to `grace` s, then SIGKILL; reap it."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if _reaped(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    for _ in range(40):  # bounded: up to 2 s for the kernel to deliver the SIGKILL
        if _reaped(pid):
            return
        time.sleep(0.05)


def _reaped(pid: int) -> bool:
    """True once `pid` is gone (reaping it when it is our child)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == pid
    except ChildProcessError:  # not our child (started by another lab command)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False


def stale_prefixes() -> list[str]:
    """Lab prefixes whose namespaces exist but whose creating process is gone (and that were
    not built to be kept by `python -m tests.lab up`)."""
    done = sh("ip", "netns", "list", check=False)
    prefixes = set()
    for line in done.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        head, _, role = name.rpartition("-")
        if head.startswith("plab") and role in NAMESPACES and head[4:].isdigit():
            prefixes.add(head)
    return sorted(p for p in prefixes if not Path(f"/proc/{p[4:]}").exists() and not _kept(p))


def _kept(prefix: str) -> bool:
    state = Path(f"/tmp/pantau-lab-{prefix}") / "lab.json"
    try:
        return bool(json.loads(state.read_text()).get("kept"))
    except (OSError, ValueError):
        return False


def leftover(prefix: str) -> Topology:
    """A dead run's lab, from its state file when it is still there (to kill its PIDs)."""
    workdir = Path(f"/tmp/pantau-lab-{prefix}")
    try:
        topo = Topology.load(workdir / "lab.json")
    except (OSError, ValueError, TypeError):
        topo = Topology(prefix, str(workdir))
    topo.built = [f"{prefix}-{role}" for role in NAMESPACES]
    return topo
