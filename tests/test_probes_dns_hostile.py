"""DNS probe against a hostile responder on 127.0.0.1: stray datagrams first, truncated answers."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable

import dns.flags
import dns.message
import dns.rrset
import pytest

from monitor.probes.context import ProbeContext
from tests.helpers.probing import dns_target, probe_context, probe_once

pytestmark = pytest.mark.timeout(20)
NAME = "siak.kemendagri.go.id"
ADDRESS = "10.20.0.5"


def answer(query: dns.message.Message, address: str = ADDRESS) -> dns.message.Message:
    response = dns.message.make_response(query)
    response.answer.append(dns.rrset.from_text(query.question[0].name, 60, "IN", "A", address))
    return response


def strays(query: dns.message.Message) -> list[bytes]:
    """What an attacker (or a confused middlebox) sends before the real answer arrives."""
    wrong_id = answer(query, "10.66.66.66")
    wrong_id.id = (query.id + 1) % 65536
    other = dns.message.make_query("evil.example.id", "A")
    other.id = query.id  # right id, wrong question
    wrong_question = answer(other, "10.66.66.67")
    return [b"\x00garbage, not DNS", wrong_id.to_wire(), wrong_question.to_wire()]


class Responder(asyncio.DatagramProtocol):
    """Answers each query with the datagrams `reply(query)` returns, in order."""

    def __init__(self, reply: Callable[[dns.message.Message], list[bytes]]) -> None:
        self.reply = reply
        self.transport: asyncio.DatagramTransport | None = None
        self.queries = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.queries += 1
        assert self.transport is not None
        for datagram in self.reply(dns.message.from_wire(data)):
            self.transport.sendto(datagram, addr)


@pytest.fixture
async def ctx() -> AsyncIterator[ProbeContext]:
    async with probe_context() as ctx:
        yield ctx


async def serve_udp(
    reply: Callable[[dns.message.Message], list[bytes]], port: int = 0
) -> tuple[asyncio.DatagramTransport, Responder]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: Responder(reply), local_addr=("127.0.0.1", port)
    )
    return transport, protocol


async def test_stray_datagrams_before_the_answer_are_ignored(ctx: ProbeContext) -> None:
    transport, responder = await serve_udp(lambda q: [*strays(q), answer(q).to_wire()])
    try:
        port = transport.get_extra_info("sockname")[1]
        result = await probe_once(ctx, dns_target(f"127.0.0.1:{port}", NAME, expect=[ADDRESS]))
    finally:
        transport.close()
    assert result.ok, result.message
    assert result.observation.detail == f"A {ADDRESS}"
    assert responder.queries == 1  # waited for its own answer; never asked twice


async def test_only_strays_wait_until_the_deadline(ctx: ProbeContext) -> None:
    transport, _ = await serve_udp(strays)
    try:
        port = transport.get_extra_info("sockname")[1]
        result = await probe_once(ctx, dns_target(f"127.0.0.1:{port}", NAME), deadline=0.5)
    finally:
        transport.close()
    assert result.reason == "timeout"  # as a silent server: its answer never came


def truncated(query: dns.message.Message) -> list[bytes]:
    response = dns.message.make_response(query)
    response.flags |= dns.flags.TC  # "too large for UDP: ask again over TCP", and no answers
    return [response.to_wire()]


async def test_a_truncated_answer_is_asked_again_over_tcp(ctx: ProbeContext) -> None:
    asked_over_tcp = 0

    async def tcp_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal asked_over_tcp
        asked_over_tcp += 1
        length = int.from_bytes(await reader.readexactly(2), "big")
        wire = answer(dns.message.from_wire(await reader.readexactly(length))).to_wire()
        writer.write(len(wire).to_bytes(2, "big") + wire)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(tcp_answer, "127.0.0.1", 0, family=socket.AF_INET)
    port = server.sockets[0].getsockname()[1]
    transport, responder = await serve_udp(truncated, port)
    try:
        result = await probe_once(ctx, dns_target(f"127.0.0.1:{port}", NAME))
    finally:
        transport.close()
        server.close()
        await server.wait_closed()
    assert result.ok, result.message
    assert result.observation.detail == f"A {ADDRESS}"
    assert responder.queries == 1 and asked_over_tcp == 1


async def test_a_truncated_answer_without_tcp_is_refused_not_no_record(ctx: ProbeContext) -> None:
    transport, _ = await serve_udp(truncated)  # nothing listens on the TCP port
    try:
        port = transport.get_extra_info("sockname")[1]
        result = await probe_once(ctx, dns_target(f"127.0.0.1:{port}", NAME))
    finally:
        transport.close()
    assert result.reason == "refused", result
    assert "no A record" not in result.message
