"""The daemon behind its web config file: basic auth (401 + WWW-Authenticate), public paths for
the status page, response headers, a rate limit, bcrypt kept off the loop and cached, the file
and the certificates re-read when they change, client certificates."""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import bcrypt
import pytest
import trustme

from monitor.config import WebSettings, parse_config
from monitor.daemon import Daemon
from monitor.status.web import PATHS as STATUS_PATHS
from monitor.webfront import _matches
from tests.webtls_helpers import HASH, PASSWORD, basic, peer_common_name, write_certs


def _config(tmp_path: Path, **web: Any) -> dict[str, Any]:
    return {
        "office": {"name": "Kantor Uji"},
        "listen": "127.0.0.1:0",
        "storage": {"path": str(tmp_path / "pantau.db")},
        # Port 9 on loopback refuses: the probes have something to do, nothing leaves the host.
        "targets": [
            {"name": "dc", "role": "datacenter", "kind": "tcp", "host": "127.0.0.1", "port": 9}
        ],
        "web": {"config_file": str(tmp_path / "web.yml"), **web},
    }


@asynccontextmanager
async def daemon_with(tmp_path: Path, web_yml: str, **web: Any) -> AsyncIterator[Daemon]:
    (tmp_path / "web.yml").write_text(web_yml)
    async with Daemon(parse_config(_config(tmp_path, **web))) as daemon:
        yield daemon


USERS = f"basic_auth_users:\n  prometheus: '{HASH}'\n"
HEADERS = "http_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n"


async def _get(url: str, auth: str | None = None, **kw: Any) -> tuple[int, dict[str, str], str]:
    headers = {"Authorization": auth} if auth else {}
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers, **kw) as r:
        return r.status, dict(r.headers), await r.text()


async def test_credentials_guard_metrics_and_api_and_the_status_paths_stay_public(
    tmp_path: Path,
) -> None:
    async with daemon_with(tmp_path, USERS + HEADERS) as daemon:
        base = f"http://127.0.0.1:{daemon.port}"
        for path in ("/metrics", "/api/status", "/api/outages?from=2026-12-01", "/nope"):
            for auth in (None, basic("prometheus", "salah"), basic("tamu", PASSWORD), "Bearer x",
                         "Basic !!!", basic("prometheus", PASSWORD + "x")):  # fmt: skip
                status, headers, body = await _get(base + path, auth)
                assert status == 401, (path, auth)
                assert headers["WWW-Authenticate"] == 'Basic realm="Pantau", charset="UTF-8"'
                assert headers["X-Content-Type-Options"] == "nosniff"
                assert "pantau_" not in body
        good = basic("prometheus", PASSWORD)
        status, headers, body = await _get(base + "/metrics", good)
        assert status == 200 and "pantau_probes_total" in body
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert (await _get(base + "/api/status", good))[0] == 200
        for public in ("/healthz", "/", "/status", "/status.json", "/status/static/status.css"):
            status, headers, _ = await _get(base + public)
            assert status == 200, public
            assert headers["X-Content-Type-Options"] == "nosniff"


def test_every_status_page_path_is_public_by_default() -> None:
    """The contract with the status page (issue 13): what it serves, a LAN screen may read."""
    rules = WebSettings().public_paths
    for path in STATUS_PATHS:
        prefix = len(path) > 1 and path.endswith("/")
        assert _matches(rules, path + "status.css" if prefix else path), path
    for private in ("/metrics", "/api/status", "/api/outages", "/index.txt"):
        assert not _matches(rules, private)


async def _raw_get(port: int, target: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return answer


@pytest.mark.parametrize(
    "target",
    ["/status/static/../metrics", "/status/static/%2e%2e/metrics", "/status/static/..%2fmetrics",
     "/healthz/../metrics", "//metrics", "/status/static/../api/status", "/metrics?x=/healthz",
     "/./metrics", "/metrics/"],
)  # fmt: skip
async def test_public_prefixes_do_not_open_the_metrics(tmp_path: Path, target: str) -> None:
    async with daemon_with(tmp_path, USERS) as daemon:
        assert daemon.port is not None
        answer = await _raw_get(daemon.port, target)
    assert b"pantau_" not in answer
    assert answer.split(b"\r\n", 1)[0].split()[1] in (b"401", b"404", b"400"), answer[:200]


async def test_a_scraper_costs_one_bcrypt_check_then_none(tmp_path: Path) -> None:
    async with daemon_with(tmp_path, USERS) as daemon:
        assert daemon.web_front is not None
        auth = daemon.web_front.auth
        url = f"http://127.0.0.1:{daemon.port}/metrics"
        for _ in range(10):
            assert (await _get(url, basic("prometheus", PASSWORD)))[0] == 200
        for _ in range(5):
            assert (await _get(url, basic("prometheus", "salah")))[0] == 401
    assert auth.bcrypt_checks == 2


async def test_a_flood_of_wrong_passwords_does_not_hold_up_a_known_scraper(tmp_path: Path) -> None:
    """bcrypt runs in its own thread, a few checks wait at most, the rest are refused at once."""
    slow = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(10)).decode()  # ~95 ms per check
    async with daemon_with(tmp_path, f"basic_auth_users:\n  prometheus: '{slow}'\n") as daemon:
        assert daemon.web_front is not None
        auth = daemon.web_front.auth
        url = f"http://127.0.0.1:{daemon.port}/metrics"
        good = basic("prometheus", PASSWORD)
        assert (await _get(url, good))[0] == 200  # cached from now on
        async with aiohttp.ClientSession() as http:

            async def wrong(i: int) -> int:
                headers = {"Authorization": basic("prometheus", f"tebakan-{i}")}
                async with http.get(url, headers=headers) as r:
                    return r.status

            flood = [asyncio.create_task(wrong(i)) for i in range(40)]
            await asyncio.sleep(0.05)
            async with http.get(url, headers={"Authorization": good}) as r:
                assert r.status == 200
                served_while_waiting = auth.waiting
            statuses = await asyncio.gather(*flood)
    assert statuses == [401] * 40
    assert served_while_waiting > 0  # the scrape did not queue behind the pending checks
    assert auth.refused_busy > 0 and auth.bcrypt_checks < 41


