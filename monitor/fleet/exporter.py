"""Simulated offices' /metrics pages, with the series names and labels a real Pantau exports.

One aiohttp server serves every simulated office at `/office/<id>/metrics`; one vmagent scrapes
them all, adding each office's `office` label (config written by `scrape_config`), exactly as
the office's own vmagent would. A stale office answers 503: vmagent records `up 0` and no Pantau
series, so the center receives nothing from it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from aiohttp import web

from monitor import __version__
from monitor.fleet.offices import Office
from monitor.fleet.scenario import Fault, View, view

DOMAINS = ("local", "isp", "datacenter", "dns", "unknown")
BUCKETS = ("0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0",
           "2.5", "5.0", "10.0", "30.0", "+Inf")  # fmt: skip
# The example office's targets (config/pantau.yaml): name, role, kind.
TARGETS = (
    ("office-router", "local", "icmp"),
    ("isp-dns", "isp", "dns"),
    ("public-anchor", "internet", "tcp"),
    ("dc-siak", "datacenter", "http"),
    ("dc-vpn", "datacenter", "tcp"),
)
# Which targets fail when the office blames a domain (the first failing hop and beyond).
_FAILING = {
    "local": {"local", "isp", "internet", "datacenter"},
    "isp": {"isp", "internet", "datacenter"},
    "datacenter": {"datacenter"},
}
RULE_SERIES = ("pantau_build_info", "pantau_office_info", "pantau_outage_active",
               "pantau_service_open")  # fmt: skip


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{_esc(v)}"' for k, v in labels.items()) + "}"


def render(office: Office, now: View, service_open: bool, *, full: bool = True) -> list[str]:
    """Exposition lines (`name{labels} value`) of one office; `full=False`: only what the
    national rules read."""
    identity = _labels(
        office=office.id, name=office.name, timezone=office.timezone,
        province=office.province, regency_code=office.regency_code, isp=office.isp,
    )  # fmt: skip
    lines = [
        f"pantau_build_info{_labels(version=__version__)} 1",
        f"pantau_office_info{identity} 1",
        f"pantau_service_open {int(service_open)}",
    ]
    lines += [f"pantau_outage_active{_labels(domain=d)} {int(now.domain == d)}" for d in DOMAINS]
    if not full:
        return lines
    link = "down" if now.domain else "up"
    lines += [
        f"pantau_link_state{_labels(state=s)} {int(s == link)}" for s in ("up", "slow", "down")
    ]
    lines += [f"pantau_slow_active{_labels(domain=d)} 0" for d in DOMAINS]
    failing = _FAILING.get(now.domain or "", set())
    for target, role, kind in TARGETS:
        ok = role not in failing
        tl = _labels(target=target, role=role, kind=kind)
        lines.append(f"pantau_probe_success{tl} {int(ok)}")
        for le in BUCKETS:
            bucket = _labels(target=target, role=role, kind=kind, le=le)
            lines.append(f"pantau_probe_duration_seconds_bucket{bucket} 0")
        lines.append(f"pantau_probe_duration_seconds_count{tl} 0")
        lines.append(f"pantau_probe_duration_seconds_sum{tl} 0")
        state = "up" if ok else "down"
        lines += [
            f"pantau_target_state{_labels(target=target, state=s)} {int(s == state)}"
            for s in ("up", "slow", "down", "unknown")
        ]
    return lines


def import_lines(office: Office, now: View, service_open: bool, timestamp_ms: int) -> list[str]:
    """The rule series as the center stores them after the office's vmagent scraped them
    (job, instance, `office`; the page's own `office` label kept as `exported_office`), in
    VictoriaMetrics' /api/v1/import/prometheus format. Nothing for a stale office."""
    if not now.reporting:
        return []
    scrape = f'job="pantau",instance="127.0.0.1:9470",office="{office.id}"'
    out = []
    for line in render(office, now, service_open, full=False):
        series, value = line.rsplit(" ", 1)
        name, _, rest = series.partition("{")
        rest = rest.rstrip("}").replace('office="', 'exported_office="', 1)
        labels = f"{scrape},{rest}" if rest else scrape
        out.append(f"{name}{{{labels}}} {value} {timestamp_ms}")
    return out


def history(
    offices: Sequence[Office],
    times: Sequence[float],
    faults_at: Callable[[float], tuple[Sequence[Fault], float]],
    epoch: float,
    interval: float = 15.0,
) -> list[dict[str, object]]:
    """The rule series of every office at `times` (simulation seconds), as VictoriaMetrics
    JSON-line series stored after the offices' vmagents scraped them. `faults_at(t)` gives the
    faults in force and the time within them; a stale office has no samples then."""
    store: dict[str, dict[str, object]] = {}
    for office in offices:
        for t in times:
            faults, local_t = faults_at(t)
            for line in import_lines(office, view(office, faults, local_t, interval), True, 0):
                series, value, _ = line.rsplit(" ", 2)
                entry = store.get(series)
                if entry is None:
                    entry = store[series] = {
                        "metric": _parse_labels(series),
                        "values": [],
                        "timestamps": [],
                    }
                entry["values"].append(float(value))  # type: ignore[attr-defined]
                entry["timestamps"].append(int((epoch + t) * 1000))  # type: ignore[attr-defined]
    return list(store.values())


def _parse_labels(series: str) -> dict[str, str]:
    name, _, rest = series.partition("{")
    labels = {"__name__": name}
    for part in rest.rstrip("}").split('",'):
        key, _, value = part.partition('="')
        labels[key] = value.rstrip('"').replace('\\"', '"').replace("\\\\", "\\")
    return labels


def scrape_config(offices: Sequence[Office], address: str, interval: str = "15s") -> dict:
    """A vmagent scrape config with one target per simulated office, each with its `office`."""
    return {
        "global": {"scrape_interval": interval},
        "scrape_configs": [
            {
                "job_name": "pantau",
                "metrics_path": "/metrics",
                "static_configs": [
                    {
                        "targets": [address],
                        "labels": {"office": o.id, "__metrics_path__": f"/office/{o.id}/metrics"},
                    }
                    for o in offices
                ],
            }
        ],
    }


def make_app(
    offices: Sequence[Office],
    faults: Callable[[], Sequence[Fault]],
    now: Callable[[], float],
    *,
    interval: float = 15.0,
    service_open: bool = True,
) -> web.Application:
    """The simulated offices' server; `now()` is simulation time, `faults()` the current list."""
    by_id = {o.id: o for o in offices}

    async def metrics(request: web.Request) -> web.Response:
        office = by_id.get(request.match_info["office"])
        if office is None:
            raise web.HTTPNotFound()
        seen = view(office, faults(), now(), interval)
        if not seen.reporting:
            raise web.HTTPServiceUnavailable(text="stale office (simulated)\n")
        body = "\n".join(render(office, seen, service_open)) + "\n"
        return web.Response(text=body, content_type="text/plain")

    app = web.Application()
    app.router.add_get("/office/{office}/metrics", metrics)
    return app


def monotonic_since(start: float | None = None, speed: float = 1.0) -> Callable[[], float]:
    """Simulation time: seconds since `start` on the monotonic clock, times `speed`."""
    origin = time.monotonic() if start is None else start
    return lambda: (time.monotonic() - origin) * speed
