"""Per-target `source:` (bind to an address or an interface) and `uplink:` (a name), validated.

targets:
  - {name: dc-siak, role: datacenter, kind: http, url: https://10.1.2.3/,
     uplink: fiber, source: {address: 10.0.0.2}}
  - {name: dc-siak-4g, role: datacenter, kind: http, url: https://10.1.2.3/,
     uplink: 4g, source: {interface: wwan0}}
"""

from __future__ import annotations

import ipaddress
import re

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

_UPLINK = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_IFNAME = re.compile(r"^[A-Za-z0-9_.:@-]{1,15}$")  # IFNAMSIZ is 16 with the NUL


class Source(BaseModel):
    """Where a probe leaves from: a local address (bind) or an interface (SO_BINDTODEVICE)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    address: str | None = None
    interface: str | None = None

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ipaddress.ip_address(value)
            except ValueError:
                raise ValueError(
                    f"must be an IP address of this machine (e.g. 10.0.0.2); got {value!r}"
                ) from None
        return value

    @field_validator("interface")
    @classmethod
    def _interface(cls, value: str | None) -> str | None:
        if value is not None and not _IFNAME.match(value):
            raise ValueError(
                f"must be an interface name of at most 15 characters (e.g. wwan0); got {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _one(self) -> Source:
        if (self.address is None) == (self.interface is None):
            raise ValueError(
                "write exactly one of address: (e.g. 10.0.0.2) or interface: (e.g. wwan0)"
            )
        return self


def check_uplink(value: str | None) -> str | None:
    """An uplink name: a bounded label value (lower-case letters, digits, '-', '_')."""
    if value is not None and not _UPLINK.match(value):
        raise ValueError(
            "must be a short name of lower-case letters, digits, '-' or '_' "
            f"(at most 32, e.g. fiber or 4g); got {value!r}"
        )
    return value
