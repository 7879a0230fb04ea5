"""The status page's data (pure, with `now` as an argument), its config, its cache and its routes.

The browser test (tests/test_status_browser.py) drives the same page through every state.
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from monitor import __version__
from monitor.calendar import ServiceCalendar
from monitor.config import Config, ConfigError, parse_config
from monitor.ledger import Ledger
from monitor.report.render import environment
from monitor.sim import SimNetwork
from monitor.status.board import (
    BODY_MAX_AGE,
    POLL_SECONDS,
    WEEK_MAX_AGE,
    DayBar,
    Live,
    StatusBoard,
    Week,
    build_view,
    service_week,
)
from monitor.status.web import words_of
from tests.daemon_helpers import fast_config, running
from tests.fixtures.report.ledger import FRIDAY, at, fill, make_config

ID, EN = words_of("id"), words_of("en")
UP = Live("up", None, None, healthy=True)
NO_WEEK = Week(FRIDAY, 0.0, ())


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return []


def _module_strings(language: str) -> list[str]:
    module = environment(language).get_template(f"report_words.{language}.txt").module  # type: ignore[arg-type]
    return [
        s
        for name in dir(module)
        if not name.startswith("_")
        for s in _strings(getattr(module, name))
    ]


def english_phrases() -> list[str]:
    """Every run of two or more words of the English list that the Indonesian list lacks."""
    indonesian = "\n".join(_module_strings("id"))
    phrases = set()
    for text in _module_strings("en"):
        for part in re.split(r"\{[a-z_]*\}", text):
            part = part.strip(" .,:;()–—[]")
            if len(part.split()) >= 2 and part not in indonesian:
                phrases.add(part)
    return sorted(phrases)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


def _view(config: Config, live: Live, now: float, week: Week = NO_WEEK) -> dict[str, Any]:
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    return build_view(live, week, config, calendar, ID, now)


def test_every_link_state_has_its_sentence_and_tone(config: Config) -> None:
    now = at(27, "10:00")  # Friday, open
    since = at(27, "09:41")
    cases = {
        ("up", None): ("ok", "Layanan berjalan normal"),
        ("down", "datacenter"): ("down", "server pusat tidak dapat dihubungi"),
        ("slow", "datacenter"): ("slow", "server pusat sedang lambat"),
        ("down", "isp"): ("down", "internet kantor terputus"),
        ("down", "local"): ("down", "jaringan kantor terganggu"),
        ("down", "dns"): ("down", "alamat server pusat"),
        ("unknown", None): ("checking", "memeriksa"),
    }
    for (state, domain), (tone, words) in cases.items():
        view = _view(config, Live(state, domain, since if state != "up" else None, True), now)
        assert view["tone"] == tone, (state, domain)
        assert words in view["headline"], view
        if state == "down":
            assert "Perkiraan pulih: belum diketahui" in view["lines"]
            assert "Sejak pukul 09:41" in view["lines"]
        else:
            assert "Perkiraan pulih: belum diketahui" not in view["lines"]
    datacenter = _view(config, Live("down", "datacenter", since, True), now)
    assert "bukan di kantor ini" in " ".join(datacenter["lines"])


def test_an_outage_from_an_earlier_day_names_the_day(config: Config) -> None:
    view = _view(config, Live("down", "datacenter", at(26, "15:10"), True), at(27, "08:00"))
    assert "Sejak Kamis, 26 November 2026 pukul 15:10" in view["lines"]


def test_closed_states_name_the_holiday_or_the_next_opening(config: Config) -> None:
    christmas = date(2026, 12, 25)
    view = _view(config, UP, at(25, "10:00", month=12))
    assert view["tone"] == "closed" and view["headline"] == "Kantor tutup hari ini"
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    holiday = calendar.holiday(christmas)
    assert holiday and f"Hari libur: {holiday}" in view["lines"]
    assert view["hours"]["value"] == "tutup"
    # Friday's break (11:30-13:00) and after closing: the next opening, never "normal".
    lunch = _view(config, Live("down", "isp", at(27, "11:00"), True), at(27, "12:00"))
    assert lunch["headline"] == "Kantor sedang tutup"
    assert "Layanan buka kembali hari ini pukul 13:00." in lunch["lines"]
    evening = _view(config, UP, at(26, "17:00"))
    assert "Layanan buka kembali besok pukul 07:30." in evening["lines"]
    weekend = _view(config, UP, at(27, "17:00"))  # Friday evening: Monday 30th
    assert "Layanan buka kembali Senin, 30 November 2026 pukul 07:30." in weekend["lines"]
    assert _view(config, UP, at(27, "10:00"))["hours"]["value"] == "07:30–11:30, 13:00–16:30"


def test_a_daemon_whose_probes_stopped_never_shows_normal(config: Config) -> None:
    view = _view(config, Live("up", None, None, healthy=False), at(27, "10:00"))
    assert view["tone"] == "stale" and "Layanan berjalan normal" not in json.dumps(view)
    assert "data terakhir diperbarui 10:00" in view["lines"][0]


def test_the_view_is_english_when_configured_and_names_targets_only_when_asked(
    tmp_path: Path,
) -> None:
    data = make_config(tmp_path).model_dump(mode="json", by_alias=True, exclude_none=True)
    data["status_page"] = {"language": "en", "show_targets": True, "notice": "Loket 3 buka."}
    config = parse_config(data)
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    targets = (
        ("lan-gw", "local", "up"),
        ("dc", "datacenter", "unknown"),
        ("isp-gw", "isp", "down"),
    )
    live = Live("down", "isp", at(27, "09:00"), True, targets)
    view = build_view(live, NO_WEEK, config, calendar, EN, at(27, "10:00"))
    assert view["headline"] == EN.status_headline["down/isp"]
    assert "Expected recovery: not known yet" in view["lines"]
    assert view["targets"]["items"] == [  # trouble first: a long list is cut on screen
        {"name": "isp-gw", "role": "ISP", "state": "down", "text": "down"},
        {"name": "dc", "role": "data center", "state": "unknown", "text": "not known yet"},
        {"name": "lan-gw", "role": "office network", "state": "up", "text": "normal"},
    ]
    assert view["notice"] == "Loket 3 buka."
    hidden = _view(make_config(tmp_path), live, at(27, "10:00"))
    assert hidden["targets"] is None and "isp-gw" not in json.dumps(hidden)


def test_service_week_reads_today_and_the_last_seven_service_days(config: Config) -> None:
    ledger = Ledger(config.storage.path, config.office.office_id)
    try:
        fill(ledger)
        calendar = ServiceCalendar(config.service_hours, config.office.zone)
        week = service_week(ledger, calendar, config, at(27, "23:00"))
        noon = service_week(ledger, calendar, config, at(27, "12:00"))
    finally:
        ledger.close()
    assert week.today == FRIDAY and week.today_lost == 85 * 60  # as the daily report says
    assert [d.date.day for d in week.days] == [19, 20, 23, 24, 25, 26, 27]  # weekend skipped
    friday, thursday = week.days[-1], week.days[-2]
    assert (friday.lost, friday.unmonitored, friday.later) == (85 * 60, 25 * 60, 0)
    assert friday.available == 450 * 60 - 85 * 60 - 25 * 60
    assert thursday.lost == 30 * 60 and thursday.available == 450 * 60 - 30 * 60
    # At noon the afternoon is still to come: neither available nor lost.
    assert noon.days[-1].later == 210 * 60
    assert noon.today_lost == (25 + 20) * 60


def test_bars_in_the_view_add_up_to_the_scheduled_time(config: Config) -> None:
    bar = DayBar(FRIDAY, 27000.0, 5100.0, 1500.0, 0.0)
    view = _view(config, UP, at(27, "17:00"), Week(FRIDAY, 5100.0, (bar,)))
    (shown,) = view["days"]["bars"]
    assert shown["lost"] + shown["available"] + shown["unmonitored"] + shown["later"] == 27000
    assert shown["label"] == "Jum 27/11" and shown["text"] == "hilang 1 jam 25 menit"
    assert view["lost_today"]["value"] == "1 jam 25 menit"
    texts = {
        DayBar(FRIDAY, 27000.0, 0.0, 0.0, 0.0): "tanpa gangguan",
        DayBar(FRIDAY, 27000.0, 0.0, 27000.0, 0.0): "tidak terpantau",
        DayBar(FRIDAY, 27000.0, 0.0, 0.0, 27000.0): "belum berjalan",
        DayBar(FRIDAY, 27000.0, 30.0, 26970.0, 0.0): "hilang 30 detik",
    }
    for day, text in texts.items():
        shown = _view(config, UP, at(27, "17:00"), Week(FRIDAY, 0.0, (day,)))
        assert shown["days"]["bars"][0]["text"] == text


def test_the_board_reads_the_ledger_at_most_every_few_seconds(config: Config) -> None:
    clock = {"mono": 100.0}
    reads: list[float] = []

    def week(now: float) -> Week:
        reads.append(now)
        return NO_WEEK

    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    board = StatusBoard(
        config, calendar, ID, lambda: UP, week, lambda: at(27, "10:00"), lambda: clock["mono"]
    )
    first = board.body()
    for _ in range(50):  # fifty screens polling within the same instant
        assert board.body() is first
    clock["mono"] += BODY_MAX_AGE
    board.body()
    assert (board.builds, len(reads)) == (2, 1)
    clock["mono"] += WEEK_MAX_AGE
    board.body()
    assert len(reads) == 2
    # A state change reaches a polling screen within the promised 5 s.
    assert BODY_MAX_AGE + POLL_SECONDS <= 5


def test_config_section_defaults_and_one_line_errors(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    page = config.status_page
    assert (page.enabled, page.language, page.show_targets, page.kiosk) == (
        True, "id", False, False,
    )  # fmt: skip
    data = config.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["status_page"] = {"language": "fr", "colour": "red"}
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert caught.value.problems == [
        "status_page.language: input should be 'id' or 'en'; got 'fr'",
        "status_page.colour: unknown key; remove it or check its spelling",
    ]


async def test_the_daemon_serves_the_page_its_json_and_static_files() -> None:
    async with SimNetwork(icmp=False) as net:
        extra = {"status_page": {"title": "Layar <Antrean>", "notice": "Loket 3 <buka>"}}
        async with running(fast_config(net, **extra)) as daemon:
            base = f"http://127.0.0.1:{daemon.port}"
            async with aiohttp.ClientSession() as http:
                pages = []
                for path in ("/", "/status", "/status?kiosk=1"):
                    async with http.get(base + path) as r:
                        assert r.status == 200 and r.content_type == "text/html"
                        assert r.headers["Cache-Control"] == "no-store"
                        pages.append(await r.text())
                async with http.get(base + "/status.json") as r:
                    assert r.headers["Cache-Control"] == "no-store"
                    raw = await r.read()
                statics = {}
                for name in ("status.css", "status.js", "nope.js", "..%2Fweb.py"):
                    async with http.get(f"{base}/status/static/{name}") as r:
                        statics[name] = (r.status, r.content_type)
                async with http.get(base + "/index.txt") as r:
                    index = await r.text()
    home, status, kiosk = pages
    view = json.loads(raw)
    assert view["tone"] == "ok" and view["headline"] == "Layanan berjalan normal"
    assert len(raw) < 4096  # several screens poll it
    assert view["version"] == __version__  # a screen reloads itself after an upgrade
    assert "Layanan berjalan normal" in home and home == status
    assert "Layar &lt;Antrean&gt;" in home and "<Antrean>" not in home
    assert "Loket 3 \\u003cbuka>" in home and "Loket 3 <buka>" not in home
    assert '<body class="kiosk"' in kiosk and '<body class=""' in home
    assert "http://" not in home.replace(base, "") and "https://" not in home  # no CDN
    assert statics["status.css"] == (200, "text/css")
    assert statics["status.js"] == (200, "text/javascript")
    assert statics["nope.js"][0] == 404 and statics["..%2Fweb.py"][0] == 404
    assert "/metrics" in index
    leaked = [phrase for phrase in english_phrases() if phrase in home]
    assert not leaked


async def test_a_disabled_page_leaves_the_text_index_at_the_root() -> None:
    async with SimNetwork(icmp=False) as net:
        async with running(fast_config(net, status_page={"enabled": False})) as daemon:
            base = f"http://127.0.0.1:{daemon.port}"
            async with aiohttp.ClientSession() as http:
                async with http.get(base + "/") as r:
                    root = await r.text()
                async with http.get(base + "/status.json") as r:
                    missing = r.status
    assert root.startswith("Pantau: ") and missing == 404


def test_the_indonesian_words_have_no_english_and_both_lists_have_the_same_keys() -> None:
    assert len(english_phrases()) > 50
    for name in dir(ID):
        if name.startswith("status_"):
            mine, theirs = getattr(ID, name), getattr(EN, name)
            assert type(mine) is type(theirs), name
            if isinstance(mine, dict):
                assert mine.keys() == theirs.keys(), name


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_every_banner_colour_has_high_contrast_and_the_script_has_no_words() -> None:
    static = Path(__file__).parents[1] / "monitor" / "status" / "static"
    css = (static / "status.css").read_text()
    banners = dict(re.findall(r"\.tone-([a-z]+) \{ background: (#[0-9a-f]{6});", css))
    assert set(banners) >= {"ok", "down", "slow", "closed", "stale"}, banners
    for tone, background in banners.items():
        text = "#111111" if tone == "slow" else "#ffffff"
        light, dark = sorted((_luminance(background), _luminance(text)), reverse=True)
        ratio = (light + 0.05) / (dark + 0.05)
        assert ratio >= 7, f"{tone}: {ratio:.1f}:1 is below WCAG AAA (7:1)"
    script = (static / "status.js").read_text()
    for text in _module_strings("id") + _module_strings("en"):
        words = text.split("{")[0].strip()
        if len(words.split()) >= 2:
            assert words not in script, f"the script must take its words from status.json: {words}"


def test_a_ledger_that_cannot_be_read_leaves_the_headline_live(
    config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    clock = {"mono": 0.0}
    weeks = [Week(FRIDAY, 600.0, ())]

    def week(now: float) -> Week:
        if not weeks:
            raise sqlite3.OperationalError("database is locked")
        return weeks.pop()

    live = {"now": UP}
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    board = StatusBoard(
        config, calendar, ID, lambda: live["now"], week, lambda: at(27, "10:00"),
        lambda: clock["mono"],
    )  # fmt: skip
    assert board.view()["lost_today"]["value"] == "10 menit"
    live["now"] = Live("down", "isp", at(27, "09:59"), True)
    view = board.view()
    assert view["headline"] == ID.status_headline["down/isp"]
    assert view["lost_today"]["value"] == "10 menit"  # the last figures read
    assert "cannot read the ledger" in caplog.text
