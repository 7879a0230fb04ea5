"""A tiny HTTP API to switch the simulated servers' modes from outside (e.g. another netns)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from monitor.sim.datacenter import DataCenterApp
from monitor.sim.network import SimServer, modes_of, set_server_mode

SERVERS = web.AppKey("servers", dict[str, SimServer])


def status_of(servers: dict[str, SimServer]) -> dict[str, Any]:
    """Every server's mode, port and accepted modes (and the certificate for https)."""
    out: dict[str, Any] = {}
    for name, server in servers.items():
        entry: dict[str, Any] = {"mode": server.mode, "port": server.port}
        entry["modes"] = list(modes_of(server))
        if isinstance(server, DataCenterApp):
            entry["url"] = server.url
            entry["delay"] = server.delay
            if server.tls is not None:
                entry["cert"] = server.cert
        out[name] = entry
    return {"servers": out}


async def _status(request: web.Request) -> web.Response:
    return web.json_response(status_of(request.app[SERVERS]))


async def _mode(request: web.Request) -> web.Response:
    """POST /mode?server=http&mode=slow[&delay=3]."""
    servers = request.app[SERVERS]
    query = request.query
    try:
        delay = float(query["delay"]) if "delay" in query else None
        await set_server_mode(servers, query.get("server", ""), query.get("mode", ""), delay)
    except ValueError as exc:
        raise web.HTTPBadRequest(text=f"{exc}\n") from None
    return web.json_response(status_of(servers))


async def _cert(request: web.Request) -> web.Response:
    """POST /cert?server=http&variant=expired: the leaf the https server presents next."""
    servers = request.app[SERVERS]
    name = request.query.get("server", "http")
    server = servers.get(name)
    if not isinstance(server, DataCenterApp) or server.tls is None:
        raise web.HTTPBadRequest(text=f"server {name!r} is not an https server\n")
    try:
        server.set_cert(request.query.get("variant", ""))  # type: ignore[arg-type]
    except ValueError as exc:
        raise web.HTTPBadRequest(text=f"{exc}\n") from None
    return web.json_response(status_of(servers))


def control_app(servers: dict[str, SimServer]) -> web.Application:
    """GET /status, POST /mode?server=&mode=[&delay=], POST /cert?server=&variant=.

    The servers are started and stopped with the app (cleanup_ctx), so whoever runs the app
    owns them.
    """
    app = web.Application()
    app[SERVERS] = servers

    async def lifecycle(_app: web.Application) -> Any:
        started: list[SimServer] = []
        try:
            for server in servers.values():
                await server.start()
                started.append(server)
            yield
        finally:
            for server in reversed(started):
                await server.stop()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_get("/status", _status)
    app.router.add_post("/mode", _mode)
    app.router.add_post("/cert", _cert)
    return app
