"""Start a real Alertmanager (Debian package) on 127.0.0.1 for a test, and stop it by its PID."""

from __future__ import annotations

import json
import shutil
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.prometheus import free_port, ready_server
from tests.support.tools import REPO, require_tool

BINARY = "prometheus-alertmanager"  # Debian's name for the alertmanager binary
CONFIG = REPO / "config" / "alertmanager" / "alertmanager.yml"  # the shipped config
TEMPLATES = sorted(CONFIG.parent.glob("*.tmpl"))
SECRETS = ("smtp_password", "page_webhook_token", "deadmans_switch_token")


@contextmanager
def alertmanager(workdir: Path, config_text: str) -> Iterator[str]:
    """Run Alertmanager with `config_text`; yields its base URL once it is ready."""
    binary = require_tool(BINARY)
    port = free_port()
    path = workdir / "alertmanager.yml"
    path.write_text(config_text)
    path.chmod(0o600)  # the 0.25 variant inlines a (placeholder) bot token
    argv = [binary, f"--config.file={path}", f"--storage.path={workdir / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            # No cluster: otherwise it gossips on 0.0.0.0:9094.
            "--cluster.listen-address=", "--log.level=debug"]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    with ready_server("alertmanager", argv, base, workdir / "alertmanager.log") as ready:
        yield ready


def alerts(base: str, **filters: str) -> list[dict[str, Any]]:
    """The alerts Alertmanager holds (API v2), optionally filtered by label equality."""
    query = "&".join(
        "filter=" + urllib.parse.quote(f'{k}="{v}"') for k, v in sorted(filters.items())
    )
    with urllib.request.urlopen(f"{base}/api/v2/alerts?{query}", timeout=5) as r:
        found = json.load(r)
    assert isinstance(found, list), found
    return found


def config_for(secrets_dir: Path, directory: Path | None = None) -> str:
    """The shipped config with its secrets under secrets_dir, exactly as shipped otherwise.

    Its templates are copied to `directory` (where the config will be written): Alertmanager
    reads them relative to the config file.
    """
    for template in TEMPLATES:
        shutil.copy(template, (directory or secrets_dir) / template.name)
    return CONFIG.read_text().replace("/etc/alertmanager/secrets", str(secrets_dir))
