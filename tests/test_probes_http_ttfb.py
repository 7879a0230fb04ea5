"""HTTP time to first byte comes from kernel timestamps, so a busy event loop does not inflate it.

The server runs in its own threads (not on the test's loop), answers after a fixed delay, and
the test stalls its own loop while the answer is on its way: a stopwatch on the loop would then
report the stall, the kernel's receive stamp does not.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.probes.http import _ttfb
from monitor.probes.wire_clock import WireClock
from monitor.sim import TlsMaterial
from tests.support.probing import http_target, kernel_stamps_on, probe_context, probe_once

pytestmark = pytest.mark.timeout(30)

SERVER_DELAY = 0.05  # the server's think time: the true TTFB on loopback
LOOP_STALL = 0.2  # how long the test blocks its own event loop while the answer is due


class DelayedServer:
    """Answers one request per connection after SERVER_DELAY, from threads; optionally TLS."""

    def __init__(self, tls: ssl.SSLContext | None) -> None:
        self._tls = tls
        self.on_request: Callable[[], object] | None = (
            None  # called, in a server thread, on each request
        )
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        self._listener.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        # wrap_socket takes the connection over (detaches conn): close what it returns.
        with self._tls.wrap_socket(conn, server_side=True) if self._tls else conn as stream:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = stream.recv(4096)
                if not chunk:
                    return
                request += chunk
            if self.on_request is not None:
                self.on_request()
            time.sleep(SERVER_DELAY)
            stream.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._listener.close()


@pytest.fixture(scope="module")
def tls() -> TlsMaterial:
    return TlsMaterial()


@pytest.fixture(params=["http", "https"])
def server(request: pytest.FixtureRequest, tls: TlsMaterial) -> Iterator[tuple[str, DelayedServer]]:
    scheme = request.param
    srv = DelayedServer(tls.server_context() if scheme == "https" else None)
    yield scheme, srv
    srv.close()


def _target(scheme: str, srv: DelayedServer, tls: TlsMaterial, tmp_path: Path) -> Any:
    return http_target(
        f"{scheme}://127.0.0.1:{srv.port}/", tls_ca_file=tls.write_ca(tmp_path / "ca.pem")
    )


async def _stamped_phases(target: Any) -> dict[str, float]:
    """One successful probe with kernel stamps on; its phases."""
    async with kernel_stamps_on(), probe_context() as ctx:
        result = await probe_once(ctx, target, deadline=5)
    assert result.ok, result.message
    return dict(result.observation.phases)


async def test_ttfb_is_the_wire_time_even_when_the_loop_stalls(server, tls, tmp_path: Path):
    scheme, srv = server
    target = _target(scheme, srv, tls, tmp_path)
    loop = asyncio.get_running_loop()
    # Stall the loop from 10 ms after the server has the request to 210 ms: the answer arrives
    # at ~50 ms, while the loop is blocked. Timed from the request, not from the probe's start:
    # a stall that began before the client had read the TLS session tickets (sent with the
    # end of the handshake) would hand both to the probe in one read, under one stamp.
    srv.on_request = lambda: loop.call_soon_threadsafe(
        loop.call_later, 0.01, time.sleep, LOOP_STALL
    )
    phases = await _stamped_phases(target)
    assert phases["total"] >= LOOP_STALL  # the stall really delayed the probe
    # The kernel saw the first byte ~SERVER_DELAY after the request; a loop stopwatch would
    # report ~LOOP_STALL. With TLS, the server's session tickets arrive right after the
    # request: taking them as the first byte would report ~0.
    assert SERVER_DELAY * 0.9 <= phases["ttfb"] < SERVER_DELAY + 0.03


def test_ttfb_falls_back_to_the_stopwatch_when_the_stamp_is_missing_or_absurd():
    assert _ttfb(None, 0.012, 0.5) == 0.012
    assert _ttfb(-0.3, 0.012, 0.5) == 0.012  # wall clock stepped back between the stamps
    assert _ttfb(7.0, 0.012, 0.5) == 0.012  # longer than the whole request: not believable
    assert _ttfb(0.010, 0.012, 0.5) == 0.010
    assert _ttfb(None, -0.001, 0.5) == 0.0


def test_a_wire_clock_without_both_stamps_knows_nothing():
    clock = WireClock()
    assert clock.ttfb() is None
    clock.sent_ns = 1_000_000_000
    clock.first_byte_ns = 0  # the first byte came, but the kernel gave no stamp
    assert clock.ttfb() is None
    clock.first_byte_ns = 1_050_000_000
    assert clock.ttfb() == pytest.approx(0.05)


async def test_the_context_keeps_kernel_stamps_switched_on_while_it_lives(server, tls, tmp_path):
    """One socket asks for receive stamps for the context's life, so the kernel's switch is
    not toggled (and raced) by every probe's own socket; closing releases it."""
    from monitor.probes.wire_clock import SO_TIMESTAMPNS

    scheme, srv = server
    async with probe_context() as ctx:
        result = await probe_once(ctx, _target(scheme, srv, tls, tmp_path), deadline=5)
        assert result.ok, result.message
        holder = ctx._stamps_on
        assert holder is not None  # the HTTP probe asked for it
        assert holder.getsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS) == 1
        again = await probe_once(ctx, _target(scheme, srv, tls, tmp_path), deadline=5)
        assert again.ok, again.message
        assert ctx._stamps_on is holder  # one holder for every probe, not one each
    assert holder.fileno() == -1


STALL_BEFORE_SEND = 0.06  # how long the test holds the request between the clock read and send()


