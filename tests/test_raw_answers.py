"""Reading answers: TCP headers and ICMP quotes (IPv6 extension headers too), built with scapy."""

from __future__ import annotations

import socket

import pytest
from scapy.layers.inet import ICMP, IP, TCP, IPerror, TCPerror
from scapy.layers.inet6 import (
    ICMPv6DestUnreach,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
)
from scapy.layers.ipsec import AH, ESP

from probe.probers.rawanswers import (
    TcpAnswer,
    match_icmp,
    match_tcp,
    mss_option,
    parse_icmp4,
    parse_icmp6,
    parse_tcp4,
    parse_tcp6,
)

US4, PEER4, ROUTER4 = "192.0.2.1", "198.51.100.7", "192.0.2.2"
US6, PEER6, ROUTER6 = "2001:db8:1::1", "2001:db8:2::7", "2001:db8:1::2"
PORT, DR, ISN = 40000, 5555, 0x01020304


def v4(a: str) -> bytes:
    return socket.inet_pton(socket.AF_INET, a)


def v6(a: str) -> bytes:
    return socket.inet_pton(socket.AF_INET6, a)


def test_tcp4_syn_ack() -> None:
    data = bytes(
        IP(src=PEER4, dst=US4) / TCP(sport=DR, dport=PORT, seq=99, ack=ISN + 1, flags="SA")
    )
    answer = parse_tcp4(data)
    assert answer == TcpAnswer(v4(PEER4), v4(US4), DR, PORT, 99, ISN + 1, 0x12)
    assert match_tcp(answer, ISN) == "syn-ack"


def test_tcp4_with_ip_options_finds_the_tcp_header() -> None:
    from scapy.layers.inet import IPOption_NOP

    data = bytes(IP(src=PEER4, dst=US4, options=[IPOption_NOP()] * 4)
                 / TCP(sport=DR, dport=PORT, ack=ISN + 1, flags="RA"))  # fmt: skip
    answer = parse_tcp4(data)
    assert answer is not None and answer.peer_port == DR
    assert match_tcp(answer, ISN) == "reset"


def test_tcp6_has_no_ip_header() -> None:
    data = bytes(TCP(sport=DR, dport=PORT, ack=ISN + 1, flags="RA"))
    answer = parse_tcp6(data, v6(PEER6), v6(US6))
    assert answer == TcpAnswer(v6(PEER6), v6(US6), DR, PORT, 0, ISN + 1, 0x14)
    assert match_tcp(answer, ISN) == "reset"


@pytest.mark.parametrize(
    ("name", "ack", "flags", "expected"),
    [
        ("syn-ack, ack = isn + 1", ISN + 1, 0x12, "syn-ack"),
        ("rst-ack, ack = isn + 1", ISN + 1, 0x14, "reset"),
        ("syn-ack, wrong ack", ISN, 0x12, None),
        ("rst, wrong ack", ISN + 2, 0x14, None),
        ("bare ack", ISN + 1, 0x10, None),
        ("syn without ack (simultaneous open)", ISN + 1, 0x02, None),
    ],
)
def test_match_tcp(name: str, ack: int, flags: int, expected: str | None) -> None:
    answer = TcpAnswer(v4(PEER4), v4(US4), DR, PORT, 1, ack, flags)
    assert match_tcp(answer, ISN) == expected


def test_ack_wraps_around() -> None:
    answer = TcpAnswer(v4(PEER4), v4(US4), DR, PORT, 1, 0, 0x12)
    assert match_tcp(answer, 0xFFFFFFFF) == "syn-ack"


def quoted_syn4() -> IP:
    return IPerror(src=US4, dst=PEER4) / TCPerror(sport=PORT, dport=DR, seq=ISN, flags="S")


def test_icmp4_admin_prohibited_from_a_router() -> None:
    data = bytes(IP(src=ROUTER4, dst=US4) / ICMP(type=3, code=13) / quoted_syn4())
    quote = parse_icmp4(data)
    assert quote is not None
    assert (quote.sender, quote.type, quote.code) == (v4(ROUTER4), 3, 13)
    assert (quote.local, quote.peer, quote.local_port, quote.peer_port) == (
        v4(US4),
        v4(PEER4),
        PORT,
        DR,
    )
    assert match_icmp(quote, ISN)
    assert not match_icmp(quote, ISN + 1)


def test_icmp4_quoting_only_eight_bytes_of_tcp() -> None:
    full = bytes(IP(src=ROUTER4, dst=US4) / ICMP(type=3, code=1) / quoted_syn4())
    short = full[: 20 + 8 + 20 + 8]  # RFC 792: IP header + 64 bits of the datagram
    quote = parse_icmp4(short)
    assert quote is not None and quote.seq == ISN and quote.code == 1


