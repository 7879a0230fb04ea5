"""Certificates, web config files and clients for the web server's TLS and auth tests."""

from __future__ import annotations

import base64
import socket
import ssl
from pathlib import Path

import bcrypt
import trustme

# Cost 4 (bcrypt's minimum) keeps the tests fast; the daemon treats every cost alike.
PASSWORD = "rahasia-kantor"
HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()


def write_certs(folder: Path, ca: trustme.CA | None = None, name: str = "one") -> trustme.CA:
    """cert.pem / key.pem for 127.0.0.1 (common name `name`), ca.pem, other-key.pem."""
    ca = ca or trustme.CA()
    cert = ca.issue_cert("127.0.0.1", common_name=name)
    cert.cert_chain_pems[0].write_to_path(str(folder / "cert.pem"))
    cert.private_key_pem.write_to_path(str(folder / "key.pem"))
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    ca.issue_cert("127.0.0.1").private_key_pem.write_to_path(str(folder / "other-key.pem"))
    return ca


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def peer_common_name(port: int, ca: trustme.CA) -> str:
    """The common name of the certificate the server shows in a fresh handshake."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            cert = tls.getpeercert()
    assert cert is not None
    for rdn in cert["subject"]:
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    raise AssertionError(cert)
