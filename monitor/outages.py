"""The outage ledger as an office attaches it to a complaint: `pantau outages` and /api/outages.

Both read through `outage_rows`, so the CLI and the API cannot disagree.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from monitor.calendar import ServiceCalendar
from monitor.config import Config
from monitor.ledger import Ledger
from monitor.tracker import lost_service_seconds, service_seconds

COLUMNS = (
    "kind", "start_local", "end_local", "duration_seconds", "lost_service_seconds", "domain",
    "domains", "first_hop", "evidence",
)  # fmt: skip


def day_bounds(first: date, last: date, config: Config) -> tuple[float, float]:
    """Unix times of local midnight at the start of `first` and the end of `last`."""
    zone = config.office.zone
    start = datetime.combine(first, time(0), zone)
    end = datetime.combine(last + timedelta(days=1), time(0), zone)
    return start.timestamp(), end.timestamp()


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
    """Episodes and unmonitored gaps overlapping [start, end), as plain JSON-ready data."""
    gaps = ledger.gaps(start - 86400 * 365, end + 86400 * 365)
    spans = [(g.started_at, g.ended_at) for g in gaps]
    episodes = []
    for episode in ledger.episodes(start, end):
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
                    lost_service_seconds(calendar, episode, spans, now), 3
                ),
                "domain": episode.main_domain(now),
                "domains": [
                    {"at": _iso_utc(at), "at_local": _local(at, config), "domain": domain}
                    for at, domain in episode.domains
                ],
                "first_hop": episode.evidence.get("first_hop"),
                "evidence": episode.evidence.get("targets", {}),
                # issue 14: {confirmed, cause, targets: {name: finding + trace + baseline}}
                "path": episode.evidence.get("path"),
            }
        )
    unmonitored = [
        {
            "start": _iso_utc(g.started_at),
            "end": _iso_utc(g.ended_at),
            "start_local": _local(g.started_at, config),
            "end_local": _local(g.ended_at, config),
            "duration_seconds": round(g.ended_at - g.started_at, 3),
            "service_seconds": round(
                service_seconds(calendar, max(g.started_at, start), min(g.ended_at, end)), 3
            ),
            "reason": g.reason,
        }
        for g in gaps
        if g.started_at < end and g.ended_at > start
    ]
    return {
        "office": {"id": config.office.office_id, "name": config.office.name},
        "timezone": config.office.timezone,
        "from": _iso_utc(start),
        "to": _iso_utc(end),
        "outages": episodes,
        "unmonitored": unmonitored,
    }


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
            }
        )
    rows.sort(key=lambda r: r["start_local"])
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()
    header = (
        f"{data['office']['name']} — outages {data['from']} .. {data['to']} ({data['timezone']})"
    )
    if not rows:
        return f"{header}\nno outages, slow periods or unmonitored gaps\n"
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in COLUMNS}
    lines = [header, "  ".join(c.ljust(widths[c]) for c in COLUMNS)]
    lines += ["  ".join(str(r[c]).ljust(widths[c]) for c in COLUMNS) for r in rows]
    return "\n".join(line.rstrip() for line in lines) + "\n"
