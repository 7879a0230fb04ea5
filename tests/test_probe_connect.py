"""monitor/probes/connect.py behaves as loop.sock_connect: same outcome, same error, no fd left."""

from __future__ import annotations

import asyncio
import socket

import pytest

from monitor.probes.connect import connect_ipv4

pytestmark = pytest.mark.timeout(20)


def _closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, never listening)."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    port = int(holder.getsockname()[1])
    holder.close()
    return port


def _socket() -> socket.socket:
    return socket.socket(socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)


async def _error(connect, address: tuple[str, int]) -> OSError:  # type: ignore[no-untyped-def]
    sock = _socket()
    try:
        with pytest.raises(OSError) as caught:
            await connect(sock, address)
        return caught.value
    finally:
        sock.close()


async def test_connects_to_a_listener_and_leaves_no_writer() -> None:
    loop = asyncio.get_running_loop()
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sock = _socket()
    try:
        await connect_ipv4(loop, sock, ("127.0.0.1", port))
        assert sock.getpeername() == ("127.0.0.1", port)
        assert not loop.remove_writer(sock.fileno())  # nothing was left registered
    finally:
        sock.close()
        server.close()
        await server.wait_closed()


async def test_a_refusal_raises_what_loop_sock_connect_raises() -> None:
    loop = asyncio.get_running_loop()
    address = ("127.0.0.1", _closed_port())

    ours = await _error(lambda s, a: connect_ipv4(loop, s, a), address)
    asyncios = await _error(loop.sock_connect, address)

    assert type(ours) is type(asyncios) is ConnectionRefusedError
    assert (ours.errno, ours.strerror, str(ours)) == (
        asyncios.errno, asyncios.strerror, str(asyncios),
    )  # fmt: skip


async def test_a_cancelled_connect_removes_its_writer() -> None:
    loop = asyncio.get_running_loop()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)  # never accepted; a full backlog leaves the next handshakes hanging
    address = listener.getsockname()
    held, sock = [], _socket()
    try:
        for _ in range(8):  # fill the backlog so the connect under test hangs
            extra = _socket()
            extra.connect_ex(address)
            held.append(extra)
        task = asyncio.create_task(connect_ipv4(loop, sock, address))
        await asyncio.sleep(0.05)
        assert not task.done()  # still in the handshake
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not loop.remove_writer(sock.fileno())
    finally:
        sock.close()
        for extra in held:
            extra.close()
        listener.close()
