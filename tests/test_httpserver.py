"""The daemon's own HTTP/1.1 server (monitor/httpserver.py), from raw sockets on 127.0.0.1: what
HTTP asks of it beyond what the daemon's routes show (HEAD, 404/405, keep-alive and pipelining,
chunked streams, bad and oversized heads, a failing handler)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from monitor.httpserver import (
    MAX_WAITING,
    Connection,
    Request,
    Response,
    Routes,
    Server,
    json_response,
    text,
)
from tests.support.wait import wait_until
from tests.support.web import serving


async def _hello(request: Request) -> Response:
    return text(
        f"hello {request.query.get('who', 'dunia')}\n", headers=[("X-Route", request.route)]
    )


async def _file(request: Request) -> Response:
    return text(f"file {request.tail}\n", headers=[("X-Route", request.route)])


async def _echo(request: Request) -> Response:
    agent = request.header("User-Agent")
    return json_response(
        {"path": request.path, "target": request.target, "agent": agent, "query": request.query}
    )


async def _stream(request: Request) -> Response:
    async def parts() -> AsyncIterator[bytes]:
        for i in range(5):
            yield f"part {i}\n".encode()
            await asyncio.sleep(0)

    return Response(stream=parts())


async def _breaks_mid_stream(request: Request) -> Response:
    async def parts() -> AsyncIterator[bytes]:
        yield b"first part\n"
        raise RuntimeError("a bug half-way through a stream")

    return Response(stream=parts())


async def _broken(request: Request) -> Response:
    raise RuntimeError("a bug in a handler")


def _routes() -> Routes:
    routes = Routes()
    routes.get("/hello", _hello)
    routes.get("/files/{name}", _file)
    routes.get("/echo", _echo)
    routes.get("/stream", _stream)
    routes.get("/broken", _broken)
    routes.get("/half", _breaks_mid_stream)
    return routes


async def _exchange(base: str, raw: bytes) -> bytes:
    """Send `raw`, half-close, and read everything until the server closes."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(raw)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return answer


async def test_routes_query_and_headers_through_a_real_client() -> None:
    async with serving(_routes()) as base, aiohttp.ClientSession() as http:
        async with http.get(f"{base}/hello?who=Budi&who=Sari") as r:
            assert (r.status, await r.text()) == (200, "hello Budi\n")  # the first value wins
            assert r.headers["X-Route"] == "/hello" and r.headers["Server"] == "pantau"
            assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
            assert "GMT" in r.headers["Date"]
        async with http.get(f"{base}/files/status.css") as r:
            assert await r.text() == "file status.css\n"
            assert r.headers["X-Route"] == "/files/{name}"
        async with http.get(f"{base}/echo?q=a%20b", headers={"User-Agent": "uji"}) as r:
            assert await r.json() == {"path": "/echo", "target": "/echo?q=a%20b",
                                      "agent": "uji", "query": {"q": "a b"}}  # fmt: skip
        async with http.get(f"{base}/stream") as r:
            assert r.headers["Transfer-Encoding"] == "chunked"
            assert await r.text() == "".join(f"part {i}\n" for i in range(5))
        for path in ("/nope", "/files/", "/files/a/b", "/hello/", "//hello"):
            async with http.get(f"{base}{path}") as r:
                assert r.status == 404, path
        async with http.post(f"{base}/hello", data=b"x" * 1000) as r:
            assert (r.status, r.headers["Allow"]) == (405, "GET, HEAD")
        async with http.get(f"{base}/broken") as r:
            assert (r.status, await r.text()) == (500, "500: Internal Server Error")
        async with http.get(f"{base}/hello") as r:  # the same connection still serves
            assert r.status == 200


