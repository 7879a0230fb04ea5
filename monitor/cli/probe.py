"""`pantau probe URL`: one probe, a readable table, exit 0 on success and 1 on failure."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from pydantic import TypeAdapter, ValidationError

from monitor.cli.common import UsageError
from monitor.clock import Clock
from monitor.config import Target

if TYPE_CHECKING:
    from monitor.probes.result import ProbeResult

FORMS = (
    "https://host/path, http://host/path, tcp://host:port, icmp://host, dns://server[:port]/name"
)
_TARGET: TypeAdapter[Any] = TypeAdapter(Target)


class ProbeUsageError(ValueError):
    """The target URL cannot be probed as written."""


def target_from_url(url: str, timeout: float, insecure: bool = False) -> Any:
    """A validated target model for a one-shot URL."""
    parts = urlsplit(url)
    base: dict[str, Any] = {"name": "oneshot", "role": "datacenter", "timeout": f"{timeout}s"}
    base["interval"] = f"{timeout * 2 + 1}s"
    if parts.scheme in ("http", "https"):
        spec = {**base, "kind": "http", "url": url, "tls_verify": not insecure}
    elif parts.scheme == "tcp":
        spec = {**base, "kind": "tcp", "host": parts.hostname, "port": _port(parts)}
    elif parts.scheme == "icmp":
        spec = {**base, "kind": "icmp", "host": parts.hostname, "count": 3}
    elif parts.scheme == "dns":
        name = parts.path.strip("/")
        record = parse_qs(parts.query).get("type", ["A"])[0].upper()
        spec = {**base, "kind": "dns", "server": parts.netloc, "query": name, "record": record}
    else:
        raise ProbeUsageError(f"cannot probe {url!r}: write one of {FORMS}")
    try:
        return _TARGET.validate_python(spec)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"][1:]) or "target"
        raise ProbeUsageError(
            f"cannot probe {url!r}: {field}: {first['msg'].removeprefix('Value error, ')}"
            f" (write one of {FORMS})"
        ) from None


def _port(parts: Any) -> int | None:
    try:
        return parts.port
    except ValueError:
        raise ProbeUsageError(f"port out of range in {parts.geturl()!r}") from None


def render_result(result: ProbeResult, address: str) -> str:
    obs = result.observation
    rows = [
        ("target", address),
        ("kind", result.kind),
        ("result", "OK" if result.ok else f"FAILED ({result.reason})"),
        ("message", result.message),
        ("latency", f"{result.latency * 1000:.3f} ms"),
        ("duration", f"{result.duration * 1000:.3f} ms"),
    ]
    for phase, seconds in obs.phases.items():
        rows.append((f"  {phase}", f"{seconds * 1000:.3f} ms"))
    if obs.loss_ratio is not None:
        rows.append(("loss", f"{obs.loss_ratio:.0%}"))
    for stat, seconds in obs.rtt.items():
        rows.append((f"  rtt {stat}", f"{seconds * 1000:.3f} ms"))
    if obs.cert_expiry is not None:
        from datetime import UTC, datetime

        expiry = datetime.fromtimestamp(obs.cert_expiry, UTC)
        rows.append(("cert expires", expiry.strftime("%Y-%m-%d %H:%M UTC")))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows) + "\n"


def cmd_probe(args: argparse.Namespace) -> int:
    return asyncio.run(probe_url(args.target, args.timeout, args.insecure, args.json))


async def probe_url(url: str, timeout: float, insecure: bool, as_json: bool) -> int:
    try:
        target = target_from_url(url, timeout, insecure)
    except ProbeUsageError as exc:
        raise UsageError(str(exc)) from None
    from monitor.probes.context import ProbeContext  # the probe machinery only when it probes
    from monitor.runner import run_probe

    ctx = ProbeContext()
    try:
        result = await run_probe(target, timeout, ctx, Clock())
    finally:
        await ctx.close()
    if as_json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        print(render_result(result, target.address), end="")
    return 0 if result.ok else 1
