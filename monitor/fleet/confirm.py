"""Fleet confirmation: when this office blames the data center or its ISP, ask the central
Prometheus-compatible API how many offices see the same thing now.

It reads the national rules' records (config/fleet/rules/national.yml), so the office and the
national desk count the same way. It never blocks or changes probing: the daemon asks from its
own job with a timeout, and an unreachable or silent center leaves the verdict `unconfirmed`.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlencode

if TYPE_CHECKING:
    import aiohttp

    from monitor.tracker import LinkTracker

State = Literal["confirmed", "only_this_office", "unconfirmed"]
DOMAINS = ("datacenter", "isp")


@dataclass(frozen=True, slots=True)
class Confirmation:
    """What the fleet says about this office's verdict, when it was asked.

    `offices` of `of` see the same now (for `isp`: among the offices on this office's ISP);
    `only_this_office` when no other office does; `unconfirmed` when the center could not say
    (`why` then holds the reason: unreachable, timeout, no_data, no_isp).
    """

    domain: str
    state: State
    offices: int | None
    of: int | None
    asked_at: float
    why: str | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def queries(domain: str, isp: str | None) -> tuple[str, str] | None:
    """(offices that see `domain` down, offices that could see it); None if not askable."""
    if domain == "datacenter":
        return "fleet:pantau_datacenter_down:count", "fleet:pantau_voters:count"
    if domain == "isp" and isp:
        selector = '{isp="' + isp + '"}'
        return f"isp:pantau_isp_down:count{selector}", f"isp:pantau_voters:count{selector}"
    return None


def interpret(domain: str, down: float | None, total: float | None, at: float) -> Confirmation:
    """A Confirmation from the two numbers the center returned (None: no such series)."""
    if down is None or total is None or total < 1:
        return Confirmation(domain, "unconfirmed", None, None, at, "no_data")
    count, of = round(down), round(total)
    # This office votes too (its data reached the center), so "1" is this office alone.
    state: State = "confirmed" if count > 1 else "only_this_office"
    return Confirmation(domain, state, count, of, at)


async def _scalar(session: aiohttp.ClientSession, base: str, expr: str) -> float | None:
    url = f"{base.rstrip('/')}/api/v1/query?{urlencode({'query': expr})}"
    async with session.get(url) as response:
        response.raise_for_status()
        body = json.loads(await response.text())
    result = body.get("data", {}).get("result", [])
    return float(result[0]["value"][1]) if result else None


async def ask(url: str, domain: str, isp: str | None, timeout: float, at: float) -> Confirmation:
    """Ask the center at `url`; never raises, never takes longer than `timeout`."""
    pair = queries(domain, isp)
    if pair is None:
        return Confirmation(domain, "unconfirmed", None, None, at, "no_isp")
    # Imported here, not at the top: only an office with a fleet URL asks, and only when it
    # blames the data center or its ISP; aiohttp is ~10 MB of RSS the daemon need not hold.
    import aiohttp

    try:
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        async with aiohttp.ClientSession(timeout=client_timeout) as session:
            down, total = await asyncio.gather(*(_scalar(session, url, q) for q in pair))
    except TimeoutError:
        return Confirmation(domain, "unconfirmed", None, None, at, "timeout")
    except (aiohttp.ClientError, OSError, ValueError, KeyError, IndexError):
        return Confirmation(domain, "unconfirmed", None, None, at, "unreachable")
    return interpret(domain, down, total, at)


def current(
    fleet: Confirmation | None, state: str | None, domain: str | None
) -> Confirmation | None:
    """The center's last answer if it is about the verdict shown now (down, same domain)."""
    if fleet is None or state != "down" or fleet.domain != domain:
        return None
    return fleet


async def confirm_verdict(
    tracker: LinkTracker, url: str, isp: str | None, timeout: float, now: float
) -> Confirmation | None:
    """Ask about the tracker's current verdict if it blames the data center or the ISP, and
    keep the answer in the open outage's evidence (`fleet`); None when there is nothing to ask."""
    verdict = tracker.verdict
    if verdict.state != "down" or verdict.domain not in DOMAINS:
        return None
    confirmation = await ask(url, verdict.domain, isp, timeout, now)
    episode = tracker.episode
    # The verdict may have moved on while we waited: keep only an answer about the current one.
    if tracker.verdict.domain != confirmation.domain:
        return None
    if episode is not None and episode.kind == "outage" and episode.ended_at is None:
        episode.evidence["fleet"] = confirmation.as_dict()  # saved with the episode's next flush
    return confirmation
