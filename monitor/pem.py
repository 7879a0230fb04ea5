"""CA files named in the config (`tls_ca_file`, `report.smtp.ca_file`) must exist and load.

Checked by `pantau check`, not at the first probe or mail: a typo in the path was a `tls`
failure on every probe (an outage that was not one) or a mail that never left.
"""

from __future__ import annotations

import ssl
from pathlib import Path


def check_ca_file(value: Path | None) -> Path | None:
    """`value` if it is a readable file of PEM CA certificates; ValueError that teaches."""
    if value is None:
        return value
    if not value.is_file():
        raise ValueError(
            f"no such file {str(value)!r}; give the path of the CA certificate (PEM) "
            "that signed the server's certificate"
        )
    try:
        ssl.create_default_context(cafile=str(value))
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise ValueError(
            f"cannot load {str(value)!r} as PEM CA certificates ({exc.__class__.__name__}); "
            "give a file with -----BEGIN CERTIFICATE----- blocks"
        ) from None
    return value
