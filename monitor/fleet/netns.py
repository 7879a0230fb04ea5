"""Network namespaces for the simulation's real offices: one per office, each joined to the
center's namespace by its own veth pair (its WAN), all named with a per-run prefix and deleted
at the end. Addresses (10.254.<n>.0/30) exist only inside these namespaces."""

from __future__ import annotations

import ctypes
import os
import subprocess
from dataclasses import dataclass, field

CLONE_NEWNET = 0x40000000


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@dataclass
class Wan:
    """The center's namespace and one namespace per real office."""

    prefix: str = field(default_factory=lambda: f"pfleet{os.getpid() % 100000}")
    offices: list[str] = field(default_factory=list)

    @property
    def center(self) -> str:
        return f"{self.prefix}-center"

    def office_ns(self, n: int) -> str:
        return f"{self.prefix}-r{n}"

    def link(self, n: int) -> str:
        return f"{self.prefix}r{n}"[-13:] + "a"

    def center_addr(self, n: int) -> str:
        return f"10.254.{n}.2"

    def up(self, count: int) -> Wan:
        _ip("netns", "add", self.center)
        _ip("-n", self.center, "link", "set", "lo", "up")
        for n in range(1, count + 1):
            ns, office_if, center_if = self.office_ns(n), self.link(n), self.link(n)[:-1] + "b"
            _ip("netns", "add", ns)
            self.offices.append(ns)
            _ip("link", "add", office_if, "netns", ns, "type", "veth", "peer", "name", center_if,
                "netns", self.center)  # fmt: skip
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "addr", "add", f"10.254.{n}.1/30", "dev", office_if)
            _ip("-n", self.center, "addr", "add", f"10.254.{n}.2/30", "dev", center_if)
            _ip("-n", ns, "link", "set", office_if, "up")
            _ip("-n", self.center, "link", "set", center_if, "up")
        return self

    def cut(self, n: int, down: bool) -> None:
        """Cut (or restore) office n's WAN: its vmagent keeps writing to its disk buffer."""
        _ip("-n", self.office_ns(n), "link", "set", self.link(n), "down" if down else "up")

    def enter_center(self) -> None:
        """Move this process into the center's namespace (before any socket or thread)."""
        libc = ctypes.CDLL(None, use_errno=True)
        with open(f"/run/netns/{self.center}") as handle:
            if libc.setns(handle.fileno(), CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns failed")

    def down(self) -> None:
        for ns in [*self.offices, self.center]:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
