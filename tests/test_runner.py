"""The runner: the one place that times probes, applies deadlines and turns errors into data."""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from monitor.probes import PROBES
from monitor.probes.result import Observation, ProbeFailure
from monitor.runner import reason_for
from monitor.sim import DataCenterApp
from tests.support.probing import http_target, probe_context, probe_once, tcp_target

pytestmark = pytest.mark.timeout(20)


def replace_tcp_probe(monkeypatch, probe) -> None:
    monkeypatch.setitem(PROBES, "tcp", probe)


async def test_a_bug_in_a_probe_becomes_reason_internal_logged_with_its_traceback(
    monkeypatch, caplog
):
    async def broken(target, _timeout, ctx):
        raise RuntimeError("bug in the probe")

    replace_tcp_probe(monkeypatch, broken)
    async with probe_context() as ctx:
        result = await probe_once(ctx, tcp_target(1))

    assert not result.ok
    assert result.reason == "internal"
    assert result.message.endswith("RuntimeError: bug in the probe")
    assert result.result_label == "internal"
    (record,) = [r for r in caplog.records if r.name == "monitor.runner"]
    assert record.levelname == "ERROR" and record.exc_info is not None


async def test_an_unknown_network_error_stays_reason_error(monkeypatch):
    async def odd(target, _timeout, ctx):
        raise OSError(errno.EPROTO, "Protocol error")

    replace_tcp_probe(monkeypatch, odd)
    async with probe_context() as ctx:
        result = await probe_once(ctx, tcp_target(1))

    assert result.reason == "error"
    assert result.message == "OSError: [Errno 71] Protocol error"


@pytest.mark.parametrize("kind", ["tcp", "http"])
async def test_a_refused_connect_is_reason_refused(kind):
    # Bound, never listening: the kernel answers a SYN to this port with a reset.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        target = tcp_target(port) if kind == "tcp" else http_target(f"http://127.0.0.1:{port}/")
        async with probe_context() as ctx:
            result = await probe_once(ctx, target)

    assert result.reason == "refused"
    assert result.message == "connection refused"


@asynccontextmanager
async def hanging_up(reset: bool) -> AsyncIterator[int]:
    """A server that reads the request and hangs up without a word (with a reset or a FIN)."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        if reset:
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        else:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
async def test_a_server_that_hangs_up_before_answering_is_reason_reset(reset):
    async with hanging_up(reset) as port, probe_context() as ctx:
        result = await probe_once(ctx, http_target(f"http://127.0.0.1:{port}/"))

    assert result.reason == "reset"
    assert result.message == "connection closed by the peer before the answer"


async def test_probe_failure_keeps_what_the_probe_saw(monkeypatch):
    seen = Observation(latency=0.25, detail="HTTP 503")

    async def failing(target, _timeout, ctx):
        raise ProbeFailure("http_status", "HTTP 503, expected 200", seen)

    replace_tcp_probe(monkeypatch, failing)
    async with probe_context() as ctx:
        result = await probe_once(ctx, tcp_target(1))

    assert result.reason == "http_status"
    assert result.message == "HTTP 503, expected 200"
    assert result.observation is seen
    assert result.latency == 0.25


async def test_the_deadline_is_applied_by_the_runner(monkeypatch):
    async def stuck(target, _timeout, ctx):
        await asyncio.Event().wait()

    replace_tcp_probe(monkeypatch, stuck)
    async with probe_context() as ctx:
        result = await probe_once(ctx, tcp_target(1), deadline=0.2)

    assert result.reason == "timeout"
    assert result.message == "no answer within 0.2s"
    assert 0.2 <= result.duration < 1.0
    assert result.latency == result.duration  # no protocol measure: the stopwatch is the latency


async def test_success_takes_the_message_from_the_observation(monkeypatch):
    async def fine(target, _timeout, ctx):
        return Observation(latency=0.001, detail="connected 127.0.0.1")

    replace_tcp_probe(monkeypatch, fine)
    async with probe_context() as ctx:
        result = await probe_once(ctx, tcp_target(1))

    assert result.ok
    assert result.reason is None
    assert result.message == "connected 127.0.0.1"
    assert result.latency == 0.001
    assert result.duration >= 0
    assert (result.target, result.role, result.kind) == ("dc-vpn", "datacenter", "tcp")


async def test_cancellation_propagates(monkeypatch):
    entered = asyncio.Event()

    async def stuck(target, _timeout, ctx):
        entered.set()
        await asyncio.Event().wait()

    replace_tcp_probe(monkeypatch, stuck)
    async with probe_context() as ctx:
        task = asyncio.create_task(probe_once(ctx, tcp_target(1), deadline=10))
        await entered.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    assert task.cancelled()


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "refused"),
        (ConnectionResetError(errno.ECONNRESET, "reset"), "reset"),
        (OSError(errno.EHOSTUNREACH, "No route to host"), "unreachable"),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), "unreachable"),
        (OSError(errno.EACCES, "Permission denied"), "permission"),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "dns"),
        (ssl.SSLCertVerificationError("certificate verify failed"), "tls"),
        (OSError(errno.EIO, "I/O error"), "error"),
        (ValueError("odd"), "internal"),
        (KeyError("k"), "internal"),
    ],
)
def test_reason_for(exc, reason):
    got, message = reason_for(exc)

    assert got == reason
    assert message


async def silent_resolver(host: str, port: int) -> list[tuple[socket.AddressFamily, object]]:
    """A resolver that never answers: the one thing loopback cannot stage for a real name."""
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def unknown_name(host: str, port: int) -> list[tuple[socket.AddressFamily, object]]:
    """What getaddrinfo raises for a name nobody knows (NXDOMAIN), without asking a server."""
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


async def test_a_timeout_while_resolving_the_name_is_a_dns_failure():
    async with probe_context() as ctx:
        ctx.resolver = silent_resolver
        result = await probe_once(ctx, http_target("http://siak.example.internal/"), deadline=0.2)
    assert result.reason == "dns"
    assert result.message == "the name server did not answer within 0.2s"


async def test_a_name_that_does_not_resolve_is_a_dns_failure():
    async with probe_context() as ctx:
        ctx.resolver = unknown_name
        result = await probe_once(ctx, http_target("http://siak.example.internal/"))
    assert result.reason == "dns"
    assert result.message == "name did not resolve: Name or service not known"
    assert result.observation.phases == {}  # nothing was seen: no phases to report


async def test_the_default_resolver_gives_family_and_address_to_connect_to():
    async with probe_context() as ctx:
        answers = await ctx.resolve("localhost", 8080)  # /etc/hosts: no name server asked
    loopback = {(socket.AF_INET, ("127.0.0.1", 8080)), (socket.AF_INET6, ("::1", 8080, 0, 0))}
    assert loopback & set(answers), answers


async def test_a_timeout_after_the_request_was_sent_says_what_it_waited_for():
    app = DataCenterApp("127.0.0.1", tls=None, mode="hang")
    await app.start()
    try:
        async with probe_context() as ctx:
            result = await probe_once(ctx, http_target(app.url), deadline=0.2)
    finally:
        await app.stop()
    assert result.reason == "timeout"
    assert result.message == "no answer within 0.2s (waiting for response)"
