"""The HTTP probes' connector bound to a source (issue 16); apart from monitor.uplinks.bind so
that the path tracer, which binds raw sockets, never imports aiohttp. Beside the stamping
connector it extends (monitor/probes/wire_clock.py), in the probes' own package."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from monitor.probes.wire_clock import StampingConnector
from monitor.uplinks.bind import bind, local_addr
from monitor.uplinks.config import Source


class BoundConnector(StampingConnector):
    """The probes' HTTP connector (kernel stamps and all) with its sockets bound to a source."""

    def __init__(self, source: Source, **kwargs: Any) -> None:
        super().__init__(local_addr=local_addr(source), **kwargs)
        if source.interface is not None:
            stamping: Callable[[Any], socket.socket] = self._socket_factory  # type: ignore[assignment]

            def factory(addr_info: Any) -> socket.socket:
                sock = stamping(addr_info)
                try:
                    bind(sock, Source(interface=source.interface))
                except OSError:
                    sock.close()
                    raise
                return sock

            self._socket_factory = factory
