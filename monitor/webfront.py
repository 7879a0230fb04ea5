"""What stands in front of the daemon's web app: TLS, basic auth, response headers, a rate limit
and connection deadlines, from pantau.yaml's `web:` and its exporter-toolkit web config file.

The web config file is re-read when it changes (checked with one stat per request, as
exporter-toolkit re-reads it on every request), and the certificate files are checked on every
TLS handshake: a renewed certificate is served from the next handshake on, with no restart. A
file that turns bad is logged at ERROR and the last good settings stay in force. Turning TLS on
or off needs a restart (the listener is one or the other).
"""

from __future__ import annotations

import logging
import os
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from monitor.config import ConfigError, WebSettings
from monitor.webauth import BasicAuth
from monitor.webconfig import TlsSettings, WebConfig, build_ssl_context, load_web_config
from monitor.webconn import ConnectionGuard, GuardedSite, Handler

log = logging.getLogger("pantau.web")
REALM = 'Basic realm="Pantau", charset="UTF-8"'
Stamp = tuple[tuple[int, int, int, int], ...]


def _stamp(paths: tuple[Path, ...]) -> Stamp:
    out = []
    for path in paths:
        try:
            st = os.stat(path)
            out.append((st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
        except OSError:
            out.append((0, 0, 0, 0))
    return tuple(out)


class TlsReloader:
    """The listener's SSLContext; on each handshake, swaps in a fresh one if the files changed."""

    def __init__(self, tls: TlsSettings) -> None:
        self.tls = tls
        self.base = build_ssl_context(tls)
        self.base.sni_callback = self._on_hello  # called for every ClientHello, SNI or not
        self.current = self.base
        self._stamp: Stamp | None = _stamp(tls.files())
        self.reloads = 0

    def use(self, tls: TlsSettings) -> None:
        """New settings from a re-read web config (new paths, versions, ciphers)."""
        if tls != self.tls:
            self.tls, self._stamp = tls, None  # forces a rebuild at the next handshake

    def refresh(self) -> None:
        stamp = _stamp(self.tls.files())
        if stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            context = build_ssl_context(self.tls)
        except (ssl.SSLError, OSError, ValueError) as exc:
            # Often a renewal half done (the certificate written, its key not yet): the next
            # change of the files is tried again; until then the old certificate is served.
            log.error("web TLS: cannot load the changed certificate files (%s); still serving "
                      "the previous certificate", exc)  # fmt: skip
            return
        self.current = context
        self.reloads += 1
        log.info("web TLS: certificate files changed; serving the new certificate")

    def _on_hello(self, conn: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
        try:
            self.refresh()
            if self.current is not self.base:
                conn.context = self.current
        except Exception:  # an exception here would kill the handshake with no trace
            log.exception("web TLS: certificate check failed")


class WebFront:
    """Built from `web:` (raises ConfigError for a bad web config file); `install(app)`, then
    `site(runner, host, port)`."""

    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self.config = WebConfig()
        if settings.config_file is not None:
            self.config = load_web_config(settings.config_file)
        self._stamp = self._file_stamp()
        self.tls = TlsReloader(self.config.tls) if self.config.tls is not None else None
        self.auth = BasicAuth()
        self.guard = ConnectionGuard(
            settings.header_timeout,
            settings.idle_timeout,
            settings.write_timeout,
            settings.max_connections,
        )
        self._tokens = float(self.config.rate_burst)
        self._tokens_at = time.monotonic()

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"

    def install(self, app: web.Application) -> None:
        """Outermost middlewares (connection state, then access), headers on every response."""
        app.middlewares.insert(0, self.guard.middleware)
        app.middlewares.insert(1, self._access)
        app.on_response_prepare.append(self._add_headers)
        app.cleanup_ctx.append(self._lifetime)

    def site(self, runner: web.BaseRunner, host: str, port: int) -> GuardedSite:
        context = self.tls.base if self.tls is not None else None
        return GuardedSite(runner, host, port, self.guard, ssl_context=context)

    async def _lifetime(self, app: web.Application) -> AsyncIterator[None]:
        yield
        self.auth.close()

    # --- the web config file, re-read when it changes ---
    def _file_stamp(self) -> Stamp:
        path = self.settings.config_file
        return _stamp((path,)) if path is not None else ()

    def current(self) -> WebConfig:
        stamp = self._file_stamp()
        if stamp != self._stamp:
            self._stamp = stamp
            self._reload()
        return self.config  # certificate files are checked at each handshake, not here

    def _reload(self) -> None:
        assert self.settings.config_file is not None
        try:
            config = load_web_config(self.settings.config_file)
        except ConfigError as exc:
            log.error("web config changed but cannot be used, the previous one stays: %s", exc)
            return
        if (config.tls is None) != (self.tls is None):
            log.error("web config: turning TLS on or off needs a restart of pantau; the rest of "
                      "the change is in force")  # fmt: skip
            config = WebConfig(config.path, self.config.tls, config.users, config.headers,
                               config.rate_interval, config.rate_burst)  # fmt: skip
        elif config.tls is not None and self.tls is not None:
            self.tls.use(config.tls)
        if config.rate_burst != self.config.rate_burst:
            self._tokens = float(config.rate_burst)
        self.config = config
        log.info("web config %s re-read", self.settings.config_file)

    # --- per request ---
    def is_public(self, request: web.Request) -> bool:
        """Public if both the path asked for and the route that serves it are public."""
        paths = [request.path]
        resource = request.match_info.route.resource
        info = resource.get_info() if resource is not None else {}
        if "path" in info:
            paths.append(str(info["path"]))
        elif "prefix" in info:
            paths.append(str(info["prefix"]).rstrip("/") + "/")
        elif "formatter" in info:
            paths.append(str(info["formatter"]))
        return all(_matches(self.settings.public_paths, p) for p in paths)

    @web.middleware
    async def _access(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        config = self.current()
        if config.rate_interval > 0 and not self._take_token(config):
            raise web.HTTPTooManyRequests(text="too many requests\n")
        if (
            self.tls is not None
            and self.tls.tls.allowed_sans
            and not _san_allowed(request, self.tls.tls.allowed_sans)
        ):
            raise web.HTTPForbidden(text="client certificate not allowed\n")
        if config.users and not self.is_public(request):
            if not await self.auth.check(config.users, request.headers.get("Authorization")):
                raise web.HTTPUnauthorized(
                    headers={"WWW-Authenticate": REALM}, text="credentials required\n"
                )
        return await handler(request)

    def _take_token(self, config: WebConfig) -> bool:
        now = time.monotonic()
        rate = 1.0 / config.rate_interval
        self._tokens = min(config.rate_burst, self._tokens + (now - self._tokens_at) * rate)
        self._tokens_at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    async def _add_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        for name, value in self.config.headers:
            response.headers[name] = value


def _matches(rules: tuple[str, ...], path: str) -> bool:
    for rule in rules:
        if rule.endswith("/*"):
            if path.startswith(rule[:-1]):
                return True
        elif path == rule:
            return True
    return False


def _san_allowed(request: web.Request, allowed: tuple[str, ...]) -> bool:
    transport = request.transport
    cert = transport.get_extra_info("peercert") if transport is not None else None
    if not cert:
        return False
    return any(value in allowed for _kind, value in cert.get("subjectAltName", ()))
