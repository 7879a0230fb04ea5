"""The whole simulated office world on one host, and the pantau config that watches it."""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from monitor.sim.datacenter import HTTP_MODES, DataCenterApp
from monitor.sim.dnsserver import DNS_MODES, DnsResponder
from monitor.sim.tcpport import TCP_MODES, TcpPort
from monitor.sim.tls import TlsMaterial

SimServer = DataCenterApp | TcpPort | DnsResponder
DC_NAME = "siak.kemendagri.go.id"
DC_ADDRESS = "10.20.0.5"


class SimNetwork:
    """Data center (HTTPS app + VPN-like TCP port), the ISP's resolver and an internet anchor.

    Every server listens on `host` on an ephemeral port. `servers` names them: datacenter,
    vpn, dns, anchor. `config()` is a pantau config dict whose targets point at them (plus an
    ICMP target to `host` when ICMP works here, or when `icmp=True`).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        workdir: str | Path | None = None,
        icmp: bool | None = None,
    ) -> None:
        self.host = host
        self.tls = TlsMaterial()
        self.datacenter = DataCenterApp(host, tls=self.tls)
        self.vpn = TcpPort(host)
        self.anchor = TcpPort(host)
        self.dns = DnsResponder(host, zone={DC_NAME: [DC_ADDRESS]}, tcp=True)
        self.servers: dict[str, SimServer] = {
            "datacenter": self.datacenter,
            "vpn": self.vpn,
            "dns": self.dns,
            "anchor": self.anchor,
        }
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="pantau-sim-")
            workdir = self._tmp.name
        self.workdir = Path(workdir)
        self.ca_file = self.tls.write_ca(self.workdir / "sim-ca.pem")
        if icmp is None:
            from monitor.probes.context import icmp_mode

            icmp = icmp_mode() is not None
        self.icmp = icmp

    async def start(self) -> None:
        """Start every server; on a failure the ones already started are stopped."""
        started: list[SimServer] = []
        try:
            for server in self.servers.values():
                await server.start()
                started.append(server)
        except BaseException:
            for server in reversed(started):
                await server.stop()
            raise

    async def stop(self) -> None:
        """Stop every server and remove the temporary directory (if we made it)."""
        for server in reversed(self.servers.values()):
            await server.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    async def __aenter__(self) -> SimNetwork:
        await self.start()
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def set_mode(self, server: str, mode: str, delay: float | None = None) -> None:
        """Switch one server's mode by name, e.g. `set_mode("datacenter", "slow", delay=3)`."""
        await set_server_mode(self.servers, server, mode, delay)

    def config(
        self,
        *,
        listen: str = "127.0.0.1:9470",
        interval: str = "5s",
        timeout: str = "2s",
        office: str = "Dispendukcapil Simulasi",
    ) -> dict[str, Any]:
        """A pantau config (as parsed YAML) watching this network; valid for parse_config."""
        host = self.host
        targets: list[dict[str, Any]] = []
        if self.icmp:
            targets.append({"name": "office-router", "role": "local", "kind": "icmp", "host": host})
        targets += [
            {
                "name": "isp-dns",
                "role": "isp",
                "kind": "dns",
                "server": self.dns.address,
                "query": DC_NAME,
                "record": "A",
                "expect": [DC_ADDRESS],
            },
            {
                "name": "public-anchor",
                "role": "internet",
                "kind": "tcp",
                "host": host,
                "port": self.anchor.port,
            },
            {
                "name": "dc-siak",
                "role": "datacenter",
                "kind": "http",
                "url": self.datacenter.url,
                "expect_status": [200],
                "body_regex": "SIAK OK",
                "tls_ca_file": str(self.ca_file),
            },
            {
                "name": "dc-vpn",
                "role": "datacenter",
                "kind": "tcp",
                "host": host,
                "port": self.vpn.port,
            },
        ]
        return {
            "office": {"name": office, "timezone": "Asia/Jakarta"},
            "listen": listen,
            "storage": {"path": str(self.workdir / "pantau.db")},
            "defaults": {"interval": interval, "timeout": timeout},
            "targets": targets,
        }

    def config_yaml(self, **kwargs: Any) -> str:
        """`config()` as YAML text, for writing a file `pantau run -c` reads."""
        return yaml.safe_dump(self.config(**kwargs), sort_keys=False, allow_unicode=True)


def modes_of(server: SimServer) -> tuple[str, ...]:
    """The modes a server accepts."""
    if isinstance(server, DataCenterApp):
        return HTTP_MODES
    if isinstance(server, DnsResponder):
        return DNS_MODES
    return TCP_MODES


async def set_server_mode(
    servers: dict[str, SimServer], name: str, mode: str, delay: float | None = None
) -> None:
    """Switch `servers[name]` to `mode`; ValueError that names the choices otherwise."""
    if name not in servers:
        raise ValueError(f"server must be one of {', '.join(servers)}; got {name!r}")
    server = servers[name]
    modes = modes_of(server)
    if mode not in modes:
        raise ValueError(f"mode for {name} must be one of {', '.join(modes)}; got {mode!r}")
    if isinstance(server, DataCenterApp):
        await server.set_mode(mode, delay=delay)  # type: ignore[arg-type]
    else:
        await server.set_mode(mode)  # type: ignore[arg-type]