def test_icmp4_quoting_udp_is_not_ours() -> None:
    from scapy.layers.inet import UDPerror

    data = bytes(IP(src=ROUTER4, dst=US4) / ICMP(type=3, code=3)
                 / IPerror(src=US4, dst=PEER4) / UDPerror(sport=PORT, dport=DR))  # fmt: skip
    assert parse_icmp4(data) is None


def icmp6(*ext: object) -> bytes:
    quoted = IPv6(src=US6, dst=PEER6)
    for header in ext:
        quoted = quoted / header
    quoted = quoted / TCP(sport=PORT, dport=DR, seq=ISN, flags="S")
    packet = IPv6(src=ROUTER6, dst=US6) / ICMPv6DestUnreach(code=1) / quoted
    return bytes(packet[ICMPv6DestUnreach])  # a raw ICMPv6 socket strips the IPv6 header


@pytest.mark.parametrize(
    ("name", "ext"),
    [
        ("no extension header", ()),
        ("destination options", (IPv6ExtHdrDestOpt(),)),
        ("hop-by-hop + routing + destination options",
         (IPv6ExtHdrHopByHop(), IPv6ExtHdrRouting(), IPv6ExtHdrDestOpt())),
        ("first fragment", (IPv6ExtHdrFragment(offset=0, m=1),)),
        ("authentication header", (AH(nh=6, payloadlen=4, spi=1, icv=b"\0" * 12),)),
    ],
)  # fmt: skip
def test_icmp6_quote_through_extension_headers(name: str, ext: tuple[object, ...]) -> None:
    quote = parse_icmp6(icmp6(*ext), v6(ROUTER6))
    assert quote is not None, name
    assert (quote.type, quote.code, quote.sender) == (1, 1, v6(ROUTER6))
    assert (quote.local, quote.peer, quote.local_port, quote.peer_port) == (
        v6(US6),
        v6(PEER6),
        PORT,
        DR,
    )
    assert match_icmp(quote, ISN)


@pytest.mark.parametrize(
    ("name", "ext"),
    [("later fragment", (IPv6ExtHdrFragment(offset=8),)), ("ESP", (ESP(spi=1),))],
)
def test_icmp6_quotes_without_a_tcp_header_are_not_ours(name: str, ext: tuple[object, ...]) -> None:
    assert parse_icmp6(icmp6(*ext), v6(ROUTER6)) is None


def test_truncated_packets_are_ignored() -> None:
    data = icmp6(IPv6ExtHdrDestOpt())
    for cut in range(0, len(data) - 20, 7):
        parse_icmp6(data[:cut], v6(ROUTER6))  # never raises
    assert parse_icmp6(data[:60], v6(ROUTER6)) is None
    assert parse_tcp4(b"\x45" + b"\0" * 10) is None
    assert parse_icmp4(b"") is None


def test_the_syn_ack_mss_option_is_read_in_both_families() -> None:
    options = [("NOP", None), ("WScale", 7), ("MSS", 1380), ("SAckOK", b""), ("Timestamp", (1, 0))]
    syn_ack = TCP(sport=DR, dport=PORT, seq=99, ack=ISN + 1, flags="SA", options=options)
    answer4 = parse_tcp4(bytes(IP(src=PEER4, dst=US4) / syn_ack))
    assert answer4 is not None and answer4.mss == 1380
    answer6 = parse_tcp6(bytes(syn_ack), v6(PEER6), v6(US6))
    assert answer6 is not None and answer6.mss == 1380
    reset = TCP(sport=DR, dport=PORT, ack=ISN + 1, flags="RA", options=[("MSS", 1000)])
    answer = parse_tcp4(bytes(IP(src=PEER4, dst=US4) / reset))
    assert answer is not None and answer.mss is None  # only a SYN carries the option


@pytest.mark.parametrize(
    ("options", "offset"),
    [
        (b"", 5),  # no options
        (b"\x00\x02\x04\x05\xb4\x00\x00\x00", 7),  # end of options before the MSS
        (b"\x08\x00\x02\x04", 6),  # an option length of 0: malformed, no guessing
        (b"\x01\x02\x04\x05\xb4\x00\x00\x00", 6),  # the data offset cuts the MSS short
    ],
)
def test_no_mss_from_absent_or_malformed_options(options: bytes, offset: int) -> None:
    header = bytes(12) + bytes([offset << 4, 0x12]) + bytes(6) + options
    assert mss_option(header) is None
