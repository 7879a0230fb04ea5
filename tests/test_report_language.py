"""No English in the Indonesian report, and a chart where every outage can be seen."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from monitor.calendar import ServiceCalendar
from monitor.ledger import Ledger
from monitor.probes.result import REASONS
from monitor.report.chart import render_chart, words_of
from monitor.report.model import DailyReport, LedgerData, build_report
from monitor.report.render import render_html, render_subject, render_text, render_ticket
from tests.fixtures.report.ledger import at, evidence, make_config, outage
from tests.test_report_model import report_of


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)


def phrases(language: str) -> set[str]:
    """Every run of words between placeholders and punctuation in a word list, lower case."""
    module = words_of(language)
    found = set()
    for name in dir(module):
        if name.startswith("_"):
            continue
        for text in _strings(getattr(module, name)):
            for piece in re.split(r"\{[a-z_0-9]+\}|[.,;:()\[\]—–/=÷%]", text):
                piece = " ".join(piece.split()).lower()
                if piece:
                    found.add(piece)
    return found


def english_only() -> set[str]:
    """English phrases of two words or more, or one long word, that Indonesian never uses."""
    indonesian = " | ".join(sorted(phrases("id")))
    return {p for p in phrases("en") if (" " in p or len(p) >= 7) and p not in indonesian}


def raw_codes() -> set[str]:
    """Codes from the ledger that must be translated, never shown as they are."""
    indonesian = " | ".join(sorted(phrases("id")))
    codes = {*REASONS, "daemon not running", "not_monitored_yet", "daemon_not_running"}
    return {c for c in codes if c not in indonesian}


def scenarios(tmp_path: Path) -> Iterator[tuple[str, DailyReport]]:
    yield "outages, slow, gap, tickets", report_of(tmp_path / "a")
    yield "closed day with an outage", report_of(tmp_path / "b", day=date(2026, 11, 22))

    def still_down(ledger: Ledger) -> None:
        outage(ledger, "outage", at(30, "09:00"), None, [(at(30, "09:00"), "datacenter")],
               evidence("dc-siak", **{"dc-siak": ("datacenter", "refused", 3)}))  # fmt: skip
        ledger.beat(at(30, "10:00"))

    yield (
        "partial day, open outage",
        report_of(tmp_path / "c", day=date(2026, 11, 30), now=at(30, "10:00"), extra=still_down),
    )
    yield "daemon dead all day", report_of(tmp_path / "d", day=date(2026, 11, 30))
    config = make_config(tmp_path)
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    never = LedgerData((), (), ())
    yield "no heartbeat ever", build_report(never, calendar, config, date(2026, 11, 30),
                                            at(30, "17:00"))  # fmt: skip
    installed = LedgerData((), (), (), last_seen=at(30, "16:00"), first_seen=at(30, "10:00"))
    yield "install day", build_report(installed, calendar, config, date(2026, 11, 30),
                                      at(30, "16:01"))  # fmt: skip


def rendered(report: DailyReport, language: str) -> str:
    tickets = [render_ticket(report, t, language) for t in report.tickets]
    return "\n".join(
        [render_subject(report, language), render_text(report, language),
         render_html(report, language, "c"), *tickets]
    )  # fmt: skip


def test_the_indonesian_report_has_no_english(tmp_path: Path) -> None:
    english = english_only()
    assert {"still going on", "first failing hop", "not monitored"} <= english  # the check bites
    assert {"timeout", "refused", "daemon not running"} <= raw_codes()
    for name, report in scenarios(tmp_path):
        text = rendered(report, "id").lower()
        leaks = sorted(p for p in english | raw_codes() if re.search(rf"\b{re.escape(p)}\b", text))
        assert leaks == [], (name, leaks)
        # ...and the English report does use them: the phrases list is the real one.
        assert any(p in rendered(report, "en").lower() for p in english), name


def _plot_columns(png: bytes) -> set[int]:
    """x of pixel columns in the plot with an outage colour (ISP orange, blended)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = image.size
    pixels = image.load()
    assert pixels is not None
    columns = set()
    for x in range(width):
        for y in range(height // 3, height * 2 // 3):
            r, g, b = pixels[x, y]
            if r > 200 and 140 < g < 200 and b < 150:
                columns.add(x)
                break
    return columns


@pytest.mark.parametrize("language", ["id", "en"])
def test_an_18_second_outage_is_visible_on_the_chart(tmp_path: Path, language: str) -> None:
    def short(ledger: Ledger) -> None:
        start = at(30, "10:00")
        outage(ledger, "outage", start, start + 18, [(start, "isp")], evidence("isp-gw"))
        ledger.beat(at(30, "17:00"))

    report = report_of(tmp_path, day=date(2026, 11, 30), now=at(30, "17:00"), extra=short)
    columns = _plot_columns(render_chart(report, language))
    assert len(columns) >= 3, columns  # about 4 px wide, not a quarter of a pixel
