"""The daemon's HTTP/1.1 server: h11 (the parser the HTTP probe already uses) on a plain asyncio
protocol, for the few GET routes the daemon serves.

Why not aiohttp's server: it brings aiohttp's whole client with it (yarl, multidict, frozenlist,
attrs, ...), ~10 MB of RSS in a daemon that otherwise needs none of it (issue 18's memory
target). What the daemon needs is small: exact routes and one prefix route, GET and HEAD,
keep-alive, HTTP/1.0, streamed (chunked) answers with back-pressure, TLS from an SSLContext, and
hooks for the connection guard (monitor/webconn.py) and the front (monitor/webfront.py).

A request's body is read and thrown away (every route is a GET); a head larger than 16 KiB or
one h11 rejects gets its 4xx answer and the connection closes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl

import h11

log = logging.getLogger("pantau.web")

SERVER = "pantau"
MAX_HEAD = 16 * 1024  # a request head longer than this is refused (400)
MAX_WAITING = 64 * 1024  # bytes read ahead while an answer is owed; then the reading pauses
REASONS = {200: b"OK", 400: b"Bad Request", 401: b"Unauthorized", 403: b"Forbidden",
           404: b"Not Found", 405: b"Method Not Allowed", 429: b"Too Many Requests",
           500: b"Internal Server Error", 503: b"Service Unavailable"}  # fmt: skip


@dataclass(slots=True)
class Request:
    method: str  # GET or HEAD (anything else is answered 405 before a handler runs)
    target: str  # as sent: path and query, not decoded
    path: str  # the target's path, not decoded: routes match it byte for byte
    query: dict[str, str]  # decoded; the first value of a repeated name
    headers: dict[str, str]  # names in lower case; repeated headers joined by ", "
    transport: asyncio.BaseTransport
    route: str = ""  # the pattern that matched ("/status/static/{name}"), "" for none
    tail: str = ""  # what a prefix route matched after its prefix

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


@dataclass(slots=True)
class Response:
    """A whole answer (`body`), or a streamed one (`stream`: chunked in HTTP/1.1)."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: AsyncIterator[bytes] | None = None


