"""Run inside the path lab's office namespace: probe, judge, trace, judge again; JSON per round.

    python -m tests.lab.path_check --rounds 10 [--baseline FILE] [--save-baseline FILE]
        [--probes N]

Each round is what the daemon does on a transition, without its confirmation counts: one real
TCP probe of the anchor and of the data-center app, the verdict on those states, a real trace
to the app's port, the path finding against the baseline, and the verdict with it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from monitor.clock import Clock
from monitor.config import TcpTarget
from monitor.path.analysis import Owner, judge_path
from monitor.path.config import PathOwner
from monitor.path.trace import Trace
from monitor.path.tracer import TraceSettings, trace
from monitor.probes import load
from monitor.probes.context import ProbeContext
from monitor.runner import run_probe
from monitor.state import TargetState, Thresholds
from monitor.verdict import judge
from tests.lab.path_topology import ANCHOR, ANCHOR_PORT, DC, DC_PORT, OWNERS


async def one_round(
    ctx: ProbeContext, baseline: Trace | None, settings: TraceSettings
) -> dict[str, object]:
    clock = Clock()
    states = []
    for name, role, host, port in (
        ("anchor", "internet", ANCHOR, ANCHOR_PORT),
        ("dc-app", "datacenter", DC, DC_PORT),
    ):
        target = TcpTarget(name=name, role=role, kind="tcp", host=host, port=port)  # type: ignore[arg-type]
        state = TargetState(name, role, Thresholds(down_after=1, up_after=1))
        state.observe(await run_probe(target, 0.5, ctx, clock))
        states.append(state)
    owners = [Owner.of(PathOwner(**o)) for o in OWNERS]  # type: ignore[arg-type]
    found = await trace(DC, "tcp", DC_PORT, settings)
    finding = judge_path(found, baseline, owners)
    verdict = judge(states, {"dc-app": finding})
    return {
        "states": {s.name: s.state for s in states},
        "state": verdict.state,
        "domain": verdict.domain,
        "confirmed": verdict.confirmed,
        "cause": verdict.cause,
        "finding": finding.as_dict(),
        "trace": found.as_dict(),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--probes", type=int, default=3)
    parser.add_argument("--baseline")
    parser.add_argument("--save-baseline")
    args = parser.parse_args()
    load({"tcp"})
    ctx = ProbeContext()
    baseline = None
    if args.baseline:
        baseline = Trace.from_dict(json.loads(Path(args.baseline).read_text()))  # noqa: ASYNC240
    settings = TraceSettings(max_ttl=8, probes=args.probes, timeout=0.5, spacing=0.003)
    try:
        for _ in range(args.rounds):
            row = await one_round(ctx, baseline, settings)
            print(json.dumps(row), flush=True)
            if args.save_baseline:
                Path(args.save_baseline).write_text(json.dumps(row["trace"]))  # noqa: ASYNC240
    finally:
        await ctx.close()


if __name__ == "__main__":
    asyncio.run(main())
