"""body_regex (issue 12): the whole body up to BODY_LIMIT however the server splits it, matched
by a linear-time engine, off the event loop when the body is large."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator

import pytest

from monitor import body_match
from monitor.body_match import BODY_LIMIT
from monitor.probes.context import ProbeContext
from tests.helpers.probing import http_target, probe_context, probe_once

pytestmark = pytest.mark.timeout(30)
SEGMENT = 1448  # one Ethernet-sized TCP segment of payload


@pytest.fixture
async def ctx() -> AsyncIterator[ProbeContext]:
    async with probe_context() as ctx:
        yield ctx


async def serve(body: bytes, piece: int, charset: str = "utf-8") -> asyncio.Server:
    """An HTTP/1.1 server on 127.0.0.1 that sends `body` in `piece`-byte writes, each flushed
    to the socket and followed by a pause, so the client receives them as separate reads."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await send(reader, writer)
        except ConnectionError:
            pass  # the probe stops reading at BODY_LIMIT and closes: expected
        finally:
            writer.close()

    async def send(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=" + charset.encode()
            + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
        )  # fmt: skip
        await writer.drain()
        for start in range(0, len(body), piece):
            writer.write(body[start : start + piece])
            await writer.drain()
            await asyncio.sleep(0.005 if piece < 65536 else 0)

    return await asyncio.start_server(handle, "127.0.0.1", 0, family=socket.AF_INET)


async def probe_body(
    ctx: ProbeContext, body: bytes, regex: str, piece: int = SEGMENT, charset: str = "utf-8"
):  # type: ignore[no-untyped-def]
    server = await serve(body, piece, charset)
    port = server.sockets[0].getsockname()[1]
    try:
        target = http_target(f"http://127.0.0.1:{port}/", body_regex=regex)
        return await probe_once(ctx, target, deadline=10.0)
    finally:
        server.close()
        await server.wait_closed()


async def test_text_at_byte_4000_in_1448_byte_pieces_matches(ctx: ProbeContext) -> None:
    """The issue's case: only the first piece was searched, and a working DC was 'down'."""
    body = b"x" * 4000 + b"SIAK OK" + b"y" * 2000
    result = await probe_body(ctx, body, "SIAK OK")
    assert result.ok, result.message


async def test_text_up_to_the_documented_limit_is_seen_and_past_it_not(
    ctx: ProbeContext,
) -> None:
    inside = b"x" * (BODY_LIMIT - 7) + b"SIAK OK" + b"y" * 100
    assert (await probe_body(ctx, inside, "SIAK OK", piece=256 * 1024)).ok
    past = b"x" * BODY_LIMIT + b"SIAK OK"
    result = await probe_body(ctx, past, "SIAK OK", piece=256 * 1024)
    assert result.reason == "body_mismatch"


async def test_a_backtracking_pattern_cannot_stall_anything(ctx: ProbeContext) -> None:
    """`^(x|xx)*y` on 40 x's takes Python's re about a minute (1.6-fold per x); RE2 is linear."""
    result = await probe_body(ctx, b"x" * 5000, "^(x|xx)*y")
    assert result.reason == "body_mismatch"


async def test_every_body_is_matched_off_the_event_loop(
    ctx: ProbeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[threading.Thread] = []
    search = body_match._search

    def recording(pattern: str, body: bytes, charset: str) -> bool:
        threads.append(threading.current_thread())
        return search(pattern, body, charset)

    monkeypatch.setattr(body_match, "_search", recording)
    small = await probe_body(ctx, b"SIAK OK", "SIAK OK")
    large = await probe_body(ctx, b"x" * 200_000 + b"SIAK OK", ".*SIAK OK", 65536)
    assert small.ok and large.ok
    assert len(threads) == 2 and threading.main_thread() not in threads


async def test_an_unknown_charset_is_read_as_utf8_not_a_bug(ctx: ProbeContext) -> None:
    result = await probe_body(ctx, b"Layanan SIAK normal", "SIAK", charset="x-klingon")
    assert result.ok, result.message