async def test_public_paths_can_be_closed_too(tmp_path: Path) -> None:
    async with daemon_with(tmp_path, USERS, public_paths=[]) as daemon:
        status, headers, _ = await _get(f"http://127.0.0.1:{daemon.port}/healthz")
    assert status == 401 and "WWW-Authenticate" in headers


async def test_rate_limit(tmp_path: Path) -> None:
    async with daemon_with(tmp_path, "rate_limit:\n  interval: 1h\n  burst: 2\n") as daemon:
        url = f"http://127.0.0.1:{daemon.port}/healthz"
        statuses = [(await _get(url))[0] for _ in range(3)]
    assert statuses == [200, 200, 429]


async def test_the_web_config_is_re_read_when_it_changes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with daemon_with(tmp_path, USERS) as daemon:
        url = f"http://127.0.0.1:{daemon.port}/metrics"
        assert (await _get(url, basic("prometheus", PASSWORD)))[0] == 200
        new = bcrypt.hashpw(b"sandi-baru", bcrypt.gensalt(4)).decode()
        _replace(tmp_path / "web.yml", f"basic_auth_users:\n  grafana: '{new}'\n" + HEADERS)
        assert (await _get(url, basic("prometheus", PASSWORD)))[0] == 401
        status, headers, _ = await _get(url, basic("grafana", "sandi-baru"))
        assert status == 200 and headers["X-Content-Type-Options"] == "nosniff"
        with caplog.at_level(logging.ERROR, logger="pantau.web"):
            _replace(tmp_path / "web.yml", "basic_auth_users:\n  grafana: sandi-baru\n")
            assert (await _get(url, basic("grafana", "sandi-baru")))[0] == 200
        assert "basic_auth_users: grafana: must be a bcrypt hash" in caplog.text


def _replace(path: Path, text: str) -> None:
    """Write beside, then rename over: what editors, config management and certbot do."""
    fresh = path.with_suffix(".new")
    fresh.write_text(text)
    os.replace(fresh, path)


TLS = "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n"


async def test_a_renewed_certificate_is_served_from_the_next_handshake(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ca = write_certs(tmp_path, name="sertifikat-lama")
    async with daemon_with(tmp_path, TLS + USERS) as daemon:
        assert daemon.port is not None
        port = daemon.port
        assert await asyncio.to_thread(peer_common_name, port, ca) == "sertifikat-lama"
        renewed = ca.issue_cert("127.0.0.1", common_name="sertifikat-baru")
        # Half a renewal: the new certificate, the old key. The old pair stays in service.
        with caplog.at_level(logging.ERROR, logger="pantau.web"):
            renewed.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.new"))
            os.replace(tmp_path / "cert.new", tmp_path / "cert.pem")
            assert await asyncio.to_thread(peer_common_name, port, ca) == "sertifikat-lama"
        assert "cannot load the changed certificate files" in caplog.text
        renewed.private_key_pem.write_to_path(str(tmp_path / "key.new"))
        os.replace(tmp_path / "key.new", tmp_path / "key.pem")
        assert await asyncio.to_thread(peer_common_name, port, ca) == "sertifikat-baru"
        context = ssl.create_default_context()
        ca.configure_trust(context)
        status, _, body = await _get(
            f"https://127.0.0.1:{port}/metrics", basic("prometheus", PASSWORD), ssl=context
        )
        assert status == 200 and "pantau_probes_total" in body


async def test_client_certificates_and_allowed_names(tmp_path: Path) -> None:
    server_ca = write_certs(tmp_path)
    client_ca = trustme.CA()
    client_ca.cert_pem.write_to_path(str(tmp_path / "clients-ca.pem"))
    web = TLS + (
        "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: clients-ca.pem\n"
        "  client_allowed_sans: [prometheus.kantor]\n"
    )
    async with daemon_with(tmp_path, web) as daemon:
        url = f"https://127.0.0.1:{daemon.port}/metrics"

        def context(client: trustme.CA | None, name: str = "prometheus.kantor") -> ssl.SSLContext:
            ctx = ssl.create_default_context()
            server_ca.configure_trust(ctx)
            if client is not None:
                client.issue_cert(name).configure_cert(ctx)
            return ctx

        assert (await _get(url, ssl=context(client_ca)))[0] == 200
        assert (await _get(url, ssl=context(client_ca, "grafana.kantor")))[0] == 403
        for refused in (context(None), context(trustme.CA())):  # none, or from another CA
            with pytest.raises((aiohttp.ClientError, ssl.SSLError, ConnectionError)):
                await _get(url, ssl=refused)
