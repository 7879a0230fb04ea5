"""The path tracer: TTL 1..max, a few Paris-style probes per hop, on raw sockets, async.

Written here rather than taken from a library (measured 2026-12-01 on this machine):
- scapy 2.8: `from scapy.all import ...` takes 1.8-2.2 s and 85-95 MB RSS (Python alone 22 MB),
  more than the whole daemon; its send/receive is blocking or threaded, not asyncio.
- icmplib 3.0 (the ICMP probe's library): `traceroute()` is synchronous, ICMP only (no TCP SYN
  to the service's port) and varies the checksum per probe, so a load-balancing router may
  spread one trace over several paths.
The packet code is ~150 lines (packets.py); the sockets stay on the event loop (add_reader), so
a trace never blocks a probe. Receive times are the kernel's (SO_TIMESTAMPNS), not a stopwatch
around `await`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import random
import socket
import struct
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.path.packets import (
    UNREACHABLE_CODES,
    Reply,
    icmp_echo,
    parse_icmp,
    parse_tcp,
    tcp_syn,
)
from monitor.path.trace import Hop, Protocol, Trace
from monitor.uplinks.bind import bind

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux; missing from 3.11's module
SO_ATTACH_FILTER, SOL_RAW, ICMP_FILTER = 26, 255, 1
# ICMP types a trace reads: echo reply, destination unreachable, time exceeded.
_ICMP_KEEP = (1 << 0) | (1 << 3) | (1 << 11)
PERMISSION_HELP = "tracing needs raw sockets: run as root or give the process CAP_NET_RAW"

if TYPE_CHECKING:
    from monitor.uplinks.config import Source


@dataclass(frozen=True, slots=True)
class TraceSettings:
    """How hard one trace tries: `probes` per TTL, `spacing` between sends, `timeout` after."""

    max_ttl: int = 30
    probes: int = 3
    timeout: float = 1.0  # how long the last probe may wait for its reply
    spacing: float = 0.005  # between two sends: 30 hops x 3 probes go out in 0.45 s


async def trace(
    host: str,
    protocol: Protocol,
    port: int = 0,
    settings: TraceSettings | None = None,
    source: Source | None = None,
) -> Trace:
    """Trace the path to `host`; every failure (no privilege, no name, a bug) is in `error`."""
    settings = settings or TraceSettings()
    at = time.time()
    if ":" in host:
        message = f"{host}: IPv6 paths are not traced yet (IPv4 only)"
        return Trace(host, "", protocol, port, at, error="unsupported", message=message)
    try:
        dest = await _resolve(host)
    except OSError as exc:
        return Trace(host, "", protocol, port, at, error="dns", message=f"{host}: {exc}")
    try:
        run = _Run(dest, protocol, port, settings, source)
    except PermissionError:
        return Trace(host, dest, protocol, port, at, error="permission", message=PERMISSION_HELP)
    except OSError as exc:  # e.g. no route at all from this host
        return Trace(host, dest, protocol, port, at, error="unreachable", message=str(exc))
    try:
        hops = await run.go()
    except OSError as exc:
        return Trace(host, dest, protocol, port, at, error="unreachable", message=str(exc))
    finally:
        run.close()
    return Trace(host, dest, protocol, port, at, hops)


async def _resolve(host: str) -> str:
    with contextlib.suppress(OSError):
        return str(socket.inet_aton(host) and host)
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, family=socket.AF_INET)
    if not infos:
        raise OSError(f"no IPv4 address for {host}")
    return str(infos[0][4][0])


def _source_for(dest: str, source: Source | None = None) -> str:
    """The address the kernel would send from toward `dest` (a UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        bind(probe, source)  # issue 16: through the target's uplink
        probe.connect((dest, 9))
        return str(probe.getsockname()[0])


def _raw(proto: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, proto)
    sock.setblocking(False)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    return sock


def _only_from(sock: socket.socket, dest: str, port: int) -> None:
    """Classic BPF: the kernel hands this raw TCP socket only segments from dest:port.

    Without it every TCP segment of the host (the probes' handshakes, hundreds a second) is
    copied to the trace and parsed in Python."""
    address = struct.unpack("!I", socket.inet_aton(dest))[0]
    program = [
        (0x20, 0, 0, 12),  # ld [12]: IPv4 source address
        (0x15, 0, 4, address),  # jeq dest, else reject
        (0xB1, 0, 0, 0),  # ldx 4*([0]&0xf): IP header length
        (0x48, 0, 0, 0),  # ldh [x+0]: TCP source port
        (0x15, 0, 1, port),  # jeq port, else reject
        (0x06, 0, 0, 0xFFFF),  # accept
        (0x06, 0, 0, 0),  # reject
    ]
    code = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i) for i in program))
    sock.setsockopt(
        socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack("HL", len(program), ctypes.addressof(code))
    )


def _stamp(ancillary: list[tuple[int, int, bytes]]) -> int | None:
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            seconds, nanos = struct.unpack("qq", data[:16])
            return seconds * 1_000_000_000 + nanos
    return None


