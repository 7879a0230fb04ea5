"""What stands in front of the daemon's web app: TLS, basic auth, response headers, a rate limit
and connection deadlines, from pantau.yaml's `web:` and its exporter-toolkit web config file.

The web config file is re-read when it changes (checked with one stat per request, as
exporter-toolkit re-reads it on every request), and the certificate files are checked on every
TLS handshake: a renewed certificate is served from the next handshake on, with no restart. A
file that turns bad is logged at ERROR and the last good settings stay in force. Turning TLS on
or off needs a restart (the listener is one or the other).
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import time
from pathlib import Path

from monitor.config import ConfigError, WebSettings
from monitor.httpserver import Request, Response, Routes, Server, text
from monitor.webauth import BasicAuth
from monitor.webconfig import TlsSettings, WebConfig, build_ssl_context, load_web_config
from monitor.webconn import ConnectionGuard

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
    """Built from `web:` (raises ConfigError for a bad web config file); `server(routes)`, then
    `await listen(server, host, port)`; `close()` when done."""

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

    def server(self, routes: Routes) -> Server:
        """The daemon's server for `routes`, with this front's checks and this guard."""
        return Server(routes, hooks=self, watch=self.guard)

    async def listen(self, server: Server, host: str, port: int) -> asyncio.Server:
        """Listen for `server` on host:port, every connection watched by the guard."""
        loop = asyncio.get_running_loop()
        context = self.tls.base if self.tls is not None else None
        self.guard.start(loop)  # before listening: create_server yields once it listens
        try:
            return await loop.create_server(
                self.guard.factory(server.protocol),
                host,
                port,
                ssl=context,
                reuse_address=True,
                ssl_handshake_timeout=self.guard.header_timeout if context else None,
            )
        except BaseException:
            self.guard.stop()
            raise

    def close(self) -> None:
        self.guard.stop()
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

    # --- per request (monitor/httpserver.py calls these around every route) ---
    def is_public(self, request: Request) -> bool:
        """Public if both the path asked for and the route that serves it are public."""
        paths = [request.path]
        if request.route:
            paths.append(request.route)
        return all(_matches(self.settings.public_paths, p) for p in paths)

    async def check(self, request: Request) -> Response | None:
        """An answer instead of the route's (429, 403, 401), or None to let it through."""
        config = self.current()
        if config.rate_interval > 0 and not self._take_token(config):
            return text("too many requests\n", 429)
        if (
            self.tls is not None
            and self.tls.tls.allowed_sans
            and not _san_allowed(request, self.tls.tls.allowed_sans)
        ):
            return text("client certificate not allowed\n", 403)
        if config.users and not self.is_public(request):
            if not await self.auth.check(config.users, request.headers.get("authorization")):
                return text("credentials required\n", 401, [("WWW-Authenticate", REALM)])
        return None

    def _take_token(self, config: WebConfig) -> bool:
        now = time.monotonic()
        rate = 1.0 / config.rate_interval
        self._tokens = min(config.rate_burst, self._tokens + (now - self._tokens_at) * rate)
        self._tokens_at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def decorate(self, response: Response) -> None:
        """The web config's `http_server_config.headers` on every answer, each replacing the
        route's header of that name."""
        if self.config.headers:
            names = {name.lower() for name, _ in self.config.headers}
            kept = [(k, v) for k, v in response.headers if k.lower() not in names]
            response.headers = kept + list(self.config.headers)


def _matches(rules: tuple[str, ...], path: str) -> bool:
    for rule in rules:
        if rule.endswith("/*"):
            if path.startswith(rule[:-1]):
                return True
        elif path == rule:
            return True
    return False


def _san_allowed(request: Request, allowed: tuple[str, ...]) -> bool:
    transport = request.transport
    cert = transport.get_extra_info("peercert") if transport is not None else None
    if not cert:
        return False
    return any(value in allowed for _kind, value in cert.get("subjectAltName", ()))
