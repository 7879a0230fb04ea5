"""The HTTP probe's own client (h11, issue 18) on what aiohttp used to handle for it:
chunked and compressed bodies, HEAD, and answers that are not HTTP at all."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import h11
import pytest

from tests.support.probing import http_target, probe_context, probe_once

pytestmark = pytest.mark.timeout(20)


@asynccontextmanager
async def answering(raw: bytes, close: bool = True) -> AsyncIterator[str]:
    """A server on 127.0.0.1:0 that reads the request head and writes `raw` back."""
    handlers: list[asyncio.Task[None]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            for i in range(0, len(raw), 1000):  # in pieces, as a network would deliver it
                writer.write(raw[i : i + 1000])
                await writer.drain()
            if not close:
                await reader.read()  # hold the connection open until the probe closes it
        except ConnectionError:
            pass  # the probe gave up on a bad answer and reset the connection
        finally:
            writer.close()

    async def start(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        await handle(reader, writer)

    server = await asyncio.start_server(start, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/status?x=1"
    finally:
        server.close()
        await asyncio.wait_for(asyncio.gather(*handlers, return_exceptions=True), 5)
        await server.wait_closed()
        await asyncio.sleep(0)  # the closed transports' last callbacks


def chunked(body: bytes, size: int = 700) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size])
             for i in range(0, len(body), size)]  # fmt: skip
    return b"".join(parts) + b"0\r\n\r\n"


async def test_a_chunked_gzip_body_is_decoded_before_the_regex_sees_it() -> None:
    body = gzip.compress(b"x" * 5000 + b"Layanan SIAK normal")
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n")  # fmt: skip
    raw = head + chunked(body)
    async with answering(raw) as url, probe_context() as ctx:
        result = await probe_once(ctx, http_target(url, body_regex="SIAK normal"))
    assert result.ok, result.message
    assert set(result.observation.phases) == {"dns", "connect", "tls", "ttfb", "total"}


async def test_head_reads_no_body_even_when_the_length_says_there_is_one() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n"  # HEAD: no body follows
    async with answering(raw, close=False) as url, probe_context() as ctx:
        result = await probe_once(ctx, http_target(url, method="HEAD"), deadline=2)
    assert result.ok, result.message


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"SSH-2.0-OpenSSH_9.2\r\n\r\n", "error"),  # not HTTP: the far end's fault, not a bug
        (b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort", "error"),  # cut mid-body
        (b"", "reset"),  # closed without a word
    ],
)
async def test_an_answer_that_is_not_http_is_a_network_outcome(raw: bytes, reason: str) -> None:
    async with answering(raw) as url, probe_context() as ctx:
        result = await probe_once(ctx, http_target(url, body_regex="x"), deadline=2)
    assert result.reason == reason, result.message


async def test_an_answer_queued_behind_the_deadline_is_dropped_quietly() -> None:
    """The deadline cancels the wait for the answer's head; the answer's bytes, already read
    in the same turn of the loop, arrive after it: no "protocol.data_received() call failed"."""
    from monitor.probes.http11 import _Reader
    from monitor.probes.wire_clock import WireClock

    reader = _Reader(WireClock(), head_only=False, whole=True)
    reader.conn.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
    reader.head.cancel()  # what the deadline's cancellation does to the awaited future
    reader.data_received(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert reader.head.cancelled()
    assert reader.done.result() == b"ok"
