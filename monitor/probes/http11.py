"""The HTTP probe's own HTTP/1.1 client: `h11` on a plain asyncio protocol.

aiohttp's client machinery (session, connector, happy-eyeballs connect, trace signals,
response object, stream reader) was most of the HTTP probe's CPU (docs/performance.md). A
probe needs one request on a fresh connection and an answer read up to BODY_LIMIT; `h11`
parses that (status line, headers, Content-Length or chunked, end of message), asyncio's
public API does the rest (`sock_connect`, `create_connection(sock=..., ssl=...)`), and the
kernel stamps come from the same StampingSocket without any private aiohttp API.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import struct
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import h11

from monitor.body_match import BODY_LIMIT
from monitor.config import PER_TARGET_CACHE
from monitor.probes import phase
from monitor.probes.kstamp import REPORT_FLAGS, receive_stamps, send_stamps
from monitor.probes.result import ProbeFailure
from monitor.probes.transport_cycle import release, socket_transport
from monitor.probes.wire_clock import StampingSocket, WireClock
from monitor.uplinks.bind import bind
from monitor.uplinks.config import Source

USER_AGENT = "pantau"
_LINGER_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends a reset


@dataclass(slots=True)
class Answer:
    """What one request saw: the marks (monotonic seconds), the response, the wire clock."""

    start: float
    dns_start: float = 0.0
    dns_end: float = 0.0
    connect_start: float = 0.0
    connect_end: float = 0.0  # TCP and TLS up
    sent: float = 0.0
    first_byte: float = 0.0  # the loop saw the response head
    end: float = 0.0
    status: int = 0
    charset: str | None = None
    body: bytes = b""
    connect_rtt: float | None = None
    peer_cert_der: bytes | None = None
    wire: WireClock = field(default_factory=WireClock)


class _Reader(asyncio.Protocol):
    """Feeds h11; resolves `head` at the response head and `done` at the end (or the limit)."""

    def __init__(self, clock: WireClock, head_only: bool, whole: bool) -> None:
        loop = asyncio.get_running_loop()
        self.conn = h11.Connection(h11.CLIENT)
        self.clock = clock
        self.head: asyncio.Future[h11.Response] = loop.create_future()
        self.done: asyncio.Future[bytes] = loop.create_future()
        self.whole = whole  # read on to the end or BODY_LIMIT (a regex), else the first data
        self.head_only = head_only
        self.decoder: Any = None
        self.parts: list[bytes] = []
        self.size = 0

    def data_received(self, data: bytes) -> None:
        clock = self.clock
        if clock.first_byte_ns is None and data:
            clock.first_byte_ns = clock.last_rx_ns or 0
        self._feed(data)

    def eof_received(self) -> bool | None:
        self._feed(b"")
        return None

    def connection_lost(self, exc: BaseException | None) -> None:
        error = exc or ConnectionResetError("connection closed by the peer before the answer")
        for future in (self.head, self.done):
            if not future.done():
                future.set_exception(error)
                future.exception()  # retrieved: the caller may await only one of them

    def _feed(self, data: bytes) -> None:
        if self.done.done():
            return
        try:
            self.conn.receive_data(data)
            while not self.done.done():
                event = self.conn.next_event()
                if event is h11.NEED_DATA or event is h11.PAUSED:
                    return
                self._on(event)
        except h11.RemoteProtocolError as exc:
            if not data and not self.head.done():
                self.connection_lost(None)  # closed without a word: reason reset
            elif not data:
                self.connection_lost(
                    _malformed("the connection closed before the end of the answer")
                )
            else:
                self.connection_lost(_malformed(f"not a valid HTTP/1.1 answer: {exc}"))
        except zlib.error as exc:
            self.connection_lost(_malformed(f"the compressed body is corrupt: {exc}"))

    def _on(self, event: Any) -> None:
        if isinstance(event, h11.InformationalResponse):
            return
        if isinstance(event, h11.Response):
            self.decoder = _decoder(event.headers)
            if not self.head.done():  # cancelled by the deadline, its data already queued
                self.head.set_result(event)
            if self.head_only:
                self.done.set_result(b"")
        elif isinstance(event, h11.Data):
            part = bytes(event.data)
            if self.decoder is not None:
                part = self.decoder.decompress(part, BODY_LIMIT - self.size)
            self.parts.append(part)
            self.size += len(part)
            if not self.whole or self.size >= BODY_LIMIT:
                self.done.set_result(b"".join(self.parts)[:BODY_LIMIT])
        elif isinstance(event, h11.EndOfMessage):
            self.done.set_result(b"".join(self.parts)[:BODY_LIMIT])
        elif isinstance(event, h11.ConnectionClosed):
            raise h11.RemoteProtocolError("connection closed before the end of the answer")


def _malformed(message: str) -> ProbeFailure:
    """The peer's answer is not HTTP/1.1 as h11 reads it: a network outcome, reason `error`."""
    return ProbeFailure("error", message)


