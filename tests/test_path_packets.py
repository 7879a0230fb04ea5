"""Paris-style probes keep one flow identifier per trace; every reply names its own probe."""

from __future__ import annotations

import socket
import struct

from monitor.path.packets import (
    checksum,
    icmp_echo,
    parse_icmp,
    parse_tcp,
    tcp_syn,
)

DEST, ROUTER, ME = "10.252.6.2", "10.252.2.2", "10.252.1.2"


def ip_header(src: str, dst: str, proto: int, length: int) -> bytes:
    return struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + length, 1, 0, 64, proto, 0,
        socket.inet_aton(src), socket.inet_aton(dst),
    )  # fmt: skip


def icmp_error(kind: int, code: int, router: str, quoted: bytes) -> bytes:
    body = struct.pack("!BBHI", kind, code, 0, 0) + quoted
    return ip_header(router, ME, 1, len(body)) + body


def test_echo_checksum_is_constant_and_valid_for_every_sequence() -> None:
    sums = set()
    for seq in (1, 2, 77, 300, 65535):
        packet = icmp_echo(0x1234, seq)
        assert checksum(packet) == 0  # valid
        assert struct.unpack("!H", packet[6:8])[0] == seq
        sums.add(packet[2:4])
    assert len(sums) == 1  # one checksum: one flow for a load balancer hashing the ICMP header


def test_time_exceeded_is_matched_to_its_own_echo_only() -> None:
    probe = icmp_echo(0x1234, 42)
    quoted = ip_header(ME, DEST, 1, len(probe)) + probe[:8]
    reply = parse_icmp(icmp_error(11, 0, ROUTER, quoted), DEST, 0x1234, 0, 0)
    assert reply is not None and (reply.key, reply.source, reply.kind) == (
        42,
        ROUTER,
        "time_exceeded",
    )
    # Another trace's echo (other identifier) or another destination: not ours.
    assert parse_icmp(icmp_error(11, 0, ROUTER, quoted), DEST, 0x9999, 0, 0) is None
    assert parse_icmp(icmp_error(11, 0, ROUTER, quoted), "10.9.9.9", 0x1234, 0, 0) is None


def test_echo_reply_and_unreachable() -> None:
    echo = bytearray(icmp_echo(0x1234, 7))
    echo[0] = 0  # echo reply
    packet = ip_header(DEST, ME, 1, len(echo)) + bytes(echo)
    reply = parse_icmp(packet, DEST, 0x1234, 0, 0)
    assert reply is not None and (reply.key, reply.kind) == (7, "reply")
    syn = tcp_syn(ME, DEST, 40000, 443, 123456)
    quoted = ip_header(ME, DEST, 6, len(syn)) + syn[:8]
    refused = parse_icmp(icmp_error(3, 0, ROUTER, quoted), DEST, 0, 40000, 443)
    assert refused is not None and (refused.key, refused.kind, refused.code) == (
        123456,
        "unreachable",
        0,
    )
    assert parse_icmp(icmp_error(3, 0, ROUTER, quoted), DEST, 0, 40001, 443) is None


def test_syn_checksum_and_synack_rst_matching() -> None:
    syn = tcp_syn(ME, DEST, 40000, 443, 5)
    pseudo = socket.inet_aton(ME) + socket.inet_aton(DEST) + struct.pack("!BBH", 0, 6, 20)
    assert checksum(pseudo + syn) == 0
    for flags, reset in ((0x12, 0), (0x14, 1)):
        answer = struct.pack("!HHIIHHHH", 443, 40000, 999, 6, (5 << 12) | flags, 0, 0, 0)
        reply = parse_tcp(ip_header(DEST, ME, 6, 20) + answer, DEST, 40000, 443)
        assert reply is not None and (reply.key, reply.code) == (5, reset)
    bare_syn = struct.pack("!HHIIHHHH", 443, 40000, 999, 0, (5 << 12) | 0x02, 0, 0, 0)
    assert parse_tcp(ip_header(DEST, ME, 6, 20) + bare_syn, DEST, 40000, 443) is None
