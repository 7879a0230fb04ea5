"""Bytes on the wire for the path tracer: Paris-style probes and the replies that name them.

Pure functions, no sockets. A probe's flow identifier (what a load-balancing router hashes) is
constant for a whole trace: ICMP echo keeps one identifier *and one checksum* (the sequence
number varies, two payload bytes compensate), TCP SYN keeps one source and destination port
(the sequence number varies). Each probe is matched by its own number, which every reply quotes:
an echo reply carries the sequence, a time-exceeded or unreachable message quotes our IP header
and the first 8 bytes behind it (ICMP id/seq, or TCP ports and sequence number), and a SYN-ACK or
RST acknowledges our sequence + 1. A late reply therefore never counts for another hop.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from typing import Literal

ICMP_ECHO_REPLY, ICMP_UNREACHABLE, ICMP_ECHO, ICMP_TIME_EXCEEDED = 0, 3, 8, 11
# Readable names of the unreachable codes a router sends (RFC 792, RFC 1812).
UNREACHABLE_CODES = {
    0: "network unreachable",
    1: "host unreachable",
    2: "protocol unreachable",
    3: "port unreachable",
    4: "fragmentation needed",
    9: "network administratively prohibited",
    10: "host administratively prohibited",
    13: "administratively prohibited",
}
PAYLOAD = b"pantau-path" + b"\0" * 3  # 14 bytes + 2 compensation bytes = 16 bytes of data
PARIS_SUM = 0x5A5A  # the constant ones' complement sum every echo of a trace is forced to


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _fold(total: int) -> int:
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def icmp_echo(ident: int, seq: int) -> bytes:
    """An echo request whose checksum is the same for every `seq` (Paris traceroute)."""
    head = struct.pack("!BBHHH", ICMP_ECHO, 0, 0, ident, seq)
    partial = _fold(~checksum(head + PAYLOAD) & 0xFFFF)  # ones' complement sum without the fix
    fix = _fold(PARIS_SUM + (~partial & 0xFFFF))  # PARIS_SUM - partial, ones' complement
    body = PAYLOAD + struct.pack("!H", fix)
    return struct.pack("!BBHHH", ICMP_ECHO, 0, checksum(head + body), ident, seq) + body


def tcp_syn(src: str, dst: str, sport: int, dport: int, seq: int) -> bytes:
    """A bare SYN (no options) with a correct checksum, for a raw IPPROTO_TCP socket."""
    header = struct.pack("!HHIIHHHH", sport, dport, seq, 0, (5 << 12) | 0x02, 64240, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, 20)
    return header[:16] + struct.pack("!H", checksum(pseudo + header)) + header[18:]


ReplyKind = Literal["time_exceeded", "unreachable", "reply"]


@dataclass(frozen=True, slots=True)
class Reply:
    """One reply matched to the probe it answers (`key`: ICMP sequence or TCP sequence)."""

    key: int
    source: str
    kind: ReplyKind
    code: int = 0  # the unreachable code; for a TCP reply, 1 if it was a reset


def _ip(packet: bytes) -> tuple[int, int, str, str, bytes] | None:
    """(protocol, header length, source, destination, payload) of an IPv4 packet."""
    if len(packet) < 20 or packet[0] >> 4 != 4:
        return None
    ihl = (packet[0] & 0x0F) * 4
    src, dst = socket.inet_ntoa(packet[12:16]), socket.inet_ntoa(packet[16:20])
    return packet[9], ihl, src, dst, packet[ihl:]


def parse_icmp(packet: bytes, dest: str, ident: int, sport: int, dport: int) -> Reply | None:
    """A reply from a raw ICMP socket that answers one of our probes to `dest`, else None.

    `ident` identifies an ICMP trace; `sport`/`dport` a TCP trace (pass 0s for the other)."""
    outer = _ip(packet)
    if outer is None or outer[0] != socket.IPPROTO_ICMP or len(outer[4]) < 8:
        return None
    _, _, source, _, icmp = outer
    kind_no, code = icmp[0], icmp[1]
    if kind_no == ICMP_ECHO_REPLY:
        their_id, seq = struct.unpack("!HH", icmp[4:8])
        if ident and their_id == ident and source == dest:
            return Reply(seq, source, "reply")
        return None
    if kind_no not in (ICMP_TIME_EXCEEDED, ICMP_UNREACHABLE):
        return None
    inner = _ip(icmp[8:])
    if inner is None or inner[3] != dest or len(inner[4]) < 8:
        return None
    proto, _, _, _, quoted = inner
    kind: ReplyKind = "time_exceeded" if kind_no == ICMP_TIME_EXCEEDED else "unreachable"
    if proto == socket.IPPROTO_ICMP and ident:
        q_type, _, _, q_id, q_seq = struct.unpack("!BBHHH", quoted[:8])
        if q_type == ICMP_ECHO and q_id == ident:
            return Reply(q_seq, source, kind, code)
    if proto == socket.IPPROTO_TCP and sport:
        q_sport, q_dport, q_seq = struct.unpack("!HHI", quoted[:8])
        if (q_sport, q_dport) == (sport, dport):
            return Reply(q_seq, source, kind, code)
    return None


def parse_tcp(packet: bytes, dest: str, sport: int, dport: int) -> Reply | None:
    """A SYN-ACK or RST from `dest` answering our SYN, from a raw TCP socket; key = ack - 1."""
    outer = _ip(packet)
    if outer is None or outer[0] != socket.IPPROTO_TCP or outer[2] != dest:
        return None
    tcp = outer[4]
    if len(tcp) < 20:
        return None
    their_sport, their_dport, _, ack, flags = struct.unpack("!HHIIH", tcp[:14])
    if (their_sport, their_dport) != (dport, sport) or not flags & 0x10:  # needs ACK
        return None
    reset = 1 if flags & 0x04 else 0
    if not reset and flags & 0x12 != 0x12:
        return None
    return Reply((ack - 1) & 0xFFFFFFFF, dest, "reply", reset)