def _stall_after_the_clock_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Block between the clock read that used to mark the departure and the send itself."""
    from monitor.probes.wire_clock import StampingSocket

    original = StampingSocket._request_starting

    def stalled(self: StampingSocket) -> int | None:
        before = original(self)
        if before is not None:
            time.sleep(STALL_BEFORE_SEND)
        return before

    monkeypatch.setattr(StampingSocket, "_request_starting", stalled)


async def test_the_request_departs_at_the_kernels_send_stamp(server, tls, tmp_path, monkeypatch):
    """TTFB starts at the kernel's send stamp: a stall before send() does not count."""
    scheme, srv = server
    target = _target(scheme, srv, tls, tmp_path)
    _stall_after_the_clock_read(monkeypatch)
    phases = await _stamped_phases(target)
    # The server answers SERVER_DELAY after the request reached it; counted from the clock
    # read, TTFB would be SERVER_DELAY + STALL_BEFORE_SEND.
    assert SERVER_DELAY * 0.9 <= phases["ttfb"] < SERVER_DELAY + 0.03


async def test_without_a_send_stamp_the_departure_is_the_clock_before_send(
    server, tls, tmp_path, monkeypatch
):
    """A kernel that gives no send stamp: the clock read before send() marks the departure."""
    import monitor.probes.http11 as http11

    scheme, srv = server
    target = _target(scheme, srv, tls, tmp_path)
    _stall_after_the_clock_read(monkeypatch)
    monkeypatch.setattr(http11, "send_stamps", lambda sock, flags: False)
    async with probe_context() as ctx:
        result = await probe_once(ctx, target, deadline=5)

    assert result.ok, result.message
    assert result.observation.phases["ttfb"] >= SERVER_DELAY + STALL_BEFORE_SEND * 0.9


STALL_AFTER_HANDSHAKE = 0.2  # how long the test holds the probe between TLS up and the request


async def test_the_handshakes_last_send_is_not_the_request(server, tls, tmp_path, monkeypatch):
    """TLS 1.3's client Finished leaves after the connection counts as up: TTFB must start at
    the request, not at that send (a CI run saw dns+connect+tls+ttfb exceed the total)."""

    scheme, srv = server
    target = _target(scheme, srv, tls, tmp_path)
    from monitor.probes import phase

    enter = phase.enter

    def slow_enter(name: str | None) -> None:
        if name == "request":  # the connection is up (TLS too); the request not yet sent
            time.sleep(STALL_AFTER_HANDSHAKE)  # the loop is busy after the handshake
        enter(name)

    monkeypatch.setattr(phase, "enter", slow_enter)
    phases = await _stamped_phases(target)
    assert phases["total"] >= STALL_AFTER_HANDSHAKE  # the stall really delayed the probe
    assert SERVER_DELAY * 0.9 <= phases["ttfb"] < SERVER_DELAY + 0.03
    assert phases["dns"] + phases["connect"] + phases["tls"] + phases["ttfb"] <= phases["total"]


def test_send_stamps_are_drained_so_the_socket_does_not_stay_readable():
    """A stamp left on the error queue raises EPOLLERR for ever: the loop would spin."""
    import select

    from monitor.probes.kstamp import REPORT_FLAGS, send_stamps
    from monitor.probes.wire_clock import StampingSocket

    with socket.create_server(("127.0.0.1", 0)) as listener:
        sock = StampingSocket(socket.AF_INET, socket.SOCK_STREAM)
        sock.clock = WireClock()
        with sock:
            sock.clock.tx_stamps = send_stamps(sock, REPORT_FLAGS)
            sock.connect(listener.getsockname())
            peer, _ = listener.accept()
            with peer:
                sock.clock.armed = True
                before = time.clock_gettime_ns(time.CLOCK_REALTIME)
                sock.send(b"GET / HTTP/1.1\r\n\r\n")
                clock = sock.clock
                assert clock.sent_by_kernel and not clock.tx_pending
                assert clock.sent_ns is not None and 0 <= clock.sent_ns - before < 50_000_000
                poller = select.poll()
                poller.register(sock, select.POLLIN)
                assert poller.poll(0) == []  # nothing to read, no error pending


FIN_AFTER = 0.03  # a server asked to close sends its FIN this long after the answer


class PoliteServer(DelayedServer):
    """Answers after SERVER_DELAY; closes FIN_AFTER later only if the request asked it to."""

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                request += chunk
            time.sleep(SERVER_DELAY)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            if b"connection: close" in request.lower():
                time.sleep(FIN_AFTER)
                return  # closes: the FIN
            try:
                while conn.recv(4096):  # keep-alive: wait for the client to close (or reset)
                    pass
            except OSError:
                pass


async def test_a_fin_behind_the_answer_does_not_move_the_first_byte(tmp_path):
    """TCP merges a segment that arrives before the first read into the unread one, stamp
    included: had the probe asked the server to close, the FIN FIN_AFTER behind the answer
    would carry the first byte's stamp while the loop is stalled."""
    srv = PoliteServer(None)
    try:
        async with kernel_stamps_on(), probe_context() as ctx:
            # Blocked from +20 ms to +220 ms: the answer (+50 ms) and a FIN (+80 ms) both
            # arrive before the probe's first read.
            asyncio.get_running_loop().call_later(0.02, time.sleep, LOOP_STALL)
            result = await probe_once(ctx, http_target(f"http://127.0.0.1:{srv.port}/"), 5)
    finally:
        srv.close()

    assert result.ok, result.message
    assert SERVER_DELAY * 0.9 <= result.observation.phases["ttfb"] < SERVER_DELAY + FIN_AFTER / 2
