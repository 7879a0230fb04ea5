"""The outage ledger as an office attaches it to a complaint: `pantau outages` and /api/outages.

Both read through `outage_rows`, so the CLI and the API cannot disagree; every second in it
comes from the one accounting of service time (`monitor.calendar.accounting`).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from typing import Any

from monitor.calendar import ServiceCalendar, accounting
from monitor.calendar.accounting import (
    account_days,
    clip,
    episode_seconds,
    local_day,
    merge_spans,
    monitored_service_seconds,
    planned_seconds,
    service_seconds,
    unmonitored_spans,
)
from monitor.config import Config
from monitor.csv_safe import csv_safe_dict
from monitor.ledger import Ledger
from monitor.maintenance.facts import degraded_rows, facts_for

COLUMNS = (
    "kind", "start_local", "end_local", "duration_seconds", "lost_service_seconds", "domain",
    "domains", "first_hop", "evidence", "planned_service_seconds",
)  # fmt: skip


def day_bounds(first: date, last: date, config: Config) -> tuple[float, float]:
    """Unix times of local midnight at the start of `first` and the end of `last`.

    Kept for callers of the old place; the function lives in monitor.calendar.accounting.
    """
    return accounting.day_bounds(first, last, config.office.zone)


def _local(ts: float | None, config: Config) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, config.office.zone).isoformat(timespec="seconds")


def _iso_utc(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def _evidence_line(evidence: dict[str, Any]) -> str:
    targets = evidence.get("targets", {})
    parts = []
    for name, entry in sorted(targets.items(), key=lambda kv: kv[1].get("first_at", 0)):
        parts.append(f"{name}[{entry.get('role')}]: {entry.get('reason')} x{entry.get('count')}")
    return "; ".join(parts)


def outage_rows(
    ledger: Ledger, calendar: ServiceCalendar, config: Config, start: float, end: float, now: float
) -> dict[str, Any]:
    """Episodes, unmonitored spans and the per-day account of [start, end), JSON-ready.

    `start` and `end` are office-local midnights (`day_bounds`): the account is per day.
    """
    facts = facts_for(ledger, ledger.path, config, start, end, now)  # rows overlapping the range
    spans = unmonitored_spans(facts, now)
    zone = config.office.zone
    first, last = local_day(start, zone), local_day(end - 1, zone)
    account = account_days(facts, calendar, zone, first, last, now)
    windows = merge_spans(clip(facts.maintenance, start, end))
    episodes = []
    for episode in ledger.episodes(start, end):
        planned = planned_seconds(calendar, episode, spans, windows, start, end, now)
        ended = episode.end_or(now)
        episodes.append(
            {
                "id": episode.id,
                "kind": episode.kind,
                "start": _iso_utc(episode.started_at),
                "end": _iso_utc(episode.ended_at),
                "start_local": _local(episode.started_at, config),
                "end_local": _local(episode.ended_at, config),
                "start_unix": round(episode.started_at, 3),
                "end_unix": None if episode.ended_at is None else round(episode.ended_at, 3),
                "open": episode.ended_at is None,
                "duration_seconds": round(ended - episode.started_at, 3),
                "lost_service_seconds": round(
                    sum(episode_seconds(calendar, episode, spans, start, end, now).values(), 0.0),
                    3,
                ),
                "domain": episode.main_domain(now),
                "domains": [
                    {"at": _iso_utc(at), "at_local": _local(at, config), "domain": domain}
                    for at, domain in episode.domains
                ],
                "first_hop": episode.evidence.get("first_hop"),
                "evidence": episode.evidence.get("targets", {}),
                "planned_service_seconds": round(
                    sum(planned.values(), 0.0) if episode.kind == "outage" else 0.0, 3
                ),
                # issue 14: {confirmed, cause, targets: {name: finding + trace + baseline}}
                "path": episode.evidence.get("path"),
                # issue 15: the center's last word on the verdict {state, offices, of, ...}
                "fleet": episode.evidence.get("fleet"),
            }
        )
    unmonitored = [
        {
            "start": _iso_utc(s),
            "end": _iso_utc(e),
            "start_local": _local(s, config),
            "end_local": _local(e, config),
            "duration_seconds": round(e - s, 3),
            "service_seconds": round(service_seconds(calendar, s, e), 3),
            "reason": reason,
        }
        for s, e, reason in clip(spans, start, min(end, now))
    ]
    return {
        "office": {"id": config.office.office_id, "name": config.office.name},
        "timezone": config.office.timezone,
        "from": _iso_utc(start),
        "to": _iso_utc(end),
        "from_local": _local(start, config),
        "to_local": _local(end, config),
        "outages": episodes,
        "unmonitored": unmonitored,
        "degraded": [
            {
                "uplink": row.uplink,
                "domain": row.domain,
                "start": _iso_utc(row.started_at),
                "end": _iso_utc(row.ended_at),
                "start_local": _local(row.started_at, config),
                "end_local": _local(row.ended_at, config),
                "service_seconds": round(
                    monitored_service_seconds(calendar, max(s, start), min(e, end, now), spans), 3
                ),
            }
            for row in degraded_rows(config, ledger.path, start, end)
            for s, e, _ in [row.span(now)]
        ],
        "maintenance": [
            {
                "start": _iso_utc(s),
                "end": _iso_utc(e),
                "start_local": _local(s, config),
                "end_local": _local(e, config),
                "announced_by": who,
            }
            for s, e, who in merge_spans(facts.maintenance)
        ],
    } | account.as_json()


def render(data: dict[str, Any], fmt: str) -> str:
    """table, csv or json."""
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    rows = []
    for e in data["outages"]:
        rows.append(
            {
                "kind": e["kind"],
                "start_local": e["start_local"],
                "end_local": e["end_local"] or "(open)",
                "duration_seconds": f"{e['duration_seconds']:.0f}",
                "lost_service_seconds": f"{e['lost_service_seconds']:.0f}",
                "domain": e["domain"],
                "domains": " > ".join(d["domain"] for d in e["domains"]),
                "first_hop": e["first_hop"] or "",
                "evidence": _evidence_line({"targets": e["evidence"]}),
                "planned_service_seconds": f"{e['planned_service_seconds']:.0f}",
            }
        )
    for g in data["unmonitored"]:
        rows.append(
            {
                "kind": "unmonitored",
                "start_local": g["start_local"],
                "end_local": g["end_local"],
                "duration_seconds": f"{g['duration_seconds']:.0f}",
                "lost_service_seconds": "",
                "domain": "",
                "domains": "",
                "first_hop": "",
                "evidence": g["reason"],
                "planned_service_seconds": "",
            }
        )
    rows.sort(key=lambda r: r["start_local"])
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(csv_safe_dict(row) for row in rows)
        return out.getvalue()
    header = (
        f"{data['office']['name']} — outages {data['from_local']} .. {data['to_local']}"
        f" ({data['timezone']})"
    )
    summary = _summary(data["total"])
    if not rows:
        return f"{header}\nno outages, slow periods or unmonitored gaps\n{summary}\n"
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in COLUMNS}
    lines = [header, "  ".join(c.ljust(widths[c]) for c in COLUMNS)]
    lines += ["  ".join(str(r[c]).ljust(widths[c]) for c in COLUMNS) for r in rows]
    lines.append(summary)
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _summary(total: dict[str, Any]) -> str:
    """The range's account in one line, seconds as whole numbers."""
    availability = total["availability"]
    shown = "n/a (nothing monitored)" if availability is None else f"{availability:.3%}"
    return (
        f"service seconds: scheduled {total['scheduled_seconds']:.0f}, lost"
        f" {total['lost_seconds']:.0f}, slow {total['slow_seconds']:.0f}, unmonitored"
        f" {total['unmonitored_seconds']:.0f}, not yet {total['not_yet_seconds']:.0f};"
        f" of the lost: planned {total['planned_seconds']:.0f}, unplanned"
        f" {total['unplanned_seconds']:.0f}; on a backup uplink {total['degraded_seconds']:.0f};"
        f" availability {shown}"
    )