def _decoder(headers: Any) -> Any:
    for name, value in headers:
        if name == b"content-encoding":
            coding = value.strip().lower()
            if coding in (b"gzip", b"x-gzip"):
                return zlib.decompressobj(16 + zlib.MAX_WBITS)
            if coding == b"deflate":
                return zlib.decompressobj(zlib.MAX_WBITS)
    return None


def _charset(headers: Any) -> str | None:
    for name, value in headers:
        if name == b"content-type":
            for param in value.decode("latin-1").split(";")[1:]:
                key, _, val = param.strip().partition("=")
                if key.strip().lower() == "charset" and val:
                    return val.strip().strip('"') or None
    return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


Resolve = Callable[[str, int], Awaitable[list[tuple[socket.AddressFamily, Any]]]]


async def _connect(
    host: str, port: int, is_ip: bool, answer: Answer, resolve: Resolve, source: Source | None
) -> StampingSocket:
    """A connected, stamping, non-blocking socket; the first address that answers wins."""
    loop = asyncio.get_running_loop()
    if is_ip:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        addresses: list[tuple[socket.AddressFamily, Any]] = [(family, (host, port))]
    else:
        phase.enter("dns")
        answer.dns_start = time.monotonic()
        addresses = await resolve(host, port)
        answer.dns_end = time.monotonic()
        phase.enter("connect")
    error: OSError | None = None
    for family, address in addresses:
        sock = StampingSocket(family, socket.SOCK_STREAM)
        sock.clock = answer.wire
        try:
            bind(sock, source)  # issue 16: leave through the target's uplink
            sock.setblocking(False)
            # No kernel stamps: the probe keeps its stopwatch (receive) or clock (send).
            receive_stamps(sock)
            answer.wire.tx_stamps = send_stamps(sock, REPORT_FLAGS)
            await loop.sock_connect(sock, address)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
        except BaseException:
            sock.close()
            raise
    assert error is not None
    try:
        raise error
    finally:
        # The error's traceback holds this frame, whose locals hold the error and the last
        # socket: a cycle only the collector would free, with the socket and its clock in it.
        del error, sock


@dataclass(frozen=True, slots=True)
class _Request:
    """A target's request, prepared once: where it goes, its bytes on the wire, and the shared
    request that moves our h11 connection the same way (see `_request`)."""

    host: str
    port: int
    is_ip: bool
    wire: bytes
    shape: h11.Request


# What h11 reads from a request it sends, to know how the answer is framed and whether the
# connection lives on (h11/_connection.py: the method, `Connection`, the body's framing, an
# `Expect: 100-continue`, an `Upgrade`); the rest only goes on the wire.
_SHAPE_HEADERS = ("connection", "content-length", "transfer-encoding", "expect", "upgrade")


