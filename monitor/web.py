"""The daemon's own HTTP server: /metrics, /healthz, /api/status (and, later, /api/outages)."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Callable
from datetime import date
from typing import Any

from aiohttp import web
from prometheus_client.exposition import choose_encoder

from monitor.metrics import Metrics

StatusFn = Callable[[], dict[str, Any]]
HealthFn = Callable[[], bool]
OutagesFn = Callable[[date, date], dict[str, Any]]

METRICS = web.AppKey("metrics", Metrics)
STATUS: web.AppKey[StatusFn] = web.AppKey("status")
HEALTHY: web.AppKey[HealthFn] = web.AppKey("healthy")
OUTAGES: web.AppKey[OutagesFn] = web.AppKey("outages")


async def metrics_page(request: web.Request) -> web.Response:
    """/metrics, rendered in a worker thread.

    With thousands of targets the exposition is megabytes (12 MB at 5,000 HTTP targets) and
    takes most of a second to render; on the event loop that would start every probe due in
    that second late. prometheus_client's metric values are lock-protected, so rendering beside
    the loop is safe. Content negotiation (text or OpenMetrics) and gzip as the stock handler.
    """
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    registry = request.app[METRICS].registry
    loop = asyncio.get_running_loop()
    body = await loop.run_in_executor(None, encoder, registry)
    headers = {"Content-Type": content_type}
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        body = await loop.run_in_executor(None, gzip.compress, body)
        headers["Content-Encoding"] = "gzip"
    return web.Response(body=body, headers=headers)


async def healthz(request: web.Request) -> web.Response:
    if request.app[HEALTHY]():
        return web.Response(text="ok\n")
    return web.Response(status=503, text="scheduler not running\n")


async def status(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATUS]())


async def outages(request: web.Request) -> web.Response:
    """GET /api/outages?from=YYYY-MM-DD&to=YYYY-MM-DD (office-local days, both inclusive)."""
    try:
        first = _day(request.query.get("from"))
        last = _day(request.query.get("to")) if request.query.get("to") else first
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


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"must be a date as YYYY-MM-DD; got {text!r}") from None


async def index(request: web.Request) -> web.Response:
    return web.Response(
        text="Pantau: /metrics (Prometheus), /healthz, /api/status, /api/outages?from=&to=\n"
    )


def make_app(
    metrics: Metrics, status_fn: StatusFn, healthy: HealthFn, outages_fn: OutagesFn
) -> web.Application:
    app = web.Application()
    app[METRICS] = metrics
    app[STATUS] = status_fn
    app[HEALTHY] = healthy
    app[OUTAGES] = outages_fn
    app.router.add_get("/", index)
    app.router.add_get("/metrics", metrics_page)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/status", status)
    app.router.add_get("/api/outages", outages)
    return app
