"""Probe targets for the benchmark: HTTP, TCP and DNS listeners, run inside the bench namespace.

Bare asyncio protocols (on uvloop when installed) so the targets outpace any prober on the
other core. HTTP answers after `--delay`; asked to (`Connection: close`, as blackbox asks) it
closes first, so TIME_WAIT stays on this side, else it keeps the connection until the client
closes it (Pantau resets it once the answer is read), as an HTTP/1.1 server does.
Stops by itself after `--lifetime` seconds, or on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket

BODY = b"ok\n"
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
    b"Connection: close\r\n\r\n%s" % (len(BODY), BODY)
)
KEEP_ALIVE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s" % (
    len(BODY),
    BODY,
)


class Http(asyncio.Protocol):
    """Reads one request head, answers after the delay, closes."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if b"\r\n\r\n" in self.buffer and self.transport is not None:
            close = b"connection: close" in self.buffer.lower()
            self.buffer = b""
            if self.delay > 0:
                asyncio.get_running_loop().call_later(self.delay, self._answer, close)
            else:
                self._answer(close)

    def _answer(self, close: bool) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(RESPONSE if close else KEEP_ALIVE)
            if close:
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


class Dns(asyncio.DatagramProtocol):
    """Answers every A query with one record (10.77.0.9) after the delay; the question echoed."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        end = 12
        while end < len(data) and data[end]:  # the question's name: labels up to the root
            end += 1 + data[end]
        end += 5  # the root label, QTYPE, QCLASS
        if len(data) < end:
            return
        answer = (
            data[:2]
            + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00"  # response, RA; 1 question, 1 answer
            + data[12:end]
            + b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x4d\x00\x09"
        )
        if self.delay > 0:
            asyncio.get_running_loop().call_later(self.delay, self._send, answer, addr)
        else:
            self._send(answer, addr)

    def _send(self, answer: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None:
            self.transport.sendto(answer, addr)


class Tcp(asyncio.Protocol):
    """Accepts and closes: the handshake is all a TCP probe wants."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.close()


async def serve(
    host: str,
    http_ports: list[int],
    tcp_ports: list[int],
    delay: float,
    lifetime: float,
    dns_ports: list[int] = [],  # noqa: B006 (read only)
) -> None:
    loop = asyncio.get_running_loop()
    servers = []
    for port in http_ports:
        servers.append(
            await loop.create_server(
                lambda: Http(delay), host, port, backlog=4096, reuse_address=True
            )
        )
    for port in tcp_ports:
        servers.append(await loop.create_server(Tcp, host, port, backlog=4096, reuse_address=True))
    for server in servers:
        for sock in server.sockets:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    resolvers = [
        (await loop.create_datagram_endpoint(lambda: Dns(delay), local_addr=(host, port)))[0]
        for port in dns_ports
    ]
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    print("ready", flush=True)
    try:
        await asyncio.wait_for(stop.wait(), lifetime)
    except TimeoutError:
        pass
    for server in servers:
        server.close()
    for resolver in resolvers:
        resolver.close()


def ports(text: str) -> list[int]:
    """`8000-8003,9000` -> [8000, 8001, 8002, 8003, 9000]."""
    out: list[int] = []
    for part in filter(None, text.split(",")):
        first, _, last = part.partition("-")
        out.extend(range(int(first), int(last or first) + 1))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--http", type=ports, default=[])
    parser.add_argument("--tcp", type=ports, default=[])
    parser.add_argument("--dns", type=ports, default=[], help="UDP ports answering DNS A queries")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before HTTP/DNS answer")
    parser.add_argument("--lifetime", type=float, default=3600.0)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(serve(args.host, args.http, args.tcp, args.delay, args.lifetime, args.dns))


if __name__ == "__main__":
    main()
