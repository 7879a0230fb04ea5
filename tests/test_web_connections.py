"""Connection deadlines, from raw sockets on 127.0.0.1: a silent connection, a request head
dribbled a byte at a time (slowloris), keep-alive idle, a silent TLS handshake, and a client that
stops reading (or vanished) while a response waits in the buffer. Each is closed by the server
after its deadline; a server alone (aiohttp's, ours) keeps all of them for 75 s or for ever."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from monitor.config import WebSettings, parse_config
from monitor.daemon import Daemon
from monitor.httpserver import Request, Response, Routes
from monitor.webconn import ConnectionGuard
from monitor.webfront import WebFront
from tests.support.wait import wait_until
from tests.support.webtls import write_certs

# Short deadlines so the tests are quick; the client waits far longer than any of them.
FAST = {"header_timeout": "300ms", "idle_timeout": "500ms", "write_timeout": "400ms"}
CLIENT_PATIENCE = 10.0


@asynccontextmanager
async def daemon_with(
    tmp_path: Path, web_yml: str | None = None, extra: dict[str, Any] | None = None
) -> AsyncIterator[Daemon]:
    web: dict[str, Any] = {**FAST, **(extra or {})}
    if web_yml is not None:
        (tmp_path / "web.yml").write_text(web_yml)
        web["config_file"] = str(tmp_path / "web.yml")
    config = {
        "office": {"name": "Kantor Uji"},
        "listen": "127.0.0.1:0",
        "storage": {"path": str(tmp_path / "pantau.db")},
        "targets": [
            {"name": "dc", "role": "datacenter", "kind": "tcp", "host": "127.0.0.1", "port": 9}
        ],
        "web": web,
    }
    async with Daemon(parse_config(config)) as daemon:
        yield daemon


def _guard(daemon: Daemon) -> ConnectionGuard:
    assert daemon.web_front is not None
    return daemon.web_front.guard


async def _closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sent until it closed (EOF or reset); fails if it never does."""
    received = b""
    try:
        async with asyncio.timeout(CLIENT_PATIENCE):
            while chunk := await reader.read(65536):
                received += chunk
    except ConnectionResetError:
        pass
    return received


async def test_a_silent_connection_is_closed(tmp_path: Path) -> None:
    async with daemon_with(tmp_path) as daemon:
        reader, writer = await asyncio.open_connection("127.0.0.1", daemon.port)
        assert await _closed_by_server(reader) == b""
        writer.close()
        assert _guard(daemon).closed["header"] == 1


async def test_a_request_head_dribbled_byte_by_byte_is_cut_off(tmp_path: Path) -> None:
    async with daemon_with(tmp_path) as daemon:
        reader, writer = await asyncio.open_connection("127.0.0.1", daemon.port)
        head = b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"X-Pelan: " + b"a" * 2000
        sent = 0
        try:
            for byte in head:  # one byte every 30 ms: bytes keep coming, the head never ends
                writer.write(bytes([byte]))
                await writer.drain()
                sent += 1
                await asyncio.sleep(0.03)
                if reader.at_eof():
                    break
        except ConnectionError:
            pass
        answer = await _closed_by_server(reader)
        writer.close()
        assert sent < len(head)  # the server hung up long before the client would have stopped
        assert b"pantau_" not in answer
        assert _guard(daemon).closed["header"] == 1


async def test_keep_alive_serves_requests_then_closes_when_idle(tmp_path: Path) -> None:
    async with daemon_with(tmp_path) as daemon:
        reader, writer = await asyncio.open_connection("127.0.0.1", daemon.port)
        for _ in range(3):  # each request well inside idle_timeout of the previous response
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200")
            length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            assert await reader.readexactly(length) == b"ok\n"
            await asyncio.sleep(0.1)
        assert await _closed_by_server(reader) == b""
        writer.close()
        guard = _guard(daemon)
        assert guard.closed == {"header": 0, "idle": 1, "write": 0, "eof": 0, "limit": 0}


