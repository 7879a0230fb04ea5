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


async def test_the_request_on_the_wire_is_the_targets_own() -> None:
    """Each target's request is serialized once and kept as bytes (issue 18's memory): what
    reaches the server is still its method, path and query, Host with the port, and its
    headers, a configured one replacing a default of the same name."""
    heads: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with probe_context() as ctx:
            for name in ("a", "b"):
                target = http_target(
                    f"http://127.0.0.1:{port}/{name}?office=3171",
                    headers={"X-Office": name, "Accept": "text/plain"},
                )
                result = await probe_once(ctx, target)
                assert result.ok, result.message
    finally:
        server.close()
        await server.wait_closed()
    for name, head in zip(("a", "b"), heads, strict=True):
        lines = head.decode().split("\r\n")
        assert lines[0] == f"GET /{name}?office=3171 HTTP/1.1"
        assert f"Host: 127.0.0.1:{port}" in lines and f"X-Office: {name}" in lines
        assert "Accept: text/plain" in lines and "Accept: */*" not in lines
        assert "User-Agent: pantau" in lines


def test_targets_share_the_request_h11_reads_their_answers_by() -> None:
    """A thousand targets keep a thousand small byte strings, and one h11 event between them
    (one per method and framing headers): h11 only needs those to read the answer."""
    from monitor.probes.http11 import _request

    made = [_request("GET", f"http://10.9.{i // 250}.{i % 250}/", ()) for i in range(1000)]
    assert len({id(r.shape) for r in made}) == 1
    assert all(r.wire.startswith(b"GET / HTTP/1.1\r\nHost: 10.9.") for r in made)
    head = _request("HEAD", "http://10.9.0.1/", ())
    closing = _request("GET", "http://10.9.0.1/", (("Connection", "close"),))
    assert head.shape.method == b"HEAD" and head.shape is not made[0].shape
    assert (b"connection", b"close") in [(n, v) for n, v in closing.shape.headers]