def text(body: str, status: int = 200, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return Response(status, body.encode(), headers=list(headers))


def not_found() -> Response:
    """The answer for a path nothing serves (a route may give it too: an unknown file name)."""
    return text("404: Not Found", 404)


def json_response(data: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(data).encode(), "application/json; charset=utf-8")


Handler = Callable[[Request], Awaitable[Response]]


class Routes:
    """Exact paths, and prefix routes written `/prefix/{name}` (the rest of the path, with no
    further `/`, is `request.tail`)."""

    def __init__(self) -> None:
        self._exact: dict[str, Handler] = {}
        self._prefix: dict[str, tuple[str, Handler]] = {}

    def get(self, pattern: str, handler: Handler) -> None:
        if pattern.endswith("}") and "{" in pattern:
            self._prefix[pattern[: pattern.index("{")]] = (pattern, handler)
        else:
            self._exact[pattern] = handler

    def find(self, path: str) -> tuple[str, str, Handler] | None:
        """(pattern, tail, handler) for `path`, or None."""
        handler = self._exact.get(path)
        if handler is not None:
            return path, "", handler
        for prefix, (pattern, handler) in self._prefix.items():
            if path.startswith(prefix):
                tail = path[len(prefix) :]
                if tail and "/" not in tail:
                    return pattern, tail, handler
        return None


class Hooks(Protocol):
    """What stands around every request (monitor/webfront.py): `check` may answer instead of
    the route (401, 429, ...), `decorate` adds headers to every answer."""

    async def check(self, request: Request) -> Response | None: ...

    def decorate(self, response: Response) -> None: ...


class Watch(Protocol):
    """The connection guard's view of a request (monitor/webconn.py)."""

    def started(self, protocol: asyncio.Protocol) -> None: ...

    def done(self, protocol: asyncio.Protocol) -> None: ...


class Server:
    """Routes behind a front; `protocol()` makes one connection's protocol."""

    def __init__(self, routes: Routes, hooks: Hooks | None = None, watch: Watch | None = None):
        self.routes = routes
        self.hooks = hooks
        self.watch = watch
        self.connections: set[Connection] = set()

    def protocol(self) -> Connection:
        return Connection(self)

    async def answer(self, request: Request) -> Response:
        """The route's answer, or the front's, or 404/405; never raises."""
        try:
            found = self.routes.find(request.path)
            if found is not None:
                request.route, request.tail, _ = found
            if self.hooks is not None:
                refused = await self.hooks.check(request)
                if refused is not None:
                    return refused
            if found is None:
                return not_found()
            if request.method not in ("GET", "HEAD"):
                return text("405: Method Not Allowed", 405, [("Allow", "GET, HEAD")])
            return await found[2](request)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("web: %s %s failed", request.method, request.target[:200])
            return text("500: Internal Server Error", 500)

    async def close(self) -> None:
        """Close every connection and wait for their handlers to end."""
        tasks = []
        for connection in list(self.connections):
            if connection.task is not None:
                connection.task.cancel()
                tasks.append(connection.task)
            if connection.transport is not None:
                connection.transport.close()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


class Connection(asyncio.Protocol):
    """One client connection: requests in order, one answer at a time."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        self.transport: asyncio.Transport | None = None
        self.task: asyncio.Task[None] | None = None
        self._request: Request | None = None
        self._paused = False
        self._drained: asyncio.Future[None] | None = None
        self._ahead = 0  # bytes received while an answer was being made
        self._reading_paused = False

    # --- asyncio protocol ---
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.server.connections.add(self)

    def data_received(self, data: bytes) -> None:
        self.h11.receive_data(data)
        self._ahead += len(data)
        self._next()
        if self.task is None:
            self._ahead = 0  # h11 holds at most part of a head, which MAX_HEAD bounds
        elif self._ahead > MAX_WAITING and self.transport is not None:
            # Pipelined requests wait in h11's buffer while one is answered: a client that
            # sends them faster than they are answered must not grow it without bound. The
            # read that started the answer counts too: it may carry 256 KiB of them.
            self.transport.pause_reading()
            self._reading_paused = True

    def eof_received(self) -> bool | None:
        self.h11.receive_data(b"")
        self._next()
        return None  # the guard keeps a plain connection half-open while an answer is owed

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        self.transport = None
        if self._drained is not None and not self._drained.done():
            self._drained.set_exception(ConnectionResetError("connection lost"))
        if self.task is not None and not self.task.done():
            self.task.cancel()

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    # --- requests ---
    def _next(self) -> None:
        """Read events until a whole request is in, then answer it (one at a time)."""
        if self.task is not None or self.transport is None:
            return  # h11 holds what comes next until this answer is out
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                self._refuse(exc.error_status_hint)
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self._request = self._make_request(event)
            elif isinstance(event, h11.EndOfMessage) and self._request is not None:
                request, self._request = self._request, None
                self.task = asyncio.get_running_loop().create_task(self._serve(request))
                return
            elif isinstance(event, h11.ConnectionClosed):
                if self.transport is not None:
                    self.transport.close()
                return

    def _make_request(self, event: h11.Request) -> Request:
        target = event.target.decode("ascii", "replace")
        path, _, query = target.partition("?")
        headers: dict[str, str] = {}
        for name, value in event.headers:
            key, text_value = name.decode("ascii", "replace"), value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text_value}" if key in headers else text_value
        assert self.transport is not None
        return Request(
            event.method.decode("ascii", "replace"),
            target,
            path,
            dict(reversed(parse_qsl(query))),  # reversed: the first of a repeated name wins
            headers,
            self.transport,
        )

    def _refuse(self, status: int) -> None:
        """A request h11 cannot read: answer `status` if an answer can still start, then close."""
        transport = self.transport
        if transport is None:
            return
        if self.h11.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            try:
                reason = REASONS.get(status, b"Bad Request")
                headers = _head_of(status, reason + b"\n", "text/plain; charset=utf-8")
                head = h11.Response(status_code=status, headers=headers, reason=reason)
                transport.write(self.h11.send(head) + self.h11.send(h11.Data(data=reason + b"\n")))
                transport.write(self.h11.send(h11.EndOfMessage()))
            except h11.LocalProtocolError:
                pass
        transport.close()

    async def _serve(self, request: Request) -> None:
        watch = self.server.watch
        if watch is not None:
            watch.started(self)
        try:
            response = await self.server.answer(request)
            if self.server.hooks is not None:
                self.server.hooks.decorate(response)
            await self._send(request, response)
        except (ConnectionError, h11.LocalProtocolError):
            if self.transport is not None:
                self.transport.abort()
        except Exception:
            # A stream that failed half-way (its status line is out): the client must not take
            # a cut answer for a whole one, so the connection goes.
            log.exception("web: %s %s failed while streaming", request.method, request.target[:200])
            if self.transport is not None:
                self.transport.abort()
        finally:
            if watch is not None:
                watch.done(self)
            self.task = None
        self._after_answer()

    async def _send(self, request: Request, response: Response) -> None:
        stream = response.stream
        headers = _head_of(response.status, None if stream else response.body,
                           response.content_type, response.headers)  # fmt: skip
        reason = REASONS.get(response.status, b"")
        head = h11.Response(status_code=response.status, headers=headers, reason=reason)
        self._write(self.h11.send(head))
        if request.method == "HEAD":
            if stream is not None:
                await close_stream(stream)
        elif stream is None:
            if response.body:
                self._write(self.h11.send(h11.Data(data=response.body)))
        else:
            try:
                async for part in stream:
                    if part:
                        self._write(self.h11.send(h11.Data(data=part)))
                        await self._drain()
            finally:
                await close_stream(stream)
        self._write(self.h11.send(h11.EndOfMessage()))

    def _write(self, data: bytes | None) -> None:
        if self.transport is None or self.transport.is_closing():
            raise ConnectionResetError("the client is gone")
        if data:
            self.transport.write(data)

    async def _drain(self) -> None:
        if self._paused:
            self._drained = asyncio.get_running_loop().create_future()
            await self._drained

    def _after_answer(self) -> None:
        """Keep the connection for the next request, or close it as HTTP says."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()
            self._next()  # a pipelined request may be waiting
            if self.task is None:  # none was: h11 has read all it holds, read on
                self._ahead = 0
                if self._reading_paused:
                    self._reading_paused = False
                    transport.resume_reading()
        elif self.h11.our_state in _ENDED or self.h11.their_state in _ENDED:
            transport.close()


_ENDED = (h11.MUST_CLOSE, h11.CLOSED, h11.ERROR)


async def close_stream(stream: AsyncIterator[bytes]) -> None:
    close = getattr(stream, "aclose", None)
    if close is not None:
        await close()


def _head_of(
    status: int,
    body: bytes | None,
    content_type: str,
    extra: Iterable[tuple[str, str]] = (),
) -> list[tuple[str, str]]:
    """Response headers; a body of None is streamed (h11 chooses chunked or close framing)."""
    headers = [("Content-Type", content_type), ("Date", _http_date()), ("Server", SERVER)]
    if body is not None:
        headers.append(("Content-Length", str(len(body))))
    headers.extend(extra)
    return headers


def _http_date() -> str:
    # time.strftime's day and month names depend on the C locale, which Python leaves at "C".
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())
