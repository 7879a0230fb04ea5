"""A bulk download with a clamped TCP window: the office's own traffic filling a capped link.

    ip netns exec plab1-office python -m tests.lab.load 10.251.9.1:9000 --window 40000

With the receive window clamped to W bytes, at most W bytes are in flight, and on a link capped
by `tc tbf` they wait in the qdisc: a standing queue of W bytes, i.e. W / rate seconds of extra
delay for every packet that shares it, with no drops (the tbf limit is far above W). That is
how a saturated ISP link feels from the office: everything slow, nothing lost.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time

from monitor.sim.__main__ import host_port


def receive(host: str, port: int, window: int, seconds: float) -> int:
    """Read from host:port until `seconds` pass; returns the bytes received."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_WINDOW_CLAMP, window)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, window)
    sock.settimeout(5.0)
    sock.connect((host, port))
    total = 0
    # Say when the data flows: the fault (a full link) starts then, not when Python started.
    print("flowing", flush=True)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            total += len(chunk)
    finally:
        sock.close()
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.lab.load")
    parser.add_argument("source", type=host_port, help="host:port of a --bulk server")
    parser.add_argument("--window", type=int, default=40_000, help="receive window, bytes")
    parser.add_argument("--seconds", type=float, default=600.0, help="stop after this long")
    args = parser.parse_args(argv)
    try:
        receive(*args.source, args.window, args.seconds)
    except OSError as exc:
        print(f"tests.lab.load: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
