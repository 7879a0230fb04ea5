"""What happened on the wire: handshakes and first bytes captured on the host end of the veth.

dumpcap writes the capture (kernel timestamps, both directions at one point); tshark reads it
back as one line per packet. Per TCP connection (client port, server port) we keep the SYN,
the SYN/ACK, the first request byte and the first response byte. An ICMP echo (id, sequence)
and a DNS query over UDP (client port, DNS id) are kept the same way, as a `Connection` whose
`syn` is the request and `synack` the reply, so `connect` is their round trip on the wire.
ICMP echoes are all filed under port 0 (they have none), DNS under the resolver's port.
"""

from __future__ import annotations

import bisect
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench.lab import Proc, wait_file
from bench.probers import DNS_PORTS


@dataclass
class Connection:
    syn: float
    synack: float | None = None
    request: float | None = None
    response: float | None = None

    @property
    def connect(self) -> float | None:
        return None if self.synack is None else self.synack - self.syn

    @property
    def ttfb(self) -> float | None:
        if self.request is None or self.response is None:
            return None
        return self.response - self.request


@dataclass
class Wire:
    """Connections per server port, each list sorted by SYN time."""

    by_port: dict[int, list[Connection]] = field(default_factory=dict)
    # ICMP echo requests by identifier (sequence 0), each list sorted by send time: a prober
    # that says which identifier a probe used is paired exactly, not by start order (issue 18:
    # at 70 % of the max rate many echoes to one address are in flight at once).
    echo_ids: dict[int, list[Connection]] = field(default_factory=dict)

    def match_echo(self, ident: int, started: float, slack: float = 0.005) -> Connection | None:
        """The first unclaimed echo with identifier `ident` sent after `started` (within 1 s:
        the 16-bit identifier comes round again after 65,536 probes)."""
        return _claim(self.echo_ids.get(ident, []), started, slack)

    def match(self, port: int, started: float, slack: float = 0.005) -> Connection | None:
        """The first unclaimed connection to `port` whose SYN left after `started`."""
        return _claim(self.by_port.get(port, []), started, slack)


def _claim(conns: list[Connection], started: float, slack: float) -> Connection | None:
    """Take (remove) from `conns`, sorted by SYN time, the first answered one whose SYN left
    after `started` (less `slack`, the clocks' difference) and within 1 s of it."""
    keys = [c.syn for c in conns]
    i = bisect.bisect_left(keys, started - slack)
    while i < len(conns):
        conn = conns[i]
        if conn.synack is not None and conn.syn - started < 1.0:
            conns.pop(i)  # one probe, one connection
            return conn
        if conn.syn - started >= 1.0:
            return None
        i += 1
    return None


def tools() -> tuple[str, str] | None:
    dumpcap, tshark = shutil.which("dumpcap"), shutil.which("tshark")
    return (dumpcap, tshark) if dumpcap and tshark else None


class Capture:
    """dumpcap on an interface, into a file; stopped by PID."""

    def __init__(self, interface: str, path: Path, bpf: str = "tcp or icmp or udp") -> None:
        found = tools()
        if found is None:
            raise RuntimeError("tshark missing: apt-get install tshark")
        self.path = path
        path.unlink(missing_ok=True)
        cmd = [
            found[0],
            "-q",
            "-i",
            interface,
            "-s",
            "128",
            "-B",
            "64",
            "-f",
            bpf,
            "-w",
            str(path),
        ]
        self.proc = Proc(cmd, core=1)
        wait_file(path, self.proc)

    def stop(self) -> Wire:
        self.proc.stop()
        return read(self.path)


# Issue 18, the lag section: only the probes' SYNs, whatever the load (a few hundred a second).
SYN_ONLY = "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn"


def syns(path: Path) -> dict[int, list[float]]:
    """Kernel times of the SYNs in a capture, by server port, sorted."""
    found = tools()
    assert found is not None
    cmd = [found[1], "-r", str(path), "-T", "fields", "-E", "separator=,"]
    for name in ("frame.time_epoch", "tcp.dstport"):
        cmd += ["-e", name]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    by_port: dict[int, list[float]] = {}
    for line in out.splitlines():
        at, _, port = line.partition(",")
        if at and port:
            by_port.setdefault(int(port), []).append(float(at))
    for times in by_port.values():
        times.sort()
    return by_port


FIELDS = (
    "frame.time_epoch",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.flags.syn",
    "tcp.flags.ack",
    "tcp.len",
    "icmp.type",
    "icmp.ident",
    "icmp.seq",
    "udp.srcport",
    "udp.dstport",
    "dns.id",
    "dns.flags.response",
)


def read(path: Path) -> Wire:
    found = tools()
    assert found is not None
    # occurrence=f: an ICMP error quotes the packet it is about; its inner fields are not ours.
    cmd = [found[1], "-r", str(path), "-T", "fields", "-E", "separator=;", "-E", "occurrence=f"]
    cmd += ["-d", f"udp.port=={DNS_PORTS[0]}-{DNS_PORTS[-1]},dns"]  # not port 53: say it is DNS
    for name in FIELDS:
        cmd += ["-e", name]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    conns: dict[tuple[int, int], Connection] = {}
    echoes: dict[tuple[str, int, int], Connection] = {}
    wire = Wire()
    for line in out.splitlines():
        parts = line.split(";")
        if len(parts) != len(FIELDS) or not parts[0]:
            continue
        at = float(parts[0])
        if parts[1]:
            _tcp(wire, conns, at, parts[1:6])
        elif parts[6] in ("0", "8") and parts[7]:
            _echo(wire, echoes, at, ("icmp", 0, int(parts[7], 0)), int(parts[8] or 0), parts[6])
        elif parts[11] and parts[9]:
            src, dst = int(parts[9]), int(parts[10])
            client = src > 30000
            key = ("dns", dst if client else src, src if client else dst)
            _echo(wire, echoes, at, key, int(parts[11], 0), "8" if client else "0")
    for conns_list in (*wire.by_port.values(), *wire.echo_ids.values()):
        conns_list.sort(key=lambda c: c.syn)
    return wire


def _echo(
    wire: Wire,
    echoes: dict[tuple[str, int, int], Connection],
    at: float,
    key: tuple[str, int, int],
    number: int,
    kind: str,
) -> None:
    """An ICMP echo request/reply ("8"/"0") or a DNS query/answer, paired by id and number."""
    pair = (key[0], key[2], number)
    if kind == "8":
        conn = echoes[pair] = Connection(at)
        wire.by_port.setdefault(key[1], []).append(conn)
        if key[0] == "icmp" and number == 0:
            wire.echo_ids.setdefault(key[2], []).append(conn)
    elif pair in echoes and echoes[pair].synack is None:
        echoes[pair].synack = at


def _tcp(wire: Wire, conns: dict[tuple[int, int], Connection], at: float, parts: list[str]) -> None:
    src, dst = int(parts[0]), int(parts[1])
    syn, ack = parts[2] in ("1", "True"), parts[3] in ("1", "True")
    length = int(parts[4] or 0)
    client = src > 30000  # ephemeral client ports; servers listen below
    key = (src, dst) if client else (dst, src)
    if client and syn and not ack:
        conn = conns[key] = Connection(at)  # a new connection reuses a port: replace
        wire.by_port.setdefault(dst, []).append(conn)
        return
    conn_or_none = conns.get(key)
    if conn_or_none is None:
        return
    if not client and syn and ack and conn_or_none.synack is None:
        conn_or_none.synack = at
    elif client and length and conn_or_none.request is None:
        conn_or_none.request = at
    elif not client and length and conn_or_none.response is None:
        conn_or_none.response = at
