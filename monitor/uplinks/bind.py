"""Probe sockets that leave through one uplink: bound to a local address, or to an interface
with SO_BINDTODEVICE (the kernel then routes only through that device, whatever the default
route says). Every probe kind takes its socket from here when its target sets `source:`.

SO_BINDTODEVICE needs CAP_NET_RAW (root) on kernels before 5.7; later ones allow it for an
unprivileged process too. A binding the kernel refuses is a failed probe (`permission`).
"""

from __future__ import annotations

import errno
import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.uplinks.config import Source

SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)  # linux/socket.h


def bind(sock: socket.socket, source: Source | None) -> None:
    """Bind `sock` to the source's address (any port) or device; nothing without a source."""
    if source is None:
        return
    if source.interface is not None:
        sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, source.interface.encode())
    elif source.address is not None:
        sock.bind((source.address, 0))


def local_addr(source: Source | None) -> tuple[str, int] | None:
    """The (address, 0) a library binds to, when the source is an address."""
    return (source.address, 0) if source is not None and source.address else None


# --- what `pantau check` and `pantau run` say -----------------------------------------------
def missing(source: Source) -> str | None:
    """Why `source` cannot be used on this machine, or None."""
    if source.interface is not None:
        try:
            socket.if_nametoindex(source.interface)
        except OSError:
            return f"interface {source.interface!r} does not exist on this machine"
        return None
    assert source.address is not None
    family = socket.AF_INET6 if ":" in source.address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((source.address, 0))
        except OSError as exc:
            if exc.errno == errno.EADDRNOTAVAIL:
                return f"address {source.address} is not an address of this machine"
            return f"cannot bind to {source.address} ({exc.strerror})"
    return None


def source_problems(config: Config) -> list[str]:
    """One line per target whose `source:` does not exist here (field path: what to write)."""
    problems = []
    for index, target in enumerate(config.targets):
        if target.source is None:
            continue
        why = missing(target.source)
        if why is not None:
            key = "interface" if target.source.interface else "address"
            problems.append(
                f"targets[{index}].source.{key}: {why}; write one that `ip address` lists"
            )
    return problems
