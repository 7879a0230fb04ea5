"""The link verdict: is the service up, slow or down, and which hop is to blame.

Pure: the states of the targets in, a verdict out. The path is layered, so the first failing
hop wins: our LAN (`local`), the ISP (`isp`), name resolution (`dns`), the data center
(`datacenter`), or `unknown` when too few roles are configured to tell.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from monitor.path.analysis import PathFinding
from monitor.state import TargetState

LinkState = Literal["unknown", "up", "slow", "down"]
Domain = Literal["local", "isp", "datacenter", "dns", "unknown"]


@dataclass(frozen=True, slots=True)
class LinkVerdict:
    state: LinkState
    domain: Domain | None  # None while up or unknown
    culprit: str | None = None  # the first failing target on the blamed hop, for evidence
    # Path evidence (issue 14) for a data-center target down while the anchors answer: True when
    # a trace confirms where the path ends, False when no trace/baseline could (unconfirmed),
    # None when path tracing is off or the verdict does not rest on the path.
    confirmed: bool | None = None
    cause: str | None = None  # monitor.path.analysis.CAUSES key that decided it


def _known(targets: list[TargetState]) -> list[TargetState]:
    return [t for t in targets if t.state != "unknown"]


def _all_in(targets: list[TargetState], states: tuple[str, ...]) -> TargetState | None:
    """The first of `targets` if every known one is in `states` (and one is known), else None."""
    known = _known(targets)
    if known and all(t.state in states for t in known):
        return known[0]
    return None


def _any_in(targets: list[TargetState], states: tuple[str, ...]) -> TargetState | None:
    return next((t for t in targets if t.state in states), None)


def judge(
    targets: Iterable[TargetState], paths: Mapping[str, PathFinding] | None = None
) -> LinkVerdict:
    """The verdict for the current confirmed target states (and path findings, when traced)."""
    by_role: dict[str, list[TargetState]] = {
        "local": [],
        "isp": [],
        "internet": [],
        "datacenter": [],
    }
    for target in targets:
        by_role[target.role].append(target)
    dc = _known(by_role["datacenter"])
    down = [t for t in dc if t.state == "down"]
    if down:
        domain, culprit = _blame(by_role, down, ("down",))
        if domain == "datacenter" and paths is not None:
            return LinkVerdict("down", *_by_path(down, paths))
        return LinkVerdict("down", domain, culprit)
    if len(dc) < len(by_role["datacenter"]) or not dc:
        # "Up" needs every data-center target heard from: right after a restart, the first
        # target to answer must not close an outage that another target still sees.
        return LinkVerdict("unknown", None)
    slow = [t for t in dc if t.state == "slow"]
    if slow:
        domain, culprit = _blame(by_role, slow, ("slow", "down"))
        if domain == "datacenter" and paths is not None:
            lossy = _loss_before_datacenter(slow, paths)
            if lossy is not None:
                return LinkVerdict("slow", lossy[0], lossy[1], True, "loss")
        return LinkVerdict("slow", domain, culprit)
    return LinkVerdict("up", None)


def _blame(
    by_role: dict[str, list[TargetState]], failing: list[TargetState], bad: tuple[str, ...]
) -> tuple[Domain, str]:
    """First failing hop wins. For a slow link, a slow or down hop before the data center counts."""
    local = _any_in(by_role["local"], bad)
    if local:
        return "local", local.name
    if bad == ("down",):
        upstream = _all_in(by_role["isp"], bad) or _all_in(by_role["internet"], bad)
    else:
        upstream = _any_in(by_role["isp"], bad) or _any_in(by_role["internet"], bad)
    if upstream:
        return "isp", upstream.name
    reasons = {t.last_failure.reason for t in failing if t.last_failure is not None}
    if bad == ("down",) and reasons == {"dns"}:
        return "dns", failing[0].name
    if _known(by_role["isp"]) or _known(by_role["internet"]):
        return "datacenter", failing[0].name
    return "unknown", failing[0].name


def _by_path(
    failing: list[TargetState], paths: Mapping[str, PathFinding]
) -> tuple[Domain, str, bool, str]:
    """Anchors answer, the data center does not: whose network does the path die in?"""
    findings = [(t, paths.get(t.name)) for t in failing]
    for target, finding in findings:
        if finding is not None and finding.reaches_datacenter is False:
            return "isp", target.name, True, finding.cause  # the ISP's path to the data center
    if all(f is not None and f.reaches_datacenter for _, f in findings):
        first = findings[0][1]
        assert first is not None
        return "datacenter", failing[0].name, True, first.cause
    missing = next((f for _, f in findings if f is None or f.reaches_datacenter is None), None)
    return "datacenter", failing[0].name, False, missing.cause if missing else "no_trace"


def _loss_before_datacenter(
    slow: list[TargetState], paths: Mapping[str, PathFinding]
) -> tuple[Domain, str] | None:
    """A slow data center whose path loses packets from an ISP (or our own) hop on is not the
    data center's fault: (domain, target) of the first such finding."""
    for target in slow:
        finding = paths.get(target.name)
        if finding is None or finding.loss is None or finding.loss_owner is None:
            continue
        role = finding.loss_owner.role
        if role in ("isp", "internet"):
            return "isp", target.name
        if role == "local":
            return "local", target.name
    return None