class _Run:
    """One trace's sockets and bookkeeping: probes out, replies matched back by their key."""

    def __init__(
        self,
        dest: str,
        protocol: Protocol,
        port: int,
        settings: TraceSettings,
        source: Source | None = None,
    ) -> None:
        self.dest, self.protocol, self.port, self.settings = dest, protocol, port, settings
        self.uplink_source = source  # issue 16: every socket leaves through it
        self.loop = asyncio.get_running_loop()
        self.sent: dict[int, tuple[int, int]] = {}  # key -> (ttl, send time ns)
        self.answers: dict[int, tuple[Reply, int]] = {}  # key -> (reply, rtt ns)
        self.end_ttl: int | None = None  # the lowest TTL the destination (or a refusal) answered
        self.done = asyncio.Event()
        self._all_sent = False
        self.ident = random.randint(1, 0xFFFF)
        self.base = random.getrandbits(32)
        self.sockets: list[socket.socket] = []
        self._reserve: socket.socket | None = None
        try:
            self._open()
        except BaseException:
            self.close()  # what opened before the failure (e.g. no privilege for the next one)
            raise

    def _open(self) -> None:
        dest, protocol, port = self.dest, self.protocol, self.port
        self.icmp = _raw(socket.IPPROTO_ICMP)
        self.sockets.append(self.icmp)
        bind(self.icmp, self.uplink_source)
        self.icmp.setsockopt(SOL_RAW, ICMP_FILTER, struct.pack("I", ~_ICMP_KEEP & 0xFFFFFFFF))
        self.sport = 0
        if protocol == "tcp":
            self.source = _source_for(dest, self.uplink_source)
            # A bound, never-listening socket holds our source port for the whole trace, so no
            # other connection can use it; the kernel answers the SYN-ACKs with a reset.
            self._reserve = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._reserve.bind((self.source, 0))
            self.sport = self._reserve.getsockname()[1]
            self.tcp = _raw(socket.IPPROTO_TCP)
            self.sockets.append(self.tcp)
            bind(self.tcp, self.uplink_source)
            _only_from(self.tcp, dest, port)
            self.loop.add_reader(self.tcp, self._drain, self.tcp, self._parse_tcp)
        self.loop.add_reader(self.icmp, self._drain, self.icmp, self._parse_icmp)

    def _parse_icmp(self, data: bytes) -> Reply | None:
        ident = self.ident if self.protocol == "icmp" else 0
        return parse_icmp(data, self.dest, ident, self.sport, self.port)

    def _parse_tcp(self, data: bytes) -> Reply | None:
        return parse_tcp(data, self.dest, self.sport, self.port)

    def _drain(self, sock: socket.socket, parse: Callable[[bytes], Reply | None]) -> None:
        for _ in range(1000):  # bounded: a flood of unrelated packets cannot pin the loop
            try:
                data, ancillary, _, _ = sock.recvmsg(1500, 64)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            received = _stamp(ancillary) or time.time_ns()
            reply = parse(data)
            if reply is None:
                continue
            key = reply.key if self.protocol == "icmp" else (reply.key - self.base) & 0xFFFFFFFF
            if key not in self.sent or key in self.answers:
                continue  # another trace's, or a duplicate: never counted for a hop
            ttl, sent_ns = self.sent[key]
            self.answers[key] = (reply, max(received - sent_ns, 0))
            if reply.kind != "time_exceeded" and (self.end_ttl is None or ttl < self.end_ttl):
                self.end_ttl = ttl
            if len(self.answers) == len(self.sent) and self._all_sent:
                self.done.set()

    def _send(self, key: int, ttl: int) -> None:
        if self.protocol == "icmp":
            sock, packet = self.icmp, icmp_echo(self.ident, key)
        else:
            seq = (self.base + key) & 0xFFFFFFFF
            sock, packet = self.tcp, tcp_syn(self.source, self.dest, self.sport, self.port, seq)
        # No await between the two calls: no other trace can change the TTL in between.
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
        self.sent[key] = (ttl, time.time_ns())
        sock.sendto(packet, (self.dest, 0))

    async def go(self) -> tuple[Hop, ...]:
        settings, key = self.settings, 0
        for _ in range(settings.probes):
            for ttl in range(1, settings.max_ttl + 1):
                if self.end_ttl is not None and ttl > self.end_ttl:
                    break
                key += 1
                self._send(key, ttl)
                await asyncio.sleep(settings.spacing)
        self._all_sent = True
        if len(self.answers) < len(self.sent):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.done.wait(), settings.timeout)
        return self._hops()

    def _hops(self) -> tuple[Hop, ...]:
        # The lowest TTL that reached the end, over all replies: a first-round probe to a
        # higher TTL may have got there while the lower one was lost.
        ends = [self.sent[k][0] for k, (r, _) in self.answers.items() if r.kind != "time_exceeded"]
        last = min(ends) if ends else self.settings.max_ttl
        sent: Counter[int] = Counter()
        by_ttl: dict[int, list[tuple[Reply, int]]] = {}
        for key, (ttl, _) in self.sent.items():
            if ttl <= last:
                sent[ttl] += 1
                if key in self.answers:
                    by_ttl.setdefault(ttl, []).append(self.answers[key])
        hops = []
        for ttl in range(1, last + 1):
            replies = by_ttl.get(ttl, [])
            address = Counter(r.source for r, _ in replies).most_common(1)
            refused = next((r for r, _ in replies if r.kind == "unreachable"), None)
            rtts = [rtt for _, rtt in replies]
            hops.append(
                Hop(
                    ttl,
                    address[0][0] if address else None,
                    sent[ttl],
                    len(replies),
                    sum(rtts) / len(rtts) / 1e9 if rtts else None,
                    None if refused is None else UNREACHABLE_CODES.get(refused.code, "unreachable"),
                )
            )
        while hops and hops[-1].received == 0 and len(hops) > 1 and hops[-2].received == 0:
            hops.pop()  # keep one silent hop after the last answer: "nothing answered beyond"
        return tuple(hops)

    def close(self) -> None:
        for sock in self.sockets:
            with contextlib.suppress(ValueError, OSError):
                self.loop.remove_reader(sock)
            sock.close()
        if self._reserve is not None:
            self._reserve.close()
