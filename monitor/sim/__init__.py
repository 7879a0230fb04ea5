"""A simulated office network: small real servers on asyncio, faults switched at runtime.

`pantau demo`, the tests and the namespace lab all use these. Every server takes a host and a
port (0 = ephemeral; read `.port` after `start()`), has `await start()`, `await stop()`, a
read-only `mode` and `await set_mode(mode)`; the port number survives every mode change.

- `DataCenterApp(host, port, *, tls=TlsMaterial() | None, cert="good", mode="ok", delay=2.0)`:
  the SIAK app over HTTPS (plain HTTP when `tls=None`). Modes: `ok` (200, body contains
  "SIAK OK"), `error` (503), `slow` (200 after `delay` s; `set_mode("slow", delay=3)`),
  `hang` (accepts, reads the request, never answers), `down` (refused). `set_cert(variant)`
  presents good / expired / wrong_name / untrusted from the next handshake. `.url`,
  `.accepted` (TCP connections), `.requests`.
- `TcpPort(host, port, mode="ok")`: the VPN-like port. `ok` accepts, `down` refuses (RST),
  `hang` drops SYNs (full accept queue), so a connect times out. `.accepted`.
- `DnsResponder(host, port, zone={name: [addresses]}, *, mode="ok", tcp=False)`: answers A and
  AAAA from the zone (NXDOMAIN for unknown names). Modes: `ok`, `silent` (never replies),
  `servfail`, `nxdomain`, `refused` (that rcode for all), `down` (closed: port unreachable).
  `.address` is `host:port` for a DNS target's `server`; `.queries` counts parsed queries.
- `TlsMaterial()`: a trustme CA, leaves for 127.0.0.1/localhost/::1 (`good`, `expired`,
  `wrong_name`, `untrusted`); `write_ca(path)` for `tls_ca_file`, `not_after(variant)`,
  `server_context(variant)`, `client_context()`.
- `SimNetwork(host="127.0.0.1", *, workdir=None, icmp=None)`: all of the above for one office
  (`datacenter`, `vpn`, `dns`, `anchor` in `.servers`), usable as `async with`.
  `await net.set_mode("datacenter", "down")`; `net.config()` / `net.config_yaml()` give a
  pantau config whose targets (office-router icmp when ICMP works, isp-dns, public-anchor,
  dc-siak, dc-vpn) point at the servers; `net.ca_file` is the CA the config trusts.
- `timeline.DEMO_TIMELINE` (a `Step(at, server, mode, delay, note)` tuple on a 120 s cycle: the
  data center down 10-30 s, an ISP resolver blip 45-55 s, a slow period 70-95 s);
  `await play(net, timeline, cycle, on_step=callback)` applies it until cancelled;
  `due_steps(timeline, after, until, cycle)` is the pure schedule behind it.
- `python -m monitor.sim --http 0.0.0.0:8443 --tcp 0.0.0.0:1194 --dns 0.0.0.0:5353
  --control 127.0.0.1:9480 [--plain-http ...] [--ca-out ca.pem] [--zone name=addr]`: the
  servers in one process (names http, plain-http, tcp, dns) with a control API:
  `GET /status`, `POST /mode?server=http&mode=slow&delay=3`, `POST /cert?variant=expired`.
"""

from monitor.sim.control import control_app
from monitor.sim.datacenter import HTTP_MODES, OK_BODY, DataCenterApp
from monitor.sim.dnsserver import DNS_MODES, DnsResponder
from monitor.sim.network import SimNetwork, set_server_mode
from monitor.sim.tcpport import TCP_MODES, TcpPort
from monitor.sim.timeline import DEMO_CYCLE, DEMO_TIMELINE, Step, due_steps, play
from monitor.sim.tls import CERT_VARIANTS, TlsMaterial

__all__ = [
    "CERT_VARIANTS",
    "DEMO_CYCLE",
    "DEMO_TIMELINE",
    "DNS_MODES",
    "HTTP_MODES",
    "OK_BODY",
    "TCP_MODES",
    "DataCenterApp",
    "DnsResponder",
    "SimNetwork",
    "Step",
    "TcpPort",
    "TlsMaterial",
    "control_app",
    "due_steps",
    "play",
    "set_server_mode",
]
