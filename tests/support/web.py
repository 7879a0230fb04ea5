"""The daemon's routes served on 127.0.0.1 with no front (no auth, no guard), for tests that
check what a route answers rather than what stands before it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from monitor.httpserver import Routes, Server


@asynccontextmanager
async def serving(routes: Routes | Server) -> AsyncIterator[str]:
    """The base URL (`http://127.0.0.1:<port>`) of `routes` (or of a server a test wants to
    look into), served until the block ends."""
    server = routes if isinstance(routes, Server) else Server(routes)
    listener = await asyncio.get_running_loop().create_server(server.protocol, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}"
    finally:
        listener.close()
        await server.close()
        await listener.wait_closed()
