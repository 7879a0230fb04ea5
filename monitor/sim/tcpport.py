"""The VPN-like TCP port of the simulated data center."""

from __future__ import annotations

import asyncio
from typing import Literal

from monitor.sim.port import Port

TcpMode = Literal["ok", "down", "hang"]
TCP_MODES: tuple[TcpMode, ...] = ("ok", "down", "hang")


class _Hold(asyncio.Protocol):
    """Accept and keep the connection until the peer closes it; say nothing."""

    def __init__(self, owner: TcpPort) -> None:
        self._owner = owner

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        self._owner._open.add(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._owner._open.discard(self._transport)


class TcpPort:
    """A TCP listener: `ok` accepts, `down` refuses (RST), `hang` drops SYNs (connect times out).

    `hang` is a listening socket whose accept queue is full, so the kernel drops new SYNs: the
    same thing a firewall black hole looks like from the client.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, mode: TcpMode = "ok") -> None:
        self.host = host
        self._requested_port = port
        self._mode: TcpMode = mode
        self._port: Port | None = None
        self._open: set[asyncio.BaseTransport] = set()

    @property
    def port(self) -> int:
        """The bound port (after start)."""
        if self._port is None:
            raise RuntimeError("TcpPort is not started")
        return self._port.port

    @property
    def mode(self) -> TcpMode:
        return self._mode

    @property
    def accepted(self) -> int:
        """TCP connections accepted since start."""
        return self._port.accepted if self._port else 0

    async def start(self) -> None:
        """Bind (port 0 = ephemeral) and enter the current mode."""
        self._port = Port(self.host, self._requested_port, lambda: _Hold(self))
        await self.set_mode(self._mode)

    async def set_mode(self, mode: TcpMode) -> None:
        """Switch to ok / down / hang; the port number stays the same."""
        if mode not in TCP_MODES:
            raise ValueError(f"mode must be one of {', '.join(TCP_MODES)}; got {mode!r}")
        self._mode = mode
        if self._port is None:
            return
        if mode == "ok":
            await self._port.serve()
        elif mode == "down":
            self._port.refuse()
        else:
            await self._port.blackhole()

    async def stop(self) -> None:
        """Close the listener and every open connection."""
        if self._port is not None:
            self._port.close()
            self._port = None
        for transport in list(self._open):
            transport.close()
        self._open.clear()
        await asyncio.sleep(0)  # let connection_lost run before the loop goes away
