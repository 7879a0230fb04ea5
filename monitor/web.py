"""The daemon's own HTTP server: /metrics, /healthz, /api/status (and, later, /api/outages)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from aiohttp import web
from prometheus_client.aiohttp import make_aiohttp_handler

from monitor.metrics import Metrics

StatusFn = Callable[[], dict[str, Any]]
HealthFn = Callable[[], bool]
OutagesFn = Callable[[date, date], dict[str, Any]]

METRICS = web.AppKey("metrics", Metrics)
STATUS: web.AppKey[StatusFn] = web.AppKey("status")
HEALTHY: web.AppKey[HealthFn] = web.AppKey("healthy")
OUTAGES: web.AppKey[OutagesFn] = web.AppKey("outages")


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
    app.router.add_get("/metrics", make_aiohttp_handler(metrics.registry))
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/status", status)
    app.router.add_get("/api/outages", outages)
    return app
