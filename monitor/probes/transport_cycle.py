"""Break the reference cycle a closed asyncio socket transport keeps on Python 3.11.

`_SelectorSocketTransport` stores its own bound method as `_read_ready_cb`, so the transport
refers to itself and outlives its connection until the cycle collector finds it, together with
what hangs off it (the socket, its `extra` dict, the HTTP probe's wire clock). One HTTP probe
left eight such objects: at 5,000 targets (500 probes/s) ~800 a second for the generation-1
collections (one a second, 2-5 ms) to find (`gc.DEBUG_SAVEALL` in the bench's lag section
showed these transports as the only cyclic garbage of HTTP probing). With the cycle broken once
the transport is closed, reference counting frees it, and its socket, at once.

Only an attribute of the standard library's transports is touched, and only when it is there;
on a Python whose transports lack it (or keep no such cycle) this does nothing.
"""

from __future__ import annotations

import asyncio


def socket_transport(transport: asyncio.BaseTransport) -> asyncio.BaseTransport | None:
    """The socket transport under `transport`: itself, or the one a TLS transport wraps."""
    ssl_protocol = getattr(transport, "_ssl_protocol", None)
    if ssl_protocol is None:
        return transport
    return getattr(ssl_protocol, "_transport", None)


def release(raw: asyncio.BaseTransport | None) -> None:
    """Drop the read callback of a socket transport that is closing (its reader already
    removed from the loop by close() or abort(), so the callback is never called again)."""
    if raw is not None and raw.is_closing() and hasattr(raw, "_read_ready_cb"):
        raw._read_ready_cb = None  # type: ignore[attr-defined]
