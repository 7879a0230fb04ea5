"""A real Prometheus scrapes a Pantau behind TLS and basic auth, with the job block shipped
(commented) in config/prometheus/prometheus.yml; a wrong password is refused."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import yaml

from monitor.config import parse_config
from monitor.daemon import Daemon
from tests.prometheus_helpers import api, prometheus
from tests.webtls_helpers import HASH, PASSWORD, write_certs

SHIPPED = Path(__file__).parents[1] / "config" / "prometheus" / "prometheus.yml"


def shipped_tls_job() -> dict[str, Any]:
    """The commented job between the markers, uncommented (one `# ` off each line)."""
    text = SHIPPED.read_text()
    block = text.split("# --- pantau with TLS and basic auth ---\n")[1].split("# --- end ---")[0]
    lines = [line.lstrip().removeprefix("#")[1:] for line in block.splitlines()]
    (job,) = yaml.safe_load("\n".join(lines))
    assert job["job_name"] == "pantau" and job["scheme"] == "https"
    return dict(job)


async def test_prometheus_scrapes_pantau_over_tls_with_basic_auth(tmp_path: Path) -> None:
    write_certs(tmp_path)
    (tmp_path / "web.yml").write_text(
        "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n"
        f"basic_auth_users:\n  prometheus: '{HASH}'\n"
    )
    (tmp_path / "password").write_text(PASSWORD)
    (tmp_path / "wrong").write_text("bukan-sandinya")
    config = parse_config({
        "office": {"name": "Kantor Uji", "id": "grobogan"},
        "listen": "127.0.0.1:0",
        "storage": {"path": str(tmp_path / "pantau.db")},
        "targets": [
            {"name": "dc", "role": "datacenter", "kind": "tcp", "host": "127.0.0.1", "port": 9}
        ],
        "web": {"config_file": str(tmp_path / "web.yml")},
    })  # fmt: skip
    async with Daemon(config) as daemon:
        target = f"127.0.0.1:{daemon.port}"
        good = shipped_tls_job()
        good["basic_auth"]["password_file"] = str(tmp_path / "password")
        good["tls_config"]["ca_file"] = str(tmp_path / "ca.pem")
        good["static_configs"] = [{"targets": [target], "labels": {"office": "grobogan"}}]
        wrong = {**good, "job_name": "wrong-password",
                 "basic_auth": {"username": "prometheus",
                                "password_file": str(tmp_path / "wrong")}}  # fmt: skip
        prom_config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "900ms"},
            "scrape_configs": [good, wrong],
        }
        (tmp_path / "prom").mkdir()
        with prometheus(tmp_path / "prom", prom_config) as base:
            deadline = time.monotonic() + 30
            while True:
                targets = await asyncio.to_thread(api, base, "/api/v1/targets")
                health = {t["labels"]["job"]: (t["health"], t["lastError"])
                          for t in targets["activeTargets"]}  # fmt: skip
                if (
                    health.get("pantau", ("",))[0] == "up"
                    and health.get("wrong-password", ("",))[0] == "down"
                ):
                    break
                assert time.monotonic() < deadline, health
                await asyncio.sleep(0.3)
            result = await asyncio.to_thread(
                api, base, "/api/v1/query", query='pantau_office_info{job="pantau"}'
            )
    (sample,) = result["result"]
    assert sample["metric"]["office"] == "grobogan"
    assert "401" in health["wrong-password"][1]
