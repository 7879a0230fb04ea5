"""Per-request phase timing for the HTTP probe, from aiohttp's trace hooks (monotonic clock)."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import aiohttp

from monitor.probes import phase
from monitor.probes.tcp_info import kernel_connect_rtt


class PhaseTrace:
    """Marks taken during one request; passed as `trace_request_ctx`."""

    __slots__ = ("connect_end", "connect_start", "dns_end", "dns_start", "headers_sent", "start")

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.dns_start = self.dns_end = 0.0
        self.connect_start = self.connect_end = 0.0
        self.headers_sent = 0.0

    @staticmethod
    def config() -> aiohttp.TraceConfig:
        trace = aiohttp.TraceConfig(trace_config_ctx_factory=_ctx_factory)  # type: ignore[arg-type]

        def mark(attr: str, now_in: str) -> Any:
            async def hook(_s: Any, ctx: SimpleNamespace, _p: Any) -> None:
                marks = ctx.trace_request_ctx
                if isinstance(marks, PhaseTrace):
                    setattr(marks, attr, time.monotonic())
                    phase.enter(now_in)

            return hook

        trace.on_connection_create_start.append(mark("connect_start", "connect"))
        trace.on_dns_resolvehost_start.append(mark("dns_start", "dns"))
        trace.on_dns_resolvehost_end.append(mark("dns_end", "connect"))
        trace.on_connection_create_end.append(mark("connect_end", "request"))
        trace.on_request_headers_sent.append(mark("headers_sent", "response"))
        return trace


def _ctx_factory(trace_request_ctx: Any = None) -> SimpleNamespace:
    return SimpleNamespace(trace_request_ctx=trace_request_ctx)


class TracedResponse(aiohttp.ClientResponse):
    """Reads what only the live connection knows, before aiohttp releases it.

    With force_close, a small response's connection is released inside `start()` (the body
    arrived with the headers), so `response.connection` is already None for the caller.
    """

    connect_rtt: float | None = None
    peer_cert_der: bytes | None = None

    async def start(self, connection: Any) -> aiohttp.ClientResponse:
        transport = connection.transport
        if transport is not None:
            sock = transport.get_extra_info("socket")
            self.connect_rtt = kernel_connect_rtt(sock) if sock is not None else None
            ssl_object = transport.get_extra_info("ssl_object")
            if ssl_object is not None:
                self.peer_cert_der = ssl_object.getpeercert(binary_form=True)
        return await super().start(connection)
