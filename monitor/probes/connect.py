"""Connect a non-blocking socket to an IPv4 address on the event loop, for the TCP probe.

`loop.sock_connect` less what a probe that already holds an IP literal does not need: asyncio
checks the socket for TLS, reads its family and type (two enum conversions), re-parses the
address through its resolver shortcut (a coroutine of its own), and wakes the task through a
done-callback that removes the writer one loop turn later. py-spy at 200 TCP probes/s put
`sock_connect` at ~22 % of the daemon's busy samples; this path does one `add_writer`, one
future and one `remove_writer`.

Same outcome and same errors as `loop.sock_connect`: a failure the kernel reports at once is
raised as `connect()` raised it; one it reports later (SO_ERROR) as
`OSError(errno, "Connect call failed <address>")`, word for word asyncio's text (the runner
quotes it as the `unreachable` message). IPv6 and names keep `loop.sock_connect`: asyncio turns
an IPv6 address into a 4-tuple and the message would differ.
"""

from __future__ import annotations

import asyncio
import socket


def _writable(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():  # a cancelled probe's waiter; the writer is removed right after
        waiter.set_result(None)


async def connect_ipv4(
    loop: asyncio.AbstractEventLoop, sock: socket.socket, address: tuple[str, int]
) -> None:
    """Connect the non-blocking `sock` to (IPv4 literal, port); returns once connected."""
    try:
        sock.connect(address)
        return
    except (BlockingIOError, InterruptedError):
        pass  # the handshake runs: wait until the socket is writable
    fd = sock.fileno()
    waiter = loop.create_future()
    loop.add_writer(fd, _writable, waiter)
    try:
        await waiter
    finally:
        loop.remove_writer(fd)
    err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if err != 0:
        raise OSError(err, f"Connect call failed {address}")
