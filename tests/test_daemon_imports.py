"""What the long-lived daemon imports (issue 18's memory): libraries it does not use stay out of
its process. Each check runs in a fresh interpreter, since this one has imported everything."""

from __future__ import annotations

import json
import subprocess
import sys

# The daemon's start: its modules, the command line, and every probe kind's module.
DAEMON = (
    "import monitor.daemon, monitor.cli, monitor.cli.run; from monitor import probes; "
    "probes.load({'http', 'tcp', 'icmp', 'dns'}); "
)


def _top_modules(code: str) -> set[str]:
    listing = "import json, sys; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    out = subprocess.run(
        [sys.executable, "-c", code + listing], capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout))


def test_the_daemon_carries_no_aiohttp() -> None:
    """aiohttp with yarl, multidict, frozenlist, aiosignal and attrs is ~10 MB of RSS; the
    daemon's server and probes have their own HTTP/1.1 (h11)."""
    loaded = _top_modules(DAEMON)
    assert "h11" in loaded and "monitor" in loaded  # the check sees the daemon's imports
    assert not loaded & {"aiohttp", "yarl", "multidict", "frozenlist", "aiosignal", "attr"}


def test_re2_comes_with_the_first_body_regex_only() -> None:
    assert "re2" not in _top_modules(DAEMON)
    compiled = DAEMON + "from monitor.body_match import compile_body_regex as c; c('SIAK OK'); "
    assert "re2" in _top_modules(compiled)
