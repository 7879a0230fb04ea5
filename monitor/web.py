"""The daemon's own HTTP server: /metrics, /healthz, /api/status (and, later, /api/outages)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Any

from prometheus_client.exposition import choose_encoder

from monitor.dates import parse_day
from monitor.exposition import CONTENT_TYPE, chunks, gzip_compressor, wants_openmetrics_only
from monitor.httpserver import Request, Response, Routes, close_stream, json_response, text
from monitor.metrics import Metrics

StatusFn = Callable[[], dict[str, Any]]
HealthFn = Callable[[], str | None]  # what is wrong, None while healthy
OutagesFn = Callable[[date, date], dict[str, Any]]


class Pages:
    """The daemon's own routes, reading what the daemon hands over."""

    def __init__(
        self, metrics: Metrics, status_fn: StatusFn, healthy: HealthFn, outages_fn: OutagesFn
    ) -> None:
        self.metrics = metrics
        self.status_fn = status_fn
        self.healthy = healthy
        self.outages_fn = outages_fn

    async def metrics_page(self, request: Request) -> Response:
        """/metrics: the text format, built on the loop in short slices and streamed out as it
        is built (monitor/exposition.py), gzip-compressed chunk by chunk in a worker thread (zlib
        releases the GIL) when the client asks, as Prometheus does.

        Prometheus gets the text format too (it lists it beside OpenMetrics); only a client that
        takes nothing but OpenMetrics gets prometheus_client's OpenMetrics encoder, in a worker
        thread, where it holds the GIL while it renders: slow, but no scraper we know asks so.
        """
        metrics = self.metrics
        loop = asyncio.get_running_loop()
        accept = request.header("Accept")
        parts: AsyncIterator[bytes]
        if wants_openmetrics_only(accept):
            encoder, content_type = choose_encoder(accept)
            parts = _one(await loop.run_in_executor(None, encoder, metrics.registry))
        else:
            parts, content_type = chunks(metrics.series, metrics.others), CONTENT_TYPE
        if "gzip" not in request.header("Accept-Encoding"):
            return Response(content_type=content_type, stream=parts)
        return Response(
            content_type=content_type,
            headers=[("Content-Encoding", "gzip")],
            stream=_gzipped(parts),
        )

    async def healthz(self, request: Request) -> Response:
        problem = self.healthy()
        if problem is None:
            return text("ok\n")
        return text(f"{problem}\n", 503)

    async def status(self, request: Request) -> Response:
        return json_response(self.status_fn())

    async def outages(self, request: Request) -> Response:
        """GET /api/outages?from=YYYY-MM-DD&to=YYYY-MM-DD (office-local days, both inclusive)."""
        try:
            first = _day("from", request.query.get("from"))
            last = _day("to", request.query.get("to")) if request.query.get("to") else first
        except ValueError as exc:
            return json_response({"error": str(exc)}, status=400)
        if first is None or last is None:
            return json_response(
                {"error": "from is required: YYYY-MM-DD, e.g. ?from=2026-12-01&to=2026-12-31"},
                status=400,
            )
        if last < first:
            return json_response({"error": "to must not be before from"}, status=400)
        return json_response(self.outages_fn(first, last))


async def _gzipped(parts: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    compressor = gzip_compressor()
    try:
        async for part in parts:
            packed = await loop.run_in_executor(None, compressor.compress, part)
            if packed:  # zlib holds small inputs back until it has a block
                yield packed
        yield compressor.flush()
    finally:
        await close_stream(parts)  # a scraper that hung up: the render stops here too


async def _one(body: bytes) -> AsyncIterator[bytes]:
    yield body


def _day(name: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return parse_day(text)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


async def index(request: Request) -> Response:
    return text(
        "Pantau: / (status page), /metrics (Prometheus), /healthz, /api/status, "
        "/api/outages?from=&to=\n"
    )


def make_routes(
    metrics: Metrics, status_fn: StatusFn, healthy: HealthFn, outages_fn: OutagesFn
) -> Routes:
    pages = Pages(metrics, status_fn, healthy, outages_fn)
    routes = Routes()
    routes.get("/index.txt", index)  # `/` is the status page, or this when it is off
    routes.get("/metrics", pages.metrics_page)
    routes.get("/healthz", pages.healthz)
    routes.get("/api/status", pages.status)
    routes.get("/api/outages", pages.outages)
    return routes
