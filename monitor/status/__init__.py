"""The front-desk status page (issue 13): what a citizen in the waiting room reads on a screen.

`board` turns the daemon's live state and the ledger into one small view-model with every
sentence already in the page's language; `web` serves it at `/`, `/status`, `/status.json` and
`/status/static/`; `static/` holds the page's CSS and JavaScript (no CDN, no web fonts).
"""