async def test_a_client_that_half_closes_after_its_request_gets_the_answer(tmp_path: Path) -> None:
    """`printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' | nc -N host 9470`: aiohttp alone answers
    nothing (asyncio closes on the FIN before the handler writes)."""
    async with daemon_with(tmp_path) as daemon:
        for version, path in (("1.0", "/healthz"), ("1.1", "/healthz"), ("1.1", "/metrics")):
            reader, writer = await asyncio.open_connection("127.0.0.1", daemon.port)
            writer.write(f"GET {path} HTTP/{version}\r\nHost: x\r\n\r\n".encode())
            writer.write_eof()
            answer = await _closed_by_server(reader)
            writer.close()
            # HTTP/1.1 to an HTTP/1.0 request too, as RFC 9110 6.2 asks (its highest version)
            assert answer.startswith(b"HTTP/1.1 200 OK"), (path, answer[:80])
            assert (b"ok\n" if path == "/healthz" else b"pantau_probes_total") in answer
        guard = _guard(daemon)
        assert guard.closed["header"] == 0 and guard.open_connections == 0


async def test_at_max_connections_the_longest_waiting_makes_room(tmp_path: Path) -> None:
    """A slowloris flood cannot lock out a scrape, nor take the probes' file descriptors."""
    settings = {"max_connections": 4, "header_timeout": "1m", "idle_timeout": "1m"}
    async with daemon_with(tmp_path, extra=settings) as daemon:
        guard = _guard(daemon)
        flood = []
        for _ in range(4):
            flood.append(await asyncio.open_connection("127.0.0.1", daemon.port))
            await wait_until(lambda: guard.open_connections == len(flood), what="accepted")
        reader, writer = await asyncio.open_connection("127.0.0.1", daemon.port)
        writer.write(b"GET /healthz HTTP/1.0\r\n\r\n")
        answer = await _closed_by_server(reader)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"ok\n")
        assert await _closed_by_server(flood[0][0]) == b""  # the oldest silent one made room
        assert guard.closed["limit"] == 1 and guard.open_connections == 3
        for _, flood_writer in flood:
            flood_writer.close()


async def test_a_silent_tls_handshake_is_closed(tmp_path: Path) -> None:
    write_certs(tmp_path)
    tls = "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n"
    async with daemon_with(tmp_path, tls) as daemon:
        reader, writer = await asyncio.open_connection("127.0.0.1", daemon.port)  # plain TCP
        assert await _closed_by_server(reader) == b""
        writer.close()


BIG_CHUNK = b"x" * 65536


async def _endless(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(4096):  # 256 MB at most: far more than any socket buffer holds
            yield BIG_CHUNK

    return Response(stream=chunks())


async def _trickle(request: Request) -> Response:
    """Server-sent-events style: a small event every 10 ms, each write growing the buffer."""

    async def events() -> AsyncIterator[bytes]:
        for _ in range(3000):  # 30 s at most
            yield b"data: " + b"x" * 250 + b"\n\n"
            await asyncio.sleep(0.01)

    return Response(content_type="text/event-stream", stream=events())


@pytest.mark.parametrize("path", ["/besar", "/acara"])
async def test_a_client_that_stops_reading_is_dropped_and_its_buffer_freed(path: str) -> None:
    """Also what a peer that vanished looks like while a response is in flight. A stream that
    keeps adding events is dropped too, before the transport's 64 KiB high-water mark stops it."""
    front = WebFront(WebSettings.model_validate(FAST))
    routes = Routes()
    routes.get("/besar", _endless)
    routes.get("/acara", _trickle)
    server = front.server(routes)
    listener = await front.listen(server, "127.0.0.1", 0)
    try:
        port = listener.sockets[0].getsockname()[1]
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a tiny window, never read
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        await asyncio.get_running_loop().sock_sendall(
            sock, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        )
        await wait_until(lambda: front.guard.closed["write"] == 1, CLIENT_PATIENCE,
                         "the stalled response to be dropped")  # fmt: skip
        await wait_until(lambda: front.guard.open_connections == 0, CLIENT_PATIENCE, "no conns")
        sock.close()
        if path == "/acara":  # dropped while the kernel still took the events, long before
            assert front.guard.dropped_bytes < 65536  # the transport's buffer would have filled
    finally:
        listener.close()
        await server.close()
        await listener.wait_closed()
        front.close()
