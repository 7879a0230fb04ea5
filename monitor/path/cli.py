"""`pantau trace TARGET`: trace the path once, one line per hop with its owner, and what it says
against the last healthy baseline in the ledger."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from monitor.config import Config, load_config
from monitor.path.analysis import Owner, judge_path
from monitor.path.describe import hop_lines, summary
from monitor.path.store import PathStore
from monitor.path.trace import Trace
from monitor.path.tracer import TraceSettings, trace
from monitor.path.watch import Spec, spec_of


def add_trace_command(sub: Any, with_config: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "trace",
        parents=[with_config],
        help="trace the path to a target: one line per hop with its owner",
        description="TARGET is a target name from the config, or tcp://host:port, "
        "https://host/..., icmp://host. Needs root (raw sockets). Exit 0 when the "
        "destination answered, 1 when it did not.",
    )
    p.add_argument("target")
    p.add_argument("--probes", type=int, default=None, help="probes per hop (path.probes)")
    p.add_argument("--max-ttl", type=int, default=None, help="hops at most (path.max_ttl)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_trace)


def _spec(text: str, config: Config | None) -> tuple[str, Spec]:
    from monitor.cli import UsageError
    from monitor.oneshot import target_from_url

    if config is not None:
        for target in config.targets:
            if target.name == text:
                return target.name, spec_of(target)
    if "://" not in text:
        names = ", ".join(t.name for t in config.targets) if config else "(no config)"
        raise UsageError(
            f"trace: {text!r} is not a target in the config ({names}); "
            "or write tcp://host:port, https://host/ or icmp://host"
        )
    try:
        return text, spec_of(target_from_url(text, 5.0))
    except ValueError as exc:
        raise UsageError(f"trace: {exc}") from None


def cmd_trace(args: argparse.Namespace) -> int:
    from monitor.cli import UsageError

    # A URL needs no config; a target name does (and its owners and baseline come with it).
    url_only = "://" in args.target and not Path(args.config).exists()
    config = None if url_only else load_config(args.config)
    settings = config.path if config else None
    probes = args.probes or (settings.probes if settings else 5)
    max_ttl = args.max_ttl or (settings.max_ttl if settings else 30)
    if not 1 <= probes <= 100 or not 1 <= max_ttl <= 64:
        raise UsageError("trace: --probes must be 1-100 and --max-ttl 1-64")
    name, (host, protocol, port) = _spec(args.target, config)
    owners = [Owner.of(o) for o in settings.owners] if settings else []
    store = None
    if config is not None and Path(config.storage.path).exists():
        store = PathStore(config.storage.path, config.office.office_id)
    try:
        baseline = store.baseline(name) if store else None
        timeout = settings.timeout if settings else 1.0
        found = asyncio.run(trace(host, protocol, port, TraceSettings(max_ttl, probes, timeout)))
        if store is not None and not found.error:
            store.add(name, "demand", found)
    finally:
        if store is not None:
            store.close()
    if found.error in ("permission", "dns", "unsupported"):
        raise UsageError(f"trace: {found.message}")
    finding = judge_path(found, baseline, owners, settings.loss_threshold if settings else 0.1)
    if args.format == "json":
        data = {**found.as_dict(), "finding": finding.as_dict(),
                "baseline": baseline.as_dict() if baseline else None}  # fmt: skip
        print(json.dumps(data, indent=2))
    else:
        print(_text(name, found, baseline, owners, finding))
    return 0 if found.reached else 1


def _text(
    name: str, found: Trace, baseline: Trace | None, owners: list[Owner], finding: Any
) -> str:
    where = f"{found.destination}:{found.port}" if found.port else found.destination
    lines = [f"trace {name}: {found.protocol} to {where}"]
    lines += hop_lines(found, owners)
    lines.append(summary(found, finding, owners))
    if baseline is None:
        lines.append(
            "no baseline in the ledger yet (the daemon traces the healthy path every 15 min)"
        )
    return "\n".join(lines)