@lru_cache(maxsize=PER_TARGET_CACHE)
def _request(method: str, url: str, headers: tuple[tuple[str, str], ...]) -> _Request:
    """The URL parsed and the request validated and serialized, once per target: h11's header
    checks cost ~0.1 ms a probe. Kept as its bytes (~150 B), not as an h11 event (~1.1 KB: a
    bytes object per name, lower-cased name and value), and in one cache entry, not one for the
    URL and one for the request: ~1.3 MB at 1,000 targets, now ~0.3 (issue 18)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    default = 443 if parts.scheme == "https" else 80
    port = parts.port or default
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    authority = f"[{host}]" if ":" in host else host
    if port != default:
        authority = f"{authority}:{port}"
    fields = {
        "host": ("Host", authority),
        "user-agent": ("User-Agent", USER_AGENT),
        "accept": ("Accept", "*/*"),
        "accept-encoding": ("Accept-Encoding", "gzip, deflate"),
    }
    for name, value in headers:
        fields[name.lower()] = (name, value)
    # No `Connection: close`: every probe still stands alone (a fresh connection, reset by us
    # once the answer is read), but a server asked to close sends its FIN right behind the
    # answer, and TCP merges a segment that arrives before our first read into the unread one,
    # stamp included: the first byte then carries the FIN's arrival (wire_clock.py). Measured
    # on the bench's veth: TTFB 90-180 us late in most probes with the FIN, 1-4 us without.
    request = h11.Request(method=method, target=path, headers=list(fields.values()))
    wire = h11.Connection(h11.CLIENT).send(request) or b""
    shape = tuple(fields[name] for name in _SHAPE_HEADERS if name in fields)
    return _Request(host, port, _is_ip(host), wire, _shape(method, shape))


@lru_cache(maxsize=64)
def _shape(method: str, headers: tuple[tuple[str, str], ...]) -> h11.Request:
    """One request per method and framing headers, shared by every target that has them."""
    return h11.Request(method=method, target="/", headers=[("Host", "pantau"), *headers])


async def fetch(
    method: str,
    url: str,
    headers: dict[str, str] | None,
    tls: ssl.SSLContext | None,
    whole_body: bool,
    resolve: Resolve,
    source: Source | None = None,
) -> Answer:
    """One request on a fresh connection; the answer's head and body (see `_Reader`)."""
    # Imported here: tcp imports context, which imports the probes.
    from monitor.probes.tcp import kernel_connect_rtt

    loop = asyncio.get_running_loop()
    request = _request(method, url, tuple((headers or {}).items()))
    host, port = request.host, request.port
    answer = Answer(start=time.monotonic())
    phase.enter("connect")
    answer.connect_start = time.monotonic()
    sock = await _connect(host, port, request.is_ip, answer, resolve, source)
    answer.connect_rtt = kernel_connect_rtt(sock)
    reader = _Reader(answer.wire, method == "HEAD", whole_body)
    try:
        transport, _ = await loop.create_connection(
            lambda: reader,
            sock=sock,
            ssl=tls,
            server_hostname=host if tls is not None else None,
        )
    except BaseException:
        sock.close()
        raise
    raw = socket_transport(transport)
    try:
        answer.connect_end = time.monotonic()
        phase.enter("request")
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            answer.peer_cert_der = ssl_object.getpeercert(binary_form=True)
        reader.conn.send(request.shape)  # h11 now reads the answer to this request
        # Armed here, not when the protocol is connected: asyncio connects it as TLS comes up
        # and only then flushes TLS 1.3's client Finished, which would be stamped as the
        # request and count the wait before our write as time to first byte.
        answer.wire.armed = True  # the next send is the request
        transport.write(request.wire)
        answer.sent = time.monotonic()
        phase.enter("response")
        head = await reader.head
        answer.first_byte = time.monotonic()
        answer.status = head.status_code
        answer.charset = _charset(head.headers)
        answer.body = await reader.done
        answer.end = time.monotonic()
    finally:
        # A reset, answer read or not: we close first, and a normal close would leave a
        # TIME_WAIT entry per probe on our side (tcp.py); no TLS close_notify exchange either.
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        except OSError:
            pass  # already closed by the peer's reset
        transport.abort()
        release(raw)  # freed now, not by the cycle collector (transport_cycle.py)
    return answer
