"""The daemon's own HTTP server: /metrics, /healthz, /api/status (and, later, /api/outages)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Any

from aiohttp import web
from prometheus_client.exposition import choose_encoder

from monitor.dates import parse_day
from monitor.exposition import CONTENT_TYPE, chunks, gzip_compressor, wants_openmetrics_only
from monitor.metrics import Metrics

StatusFn = Callable[[], dict[str, Any]]
HealthFn = Callable[[], str | None]  # what is wrong, None while healthy
OutagesFn = Callable[[date, date], dict[str, Any]]

METRICS = web.AppKey("metrics", Metrics)
STATUS: web.AppKey[StatusFn] = web.AppKey("status")
HEALTHY: web.AppKey[HealthFn] = web.AppKey("healthy")
OUTAGES: web.AppKey[OutagesFn] = web.AppKey("outages")


async def metrics_page(request: web.Request) -> web.StreamResponse:
    """/metrics: the text format, built on the loop in short slices and streamed out as it is
    built (monitor/exposition.py), gzip-compressed chunk by chunk in a worker thread (zlib
    releases the GIL) when the client asks, as Prometheus does.

    Prometheus gets the text format too (it lists it beside OpenMetrics); only a client that
    takes nothing but OpenMetrics gets prometheus_client's OpenMetrics encoder, in a worker
    thread, where it holds the GIL while it renders: slow, but no scraper we know asks so.
    """
    metrics = request.app[METRICS]
    loop = asyncio.get_running_loop()
    accept = request.headers.get("Accept", "")
    parts: AsyncIterator[bytes]
    if wants_openmetrics_only(accept):
        encoder, content_type = choose_encoder(accept)
        parts = _one(await loop.run_in_executor(None, encoder, metrics.registry))
    else:
        parts, content_type = chunks(metrics.series, metrics.others), CONTENT_TYPE
    response = web.StreamResponse(headers={"Content-Type": content_type})
    compressor = None
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        compressor = gzip_compressor()
        response.headers["Content-Encoding"] = "gzip"
    await response.prepare(request)
    try:
        async for part in parts:
            if compressor is None:
                await response.write(part)
                continue
            packed = await loop.run_in_executor(None, compressor.compress, part)
            if packed:  # zlib holds small inputs back until it has a block
                await response.write(packed)
        if compressor is not None:
            await response.write(compressor.flush())
        await response.write_eof()
    except ConnectionResetError:
        # The scraper hung up mid-answer (its scrape timeout, a restart): nothing is wrong
        # here, and aiohttp would log it as an error with a traceback.
        pass
    return response


async def _one(body: bytes) -> AsyncIterator[bytes]:
    yield body


async def healthz(request: web.Request) -> web.Response:
    problem = request.app[HEALTHY]()
    if problem is None:
        return web.Response(text="ok\n")
    return web.Response(status=503, text=f"{problem}\n")


async def status(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATUS]())


async def outages(request: web.Request) -> web.Response:
    """GET /api/outages?from=YYYY-MM-DD&to=YYYY-MM-DD (office-local days, both inclusive)."""
    try:
        first = _day("from", request.query.get("from"))
        last = _day("to", request.query.get("to")) if request.query.get("to") else first
    except ValueError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    if first is None or last is None:
        return web.json_response(
            {"error": "from is required: YYYY-MM-DD, e.g. ?from=2026-12-01&to=2026-12-31"},
            status=400,
        )
    if last < first:
        return web.json_response({"error": "to must not be before from"}, status=400)
    return web.json_response(request.app[OUTAGES](first, last))


def _day(name: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return parse_day(text)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


async def index(request: web.Request) -> web.Response:
    return web.Response(
        text="Pantau: / (status page), /metrics (Prometheus), /healthz, /api/status, "
        "/api/outages?from=&to=\n"
    )


def make_app(
    metrics: Metrics, status_fn: StatusFn, healthy: HealthFn, outages_fn: OutagesFn
) -> web.Application:
    app = web.Application()
    app[METRICS] = metrics
    app[STATUS] = status_fn
    app[HEALTHY] = healthy
    app[OUTAGES] = outages_fn
    app.router.add_get("/index.txt", index)  # `/` is the status page, or this when it is off
    app.router.add_get("/metrics", metrics_page)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/status", status)
    app.router.add_get("/api/outages", outages)
    return app
