"""The verdict per uplink, and the link's with two uplinks: down only through every one. Pure.

Targets without an `uplink` (the office LAN, say) belong to every uplink. Each uplink is judged
on its own targets by `monitor.verdict.judge`, so `isp` is blamed per uplink. The service is:

- up (or slow) while some uplink carries it; "up on backup" (degraded) when another is down;
- down only when every uplink is down: then the link's verdict is `judge` over all targets;
- unknown while an uplink that could carry it has not been heard from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.state import TargetState
from monitor.verdict import LinkVerdict, judge

if TYPE_CHECKING:
    from monitor.path.analysis import PathFinding


@dataclass(frozen=True, slots=True)
class UplinkVerdicts:
    link: LinkVerdict
    """The service's verdict (what the tracker books outages from)."""
    uplinks: dict[str, LinkVerdict]
    """Each uplink's own verdict, in config order (the first is the primary)."""

    @property
    def down(self) -> tuple[str, ...]:
        """Uplinks that are down."""
        return tuple(u for u, v in self.uplinks.items() if v.state == "down")

    @property
    def degraded(self) -> bool:
        """Up on backup: the service answers while some uplink is down."""
        return self.link.state in ("up", "slow") and bool(self.down)


def judge_uplinks(
    targets: Iterable[TargetState],
    uplink_of: Mapping[str, str | None],
    paths: Mapping[str, PathFinding] | None = None,
) -> UplinkVerdicts:
    """Per-uplink verdicts and the service's; without uplinks, exactly `judge`."""
    states = list(targets)
    names = list(dict.fromkeys(u for u in uplink_of.values() if u))
    if not names:
        return UplinkVerdicts(judge(states, paths), {})
    per = {
        u: judge([t for t in states if uplink_of.get(t.name) in (u, None)], paths) for u in names
    }
    carrying = [v for v in per.values() if v.state in ("up", "slow")]
    if carrying:
        up = any(v.state == "up" for v in carrying)
        link = LinkVerdict("up", None) if up else next(v for v in carrying if v.state == "slow")
    elif all(v.state == "down" for v in per.values()):
        link = judge(states, paths)
        if link.state != "down":  # every uplink down, each on its own evidence
            first = next(iter(per.values()))
            link = LinkVerdict("down", first.domain, first.culprit)
    else:
        link = LinkVerdict("unknown", None)
    return UplinkVerdicts(link, per)


def judge_link(
    targets: Iterable[TargetState],
    uplink_of: Mapping[str, str | None],
    paths: Mapping[str, PathFinding] | None = None,
) -> LinkVerdict:
    """The service's verdict (monitor.tracker's `judge` when uplinks are configured)."""
    return judge_uplinks(targets, uplink_of, paths).link