async def test_head_gets_the_headers_and_no_body() -> None:
    async with serving(_routes()) as base:
        answer = await _exchange(
            base, b"HEAD /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        streamed = await _exchange(
            base, b"HEAD /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
    head, body = answer.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 OK") and b"Content-Length: 12" in head
    assert body == b""
    assert streamed.startswith(b"HTTP/1.1 200 OK") and streamed.endswith(b"\r\n\r\n")


async def test_keep_alive_and_pipelined_requests_are_answered_in_order() -> None:
    requests = (
        b"".join(
            f"GET /hello?who={name} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for name in ("a", "b")
        )
        + b"GET /hello?who=c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    async with serving(_routes()) as base:
        answer = await _exchange(base, requests)
    assert answer.count(b"HTTP/1.1 200 OK") == 3
    assert answer.index(b"hello a") < answer.index(b"hello b") < answer.index(b"hello c")


async def test_http_1_0_gets_a_whole_answer_then_the_connection_closes() -> None:
    async with serving(_routes()) as base:
        answer = await _exchange(base, b"GET /stream HTTP/1.0\r\n\r\n")
    head, body = answer.split(b"\r\n\r\n", 1)
    assert b"chunked" not in head  # an HTTP/1.0 client cannot read chunks: the close frames it
    assert body == b"".join(f"part {i}\n".encode() for i in range(5))


async def test_bad_and_oversized_heads_get_a_4xx_and_the_connection_closes() -> None:
    async with serving(_routes()) as base:
        garbage = await _exchange(base, b"HELLO THERE\r\n\r\n")
        huge = await _exchange(
            base, b"GET /hello HTTP/1.1\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n"
        )
        no_host = await _exchange(base, b"GET /hello HTTP/1.1\r\n\r\n")
    assert garbage.startswith(b"HTTP/1.1 400 Bad Request")
    assert huge.startswith(b"HTTP/1.1 400 Bad Request")  # h11's word for a head over 16 KiB
    assert no_host.startswith(b"HTTP/1.1 400 ")  # HTTP/1.1 requires Host


async def test_a_stream_that_fails_half_way_is_cut_off_not_ended(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Its status line is out: the only honest thing left is to drop the connection, so the
    client sees a broken answer (no final chunk) and never a whole-looking short one."""
    async with serving(_routes()) as base:
        answer = await _exchange(base, b"GET /half HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK") and b"first part" in answer
    assert not answer.endswith(b"0\r\n\r\n")  # chunked encoding's end never sent
    assert "failed while streaming" in caplog.text and "a bug half-way" in caplog.text


async def test_pipelined_requests_sent_faster_than_answered_pause_the_reading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What waits unanswered stays bounded: the server stops reading past MAX_WAITING bytes
    and reads on once it has answered what it holds; every request is still answered."""
    reads: list[int] = []  # the size of each read, to know what the one that paused added
    received = Connection.data_received

    def counted(connection: Connection, data: bytes) -> None:
        reads.append(len(data))
        received(connection, data)

    monkeypatch.setattr(Connection, "data_received", counted)
    gate = asyncio.Event()

    async def wait(request: Request) -> Response:
        await gate.wait()
        return text("ok\n")

    routes = Routes()
    routes.get("/wait", wait)
    server = Server(routes)
    one = b"GET /wait HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 1000 + b"\r\n\r\n"
    count = 600  # ~620 KB: far past MAX_WAITING
    async with serving(server) as base:
        host, port = base.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            writer.write(one * count)  # not drained: the server may stop reading it
            (connection,) = server.connections
            await wait_until(lambda: connection._reading_paused, what="the reading paused")
            await asyncio.sleep(0.2)  # the client keeps pushing; the server keeps not reading
            held = len(connection.h11.trailing_data[0])
            # Before the read that paused it, no more than MAX_WAITING waited: the read that
            # started the first answer (up to 256 KiB) counts as much as those after it.
            assert held - reads[-1] <= MAX_WAITING, (held, reads)
            assert held <= MAX_WAITING + 256 * 1024, (held, reads)  # one read more at most
            gate.set()
            answers = b""
            async with asyncio.timeout(20):
                while answers.count(b"HTTP/1.1 200 OK") < count:
                    answers += await reader.read(65536)
            assert not connection._reading_paused
        finally:
            writer.close()
