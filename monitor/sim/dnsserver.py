"""A small DNS responder (UDP, optionally TCP) answering A/AAAA records from a dict zone."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import struct
from collections.abc import Mapping, Sequence
from typing import Literal

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from monitor.sim.port import bind_socket

DnsMode = Literal["ok", "silent", "servfail", "nxdomain", "refused", "down"]
DNS_MODES: tuple[DnsMode, ...] = ("ok", "silent", "servfail", "nxdomain", "refused", "down")
DEFAULT_ZONE: Mapping[str, Sequence[str]] = {
    "siak.kemendagri.go.id": ["10.20.0.5"],
    "kemendagri.go.id": ["10.20.0.1"],
    "dukcapil.kemendagri.go.id": ["10.20.0.7"],
}
_FORCED_RCODE = {
    "servfail": dns.rcode.SERVFAIL,
    "nxdomain": dns.rcode.NXDOMAIN,
    "refused": dns.rcode.REFUSED,
}
_LENGTH = struct.Struct("!H")


class DnsResponder:
    """Answers from `zone` (name -> addresses). Modes: `ok` (NXDOMAIN for unknown names),
    `silent` (reads and never replies), `servfail` / `nxdomain` / `refused` (that rcode for
    every query), `down` (socket closed: UDP gets ICMP port unreachable, TCP is refused).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        zone: Mapping[str, Sequence[str]] | None = None,
        *,
        mode: DnsMode = "ok",
        tcp: bool = False,
        ttl: int = 60,
    ) -> None:
        self.host = host
        self._port = port
        self.zone = {_norm(k): list(v) for k, v in (zone or DEFAULT_ZONE).items()}
        self._mode: DnsMode = mode
        self.tcp = tcp
        self.ttl = ttl
        self.queries = 0
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._tcp_writers: set[asyncio.StreamWriter] = set()
        self._started = False

    @property
    def port(self) -> int:
        """The bound port (UDP and TCP share it)."""
        if not self._started:
            raise RuntimeError("DnsResponder is not started")
        return self._port

    @property
    def address(self) -> str:
        """`host:port`, as a DNS target's `server` field wants it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def mode(self) -> DnsMode:
        return self._mode

    async def start(self) -> None:
        """Bind UDP (and TCP) on the port (0 = ephemeral, the same number for both)."""
        self._started = True
        await self.set_mode(self._mode)

    async def set_mode(self, mode: DnsMode) -> None:
        """Switch mode; leaving `down` binds the same port again."""
        if mode not in DNS_MODES:
            raise ValueError(f"mode must be one of {', '.join(DNS_MODES)}; got {mode!r}")
        self._mode = mode
        if not self._started:
            return
        if mode == "down":
            self._close_sockets()
            # A datagram transport closes its socket on the loop's next turn: return when the
            # port is really closed, or a query sent at once still reaches it (and is dropped).
            await asyncio.sleep(0)
        elif self._udp is None:
            await self._open_sockets()

    async def stop(self) -> None:
        """Close the sockets and any TCP client connection."""
        self._close_sockets()
        for writer in list(self._tcp_writers):
            writer.close()
        self._tcp_writers.clear()
        self._started = False
        await asyncio.sleep(0)

    def answer(self, wire: bytes) -> bytes | None:
        """The reply to one query in wire format, or None to stay silent."""
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None  # not DNS: a real server drops it too
        self.queries += 1
        if self._mode == "silent":
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA | dns.flags.RA
        forced = _FORCED_RCODE.get(self._mode)
        if forced is not None:
            response.set_rcode(forced)
            return response.to_wire()
        for question in query.question:
            name = _norm(question.name.to_text())
            if name not in self.zone:
                response.set_rcode(dns.rcode.NXDOMAIN)
                continue
            family = {dns.rdatatype.A: 4, dns.rdatatype.AAAA: 6}.get(question.rdtype)
            addresses = [a for a in self.zone[name] if ipaddress.ip_address(a).version == family]
            if addresses:
                rdtype = dns.rdatatype.to_text(question.rdtype)
                response.answer.append(
                    dns.rrset.from_text_list(question.name, self.ttl, "IN", rdtype, addresses)
                )
        return response.to_wire()

    async def _open_sockets(self) -> None:
        loop = asyncio.get_running_loop()
        for attempt in range(20):
            udp_sock = bind_socket(self.host, self._port, socket.SOCK_DGRAM)
            port = udp_sock.getsockname()[1]
            try:
                tcp_sock = bind_socket(self.host, port) if self.tcp else None
            except OSError:
                udp_sock.close()
                if self._port or attempt == 19:
                    raise
                continue  # the ephemeral UDP port is taken for TCP; try another
            break
        self._port = port
        self._udp, _ = await loop.create_datagram_endpoint(
            lambda: _UdpProtocol(self), sock=udp_sock
        )
        if tcp_sock is not None:
            tcp_sock.listen(64)
            self._tcp = await asyncio.start_server(self._serve_tcp, sock=tcp_sock)

    def _close_sockets(self) -> None:
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._tcp is not None:
            self._tcp.close()
            self._tcp = None

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._tcp_writers.add(writer)
        try:
            while True:
                (length,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
                reply = self.answer(await reader.readexactly(length))
                if reply is not None:
                    writer.write(_LENGTH.pack(len(reply)) + reply)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._tcp_writers.discard(writer)
            writer.close()


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, owner: DnsResponder) -> None:
        self._owner = owner

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        reply = self._owner.answer(data)
        if reply is not None:
            with contextlib.suppress(OSError):
                self._transport.sendto(reply, addr)  # type: ignore[attr-defined]


def _norm(name: str) -> str:
    return name.rstrip(".").lower()
