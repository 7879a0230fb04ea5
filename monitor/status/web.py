"""The status page's routes: `/` and `/status` (the page), `/status.json`, `/status/static/*`.

The page is one HTML document rendered with the first view-model inside it, so it shows the
state at once; its script then polls `status.json` (a relative URL, so a reverse proxy may
mount the page under any path) and decides by itself when its data has gone stale.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from typing import Protocol, cast

from markupsafe import Markup

from monitor import __version__
from monitor.calendar import ServiceCalendar
from monitor.clock import Clock
from monitor.config import Config
from monitor.httpserver import Request, Response, Routes, not_found
from monitor.ledger import Ledger
from monitor.report.render import environment
from monitor.status.board import Live, StatusBoard, Week, Words, service_week
from monitor.tracker import LinkTracker

STATIC = {"status.css": "text/css", "status.js": "text/javascript"}
NO_STORE = [("Cache-Control", "no-store")]
PATHS = ("/", "/status", "/status.json", "/status/static/")
"""What the page needs; the web config may make exactly these public."""


def words_of(language: str) -> Words:
    """The word list of `language` as a module: `words.status_headline["up"]`."""
    template = environment(language).get_template(f"report_words.{language}.txt")  # type: ignore[arg-type]
    return cast(Words, template.module)


class Source(Protocol):
    """What the page reads from the daemon (monitor.daemon.Daemon), named here so this
    module does not import the room above it."""

    config: Config
    calendar: ServiceCalendar
    clock: Clock
    tracker: LinkTracker | None

    @property
    def ledger(self) -> Ledger | None: ...  # read only: the daemon's is a Ledger subclass

    def healthy(self) -> bool: ...


def board_for(daemon: Source) -> StatusBoard:
    """A board reading the daemon's live verdict, ledger, calendar and clock."""
    config = daemon.config

    def live() -> Live:
        tracker = daemon.tracker
        if tracker is None:
            return Live("unknown", None, None, healthy=False)
        episode = tracker.episode
        fleet = getattr(daemon, "fleet", None)  # issue 15: the center's last answer, if any
        states = {name: state.state for name, state in tracker.targets.items()}
        return Live(
            tracker.verdict.state,
            tracker.verdict.domain,
            None if episode is None else episode.started_at,
            healthy=daemon.healthy(),
            # From the config when asked, not a copy kept for the daemon's life (issue 18).
            targets=tuple((t.name, t.role, states.get(t.name, "unknown")) for t in config.targets),
            degraded=tracker.uplink_watch is not None
            and tracker.uplink_watch.last is not None
            and tracker.uplink_watch.last.degraded,
            fleet=None if fleet is None else fleet.as_dict(),  # the board checks it is current
        )

    def week(now: float) -> Week:
        assert daemon.ledger is not None
        return service_week(daemon.ledger, daemon.calendar, config, now)

    words = words_of(config.status_page.language)
    return StatusBoard(config, daemon.calendar, words, live, week, daemon.clock.wall)


class StatusPages:
    """The page's routes, reading one board."""

    def __init__(self, board: StatusBoard) -> None:
        self.board = board

    async def page(self, request: Request) -> Response:
        board = self.board
        settings = board.config.status_page
        words = board.words
        kiosk = settings.kiosk or request.query.get("kiosk", "") in ("1", "true", "yes")
        body = board.body().decode()
        html = _template(settings.language).render(
            language=settings.language,
            title=settings.title or words.status_title,
            office=board.config.office.name,
            timezone=board.config.office.timezone,
            kiosk=kiosk,
            view=json.loads(body),
            # A ledger value inside <script> must not close it: JSON allows \u003c for "<".
            initial=Markup(body.replace("<", "\\u003c")),
            version=__version__,
            words=words,
        )
        return Response(body=html.encode(), content_type="text/html; charset=utf-8",
                        headers=list(NO_STORE))  # fmt: skip

    async def status_json(self, request: Request) -> Response:
        return Response(body=self.board.body(), content_type="application/json; charset=utf-8",
                        headers=list(NO_STORE))  # fmt: skip


@lru_cache(maxsize=2)
def _template(language: str):  # type: ignore[no-untyped-def]
    return environment(language).get_template("status_page.html")  # type: ignore[arg-type]


async def static(request: Request) -> Response:
    name = request.tail
    if name not in STATIC:
        return not_found()
    return Response(
        body=_static(name),
        content_type=f"{STATIC[name]}; charset=utf-8",
        headers=[("Cache-Control", "max-age=300")],
    )


@lru_cache(maxsize=len(STATIC))
def _static(name: str) -> bytes:
    return files("monitor.status").joinpath("static", name).read_bytes()


def add_status_page(routes: Routes, board: StatusBoard) -> None:
    """Route the page, its JSON and its static files on the daemon's routes."""
    pages = StatusPages(board)
    routes.get("/", pages.page)
    routes.get("/status", pages.page)
    routes.get("/status.json", pages.status_json)
    routes.get("/status/static/{name}", static)
