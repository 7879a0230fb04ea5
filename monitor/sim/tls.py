"""Certificates for the simulated data center: one CA, a good leaf and the broken ones."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import trustme
from cryptography import x509

CertVariant = Literal["good", "expired", "wrong_name", "untrusted"]
CERT_VARIANTS: tuple[CertVariant, ...] = ("good", "expired", "wrong_name", "untrusted")
IDENTITIES = ("127.0.0.1", "localhost", "::1")


class TlsMaterial:
    """A trustme CA and four leaves: good, expired, wrong_name (for another host), untrusted.

    `untrusted` is valid for 127.0.0.1 but signed by a second CA nobody trusts. Write the
    trusted CA with `write_ca()` and point a target's `tls_ca_file` at it.
    """

    def __init__(self, identities: tuple[str, ...] = IDENTITIES) -> None:
        self.ca = trustme.CA(organization_name="Pantau simulated data center")
        now = datetime.now(UTC)
        self.leaves: dict[CertVariant, trustme.LeafCert] = {
            "good": self.ca.issue_cert(*identities),
            "expired": self.ca.issue_cert(
                *identities, not_before=now - timedelta(days=30), not_after=now - timedelta(days=1)
            ),
            "wrong_name": self.ca.issue_cert("siak.other-office.invalid"),
            "untrusted": trustme.CA().issue_cert(*identities),
        }
        self._contexts: dict[CertVariant, ssl.SSLContext] = {}

    def write_ca(self, path: str | Path) -> Path:
        """Write the trusted CA certificate (PEM) to `path`; returns the path."""
        path = Path(path)
        self.ca.cert_pem.write_to_path(str(path))
        return path

    def not_after(self, variant: CertVariant = "good") -> datetime:
        """The leaf's notAfter (UTC), what the HTTP probe reports as certificate expiry."""
        pem = self.leaves[variant].cert_chain_pems[0].bytes()
        return x509.load_pem_x509_certificate(pem).not_valid_after_utc

    def server_context(self, variant: CertVariant = "good") -> ssl.SSLContext:
        """A server-side SSLContext presenting the given leaf (cached per variant)."""
        if variant not in self._contexts:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.leaves[variant].configure_cert(context)
            self._contexts[variant] = context
        return self._contexts[variant]

    def client_context(self) -> ssl.SSLContext:
        """A client-side SSLContext that trusts only this CA."""
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context
