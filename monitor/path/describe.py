"""A trace and its finding as a person reads them (English: the CLI and logs; the reports use
the word lists in monitor/templates)."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.path.analysis import Owner, PathFinding, owner_of
from monitor.path.trace import Trace


def _named(address: str | None, owners: Sequence[Owner]) -> str:
    owner = owner_of(address, owners)
    return f"{address} ({owner.name})" if owner else str(address)


def hop_lines(trace: Trace, owners: Sequence[Owner]) -> list[str]:
    """One line per hop: TTL, address, owner, loss, average RTT (or why it refused)."""
    lines = []
    for hop in trace.hops:
        if not hop.received:
            lines.append(f"{hop.ttl:>2}  *  (no reply to {hop.sent} probes)")
            continue
        owner = owner_of(hop.address, owners)
        who = f"{owner.name} [{owner.role}]" if owner else "-"
        rtt = f"{hop.rtt * 1000:.2f} ms" if hop.rtt is not None else ""
        refused = f"  {hop.unreachable}" if hop.unreachable else ""
        loss = f"{hop.loss_ratio * 100:.0f}% loss"
        lines.append(f"{hop.ttl:>2}  {hop.address:<15}  {who:<28} {loss:>9}  {rtt}{refused}")
    return lines


def summary(trace: Trace, finding: PathFinding, owners: Sequence[Owner]) -> str:
    """Where the path ends, compared with the baseline, and who loses packets."""
    if trace.error:
        return f"no trace: {trace.error} ({trace.message})"
    parts = []
    last = finding.last_hop
    if trace.reached:
        parts.append(f"the destination {trace.destination} answers")
    elif last is None:
        parts.append("no hop answered")
    else:
        parts.append(
            f"the last hop that answered is {_named(last.address, owners)}; "
            + (f"it refused to forward ({finding.refused})" if finding.refused
               else "nothing answered beyond it")
        )  # fmt: skip
    if finding.used_to_continue and not trace.reached:
        parts.append(f"the path used to continue to {_named(finding.used_to_continue, owners)}")
    if finding.loss is not None:
        blamed = finding.loss.blamed
        parts.append(
            f"{finding.loss.loss_ratio * 100:.0f}% of packets are lost after "
            f"{_named(blamed.address, owners)} (hop {blamed.ttl}), through to the destination"
        )
    reaches = finding.reaches_datacenter
    verdict = {True: "reaches the data center", False: "dies before the data center"}.get(
        reaches,  # type: ignore[arg-type]
        "cannot tell whether it reaches the data center (no baseline yet)",
    )
    return "; ".join(parts) + f". The path {verdict}."
