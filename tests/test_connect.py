"""The connect() prober on real loopback sockets, and its errno/ICMP mapping."""

from __future__ import annotations

import errno
import socket
import struct

import pytest

from probe.model import Endpoint, Family, IcmpError, ProbeState
from probe.probers.connect import ConnectProber, _offender
from probe.probers.verdict import connect_errno_state, describe_icmp, icmp_reason


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.fixture
def listener_v4():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(256)  # nobody accepts: the queue must hold every probe
        yield sock.getsockname()[1]


def _free_port(family: int, host: str) -> int:
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def test_open_and_closed_on_loopback(listener_v4: int) -> None:
    closed_port = _free_port(socket.AF_INET, "127.0.0.1")
    results = ConnectProber(timeout=2).probe(
        [
            Endpoint("a", "127.0.0.1", Family.IPV4, listener_v4),
            Endpoint("b", "127.0.0.1", Family.IPV4, closed_port),
        ]
    )
    assert [(r.target, r.state, r.reason) for r in results] == [
        ("a", ProbeState.OPEN, "syn-ack"),
        ("b", ProbeState.CLOSED, "reset"),
    ]
    assert results[0].rtt_ms is not None and 0 < results[0].rtt_ms < 2000
    assert all(r.method.value == "connect" for r in results)


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="this host has no ::1")
def test_ipv6_loopback_open() -> None:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
        sock.bind(("::1", 0))
        sock.listen(4)
        port = sock.getsockname()[1]
        (result,) = ConnectProber(timeout=2).probe([Endpoint("v6", "::1", Family.IPV6, port)])
    assert result.state is ProbeState.OPEN
    assert result.family is Family.IPV6


def test_concurrency_cap_still_probes_everything(listener_v4: int) -> None:
    endpoints = [Endpoint(f"t{i}", "127.0.0.1", Family.IPV4, listener_v4) for i in range(40)]
    results = ConnectProber(timeout=2, concurrency=3).probe(endpoints)
    assert [r.target for r in results] == [e.target for e in endpoints]
    assert {r.state for r in results} == {ProbeState.OPEN}


@pytest.mark.parametrize(
    "err, synchronous, state",
    [
        (errno.ECONNREFUSED, False, ProbeState.CLOSED),
        (errno.ETIMEDOUT, False, ProbeState.FILTERED),
        (errno.EHOSTUNREACH, False, ProbeState.UNREACHABLE),
        (errno.EACCES, False, ProbeState.UNREACHABLE),  # ICMPv6 admin-prohibited
        (errno.ENETUNREACH, True, ProbeState.NO_ROUTE),  # local: no route, nothing sent
        (errno.ENETUNREACH, False, ProbeState.UNREACHABLE),  # ICMPv6 1/0 from a router
        (errno.EADDRNOTAVAIL, True, ProbeState.NO_ROUTE),
        (errno.EAFNOSUPPORT, True, ProbeState.NO_ROUTE),
        (errno.EPERM, True, ProbeState.LOCAL_DENY),  # a local rule: nothing sent
        (errno.EACCES, True, ProbeState.LOCAL_DENY),
        (errno.EIO, False, ProbeState.ERROR),
    ],
)
def test_errno_to_state(err: int, synchronous: bool, state: ProbeState) -> None:
    assert connect_errno_state(err, synchronous) is state


@pytest.mark.parametrize(
    "family, icmp_type, code, name",
    [
        (Family.IPV4, 3, 13, "admin-prohibited"),
        (Family.IPV4, 3, 1, "host-unreachable"),
        (Family.IPV4, 3, 3, "port-unreachable"),
        (Family.IPV4, 3, 0, "net-unreachable"),
        (Family.IPV6, 1, 1, "admin-prohibited"),
        (Family.IPV6, 1, 0, "no-route"),
        (Family.IPV6, 1, 3, "addr-unreachable"),
        (Family.IPV6, 1, 4, "port-unreachable"),
    ],
)
def test_icmp_names(family: Family, icmp_type: int, code: int, name: str) -> None:
    assert icmp_reason(family, icmp_type, code) == name


def test_icmp_description_names_the_sender() -> None:
    text = describe_icmp(Family.IPV6, IcmpError(1, 1, "2001:db8::2"))
    assert text == "admin-prohibited from 2001:db8::2 (ICMPv6 1/1)"


def test_offender_sockaddr_parsing() -> None:
    v4 = struct.pack("=HH4s8x", socket.AF_INET, 0, socket.inet_aton("192.0.2.2"))
    v6 = struct.pack(
        "=HHI16sI", socket.AF_INET6, 0, 0, socket.inet_pton(socket.AF_INET6, "2001:db8::2"), 0
    )
    assert _offender(v4) == "192.0.2.2"
    assert _offender(v6) == "2001:db8::2"
    assert _offender(b"") == "unknown"
