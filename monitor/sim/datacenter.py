"""The simulated central data center: an aiohttp HTTP(S) app whose behaviour switches at runtime."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Literal

from aiohttp import web

from monitor.sim.port import Port
from monitor.sim.tls import CERT_VARIANTS, CertVariant, TlsMaterial

HttpMode = Literal["ok", "error", "slow", "hang", "down"]
HTTP_MODES: tuple[HttpMode, ...] = ("ok", "error", "slow", "hang", "down")
OK_BODY = "SIAK OK: layanan data kependudukan tersedia\n"
ERROR_BODY = "SIAK sedang dalam pemeliharaan (maintenance)\n"


class DataCenterApp:
    """HTTPS (or, with `tls=None`, plain HTTP) server standing in for the SIAK data center.

    Modes: `ok` 200 with OK_BODY ("SIAK OK"); `error` 503; `slow` 200 after `delay` seconds;
    `hang` accepts, reads the request and never answers; `down` closes the listener (refused).
    With TLS, `cert` picks the leaf presented to the next handshakes: good, expired,
    wrong_name or untrusted (see TlsMaterial); it can change at runtime.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tls: TlsMaterial | None = None,
        cert: CertVariant = "good",
        mode: HttpMode = "ok",
        delay: float = 2.0,
    ) -> None:
        self.host = host
        self._requested_port = port
        self.tls = tls
        self.cert = cert
        self.delay = delay
        self._mode: HttpMode = mode
        self.requests = 0
        self.request_arrived = asyncio.Event()  # set per request; clear it to await the next
        self._port: Port | None = None
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()

    @property
    def port(self) -> int:
        """The bound port (after start)."""
        if self._port is None:
            raise RuntimeError("DataCenterApp is not started")
        return self._port.port

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}/"

    @property
    def mode(self) -> HttpMode:
        return self._mode

    @property
    def accepted(self) -> int:
        """TCP connections accepted since start (with TLS: before the handshake)."""
        return self._port.accepted if self._port else 0

    async def start(self) -> None:
        """Bind (port 0 = ephemeral) and enter the current mode."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        server = self._runner.server
        assert server is not None
        self._closing.clear()
        self._port = Port(self.host, self._requested_port, server, self._ssl_context())
        await self.set_mode(self._mode)

    async def set_mode(self, mode: HttpMode, delay: float | None = None) -> None:
        """Switch to ok / error / slow / hang / down; `delay` sets the slow answer time."""
        if mode not in HTTP_MODES:
            raise ValueError(f"mode must be one of {', '.join(HTTP_MODES)}; got {mode!r}")
        if delay is not None:
            self.delay = delay
        self._mode = mode
        if self._port is None:
            return
        if mode == "down":
            self._port.refuse()
        else:
            await self._port.serve()

    def set_cert(self, cert: CertVariant) -> None:
        """Present another leaf from the next handshake on."""
        if cert not in CERT_VARIANTS:
            raise ValueError(f"cert must be one of {', '.join(CERT_VARIANTS)}; got {cert!r}")
        self.cert = cert

    async def stop(self) -> None:
        """Release hanging requests, close the port and every connection."""
        self._closing.set()
        if self._port is not None:
            self._port.close()
            self._port = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _ssl_context(self) -> ssl.SSLContext | None:
        if self.tls is None:
            return None
        tls = self.tls
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.leaves["good"].configure_cert(context)

        def pick(sslobj: ssl.SSLObject, _name: str | None, _ctx: ssl.SSLContext) -> None:
            # Called on every handshake (with or without SNI), so `cert` may change at runtime.
            sslobj.context = tls.server_context(self.cert)

        context.sni_callback = pick
        return context

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        self.request_arrived.set()
        mode = self._mode
        if mode == "hang":
            await self._closing.wait()
            raise web.HTTPServiceUnavailable(text="shutting down\n")
        if mode == "slow":
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.delay):
                    await self._closing.wait()
        if mode == "error":
            return web.Response(status=503, text=ERROR_BODY)
        return web.Response(text=OK_BODY)
