"""dnspython sockets from a source address or through an interface (SO_BINDTODEVICE), issue 16.

Apart from monitor.uplinks.bind so the daemon imports dnspython only when a target uses DNS.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import dns._asyncio_backend as _dns_asyncio
import dns.asyncbackend

from monitor.uplinks.bind import bind, local_addr
from monitor.uplinks.config import Source


async def dns_socket(af: int, socktype: int, source: Source | None, destination: Any) -> Any:
    """A connected dnspython socket (UDP or TCP) to `destination`, leaving through `source`."""
    backend = dns.asyncbackend.get_backend("asyncio")
    if source is None or source.interface is None:
        return await backend.make_socket(af, socktype, 0, local_addr(source), destination)
    # dnspython cannot set a socket option: the socket is made here and handed to its wrappers.
    loop = asyncio.get_running_loop()
    sock = socket.socket(af, socktype)
    try:
        bind(sock, source)
        sock.setblocking(False)
        await loop.sock_connect(sock, destination)
        if socktype == socket.SOCK_DGRAM:
            transport, protocol = await loop.create_datagram_endpoint(
                _dns_asyncio._DatagramProtocol, sock=sock
            )
            return _dns_asyncio._DatagramSocket(af, transport, protocol)
        reader, writer = await asyncio.open_connection(sock=sock)
        return _dns_asyncio._StreamSocket(af, reader, writer)
    except BaseException:
        sock.close()
        raise
