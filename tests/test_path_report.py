"""The daily e-mail and the escalation ticket show the path evidence: a short hop table."""

from __future__ import annotations

from pathlib import Path

from monitor.ledger import Ledger
from monitor.path.analysis import Owner, judge_path
from monitor.path.config import PathOwner
from monitor.path.trace import Hop, Trace
from monitor.path.watch import annotated
from monitor.report.render import render_html, render_text
from tests.fixtures.report.ledger import at, evidence, outage
from tests.test_report_model import HOSTILE, report_of

OWNERS = [
    Owner.of(PathOwner(prefix="10.20.0.0/16", name="Telkom VPN IP", role="isp")),
    Owner.of(PathOwner(prefix="10.30.0.0/24", name="Kemendagri", role="datacenter")),
]
DEST = "10.30.0.9"


def hops(*rows: tuple[str | None, int]) -> tuple[Hop, ...]:
    return tuple(Hop(t, a, 3, r, 0.002 if r else None) for t, (a, r) in enumerate(rows, start=1))


BASELINE = Trace("dc-siak", DEST, "tcp", 443, 0.0,
                 hops(("10.20.0.1", 3), ("10.20.3.1", 3), ("10.30.0.1", 3), (DEST, 3)))  # fmt: skip
# The path now dies after the ISP's first router: it used to go on to 10.20.3.1.
NOW = Trace("dc-siak", DEST, "tcp", 443, 0.0, hops(("10.20.0.1", 3), (None, 0)))


def path_outage(ledger: Ledger) -> None:
    finding = judge_path(NOW, BASELINE, OWNERS)
    ev = evidence("dc-siak", **{"dc-siak": ("datacenter", "timeout", 4)})
    ev["path"] = {
        "confirmed": True,
        "cause": finding.cause,
        "targets": {
            "dc-siak": {
                **finding.as_dict(),
                "trace": annotated(NOW, OWNERS),
                "baseline": annotated(BASELINE, OWNERS),
            }
        },
    }
    outage(ledger, "outage", at(27, "09:00"), at(27, "09:30"), [(at(27, "09:00"), "isp")], ev)


def test_daily_text_and_ticket_show_the_hop_table(tmp_path: Path) -> None:
    r = report_of(tmp_path, extra=path_outage)
    text = render_text(r, "id")
    assert "Jalur ke dc-siak: jalur terputus di jaringan ISP, sebelum pusat data" in text
    assert "titik terakhir yang menjawab: 10.20.0.1 (Telkom VPN IP)" in text
    assert "dulu jalur berlanjut ke 10.20.3.1 (Telkom VPN IP)" in text
    assert " 2  *                tidak menjawab" in text
    # Once in the day's incidents, once in the ISP's ticket.
    assert text.count("Jalur ke dc-siak") == 2
    english = render_text(r, "en")
    assert "Path to dc-siak: the path breaks inside the ISP's network" in english
    assert "the path used to continue to 10.20.3.1 (Telkom VPN IP)" in english


def test_html_has_the_hop_table(tmp_path: Path) -> None:
    html = render_html(report_of(tmp_path, extra=path_outage), "id", "c")
    assert "<td>10.20.0.1</td><td>Telkom VPN IP</td>" in html
    assert HOSTILE not in html


def test_unconfirmed_verdict_is_said(tmp_path: Path) -> None:
    def unconfirmed(ledger: Ledger) -> None:
        ev = evidence("dc-siak", **{"dc-siak": ("datacenter", "timeout", 4)})
        ev["path"] = {"confirmed": False, "cause": "no_trace"}
        when = [(at(27, "09:00"), "datacenter")]
        outage(ledger, "outage", at(27, "09:00"), at(27, "09:30"), when, ev)

    text = render_text(report_of(tmp_path, extra=unconfirmed), "id")
    assert "Belum terkonfirmasi: tidak ada penelusuran jalur" in text
