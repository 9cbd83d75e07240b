"""SYN templates: patched bytes equal what scapy builds itself, checksums included."""

from __future__ import annotations

import socket

import pytest
from scapy.layers.inet import IP, TCP
from scapy.layers.inet6 import IPv6

from probe.model import Family
from probe.probers.rawpackets import (
    HOP_LIMIT,
    SYN_MSS,
    SYN_WINDOW,
    build_templates,
    fold,
    patch_syn,
    words_sum,
)

TEMPLATES = build_templates()

CASES = [
    ("v4 plain", "192.0.2.1", "198.51.100.7", 40000, 5555, 0x12345678),
    ("v4 carries", "255.255.255.254", "203.0.113.255", 65535, 65535, 0xFFFFFFFF),
    ("v4 zero seq", "192.0.2.1", "192.0.2.2", 1024, 1, 0),
    ("v6 plain", "2001:db8:1::1", "2001:db8:2::1f4", 40000, 5555, 0xDEADBEEF),
    ("v6 carries", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::ffff", 65535, 65534, 1),
]


def scapy_syn(src: str, dst: str, sport: int, dport: int, seq: int) -> bytes:
    tcp = TCP(sport=sport, dport=dport, seq=seq, flags="S", window=SYN_WINDOW,
              options=[("MSS", SYN_MSS)])  # fmt: skip
    if ":" in src:
        return bytes(IPv6(src=src, dst=dst, hlim=HOP_LIMIT) / tcp)
    return bytes(IP(src=src, dst=dst, ttl=HOP_LIMIT, id=0) / tcp)


@pytest.mark.parametrize(("name", "src", "dst", "sport", "dport", "seq"), CASES,
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_patched_syn_is_byte_for_byte_what_scapy_builds(
    name: str, src: str, dst: str, sport: int, dport: int, seq: int
) -> None:
    af = socket.AF_INET6 if ":" in src else socket.AF_INET
    family = Family.IPV6 if ":" in src else Family.IPV4
    packed_src, packed_dst = socket.inet_pton(af, src), socket.inet_pton(af, dst)
    ours = patch_syn(TEMPLATES[family], packed_src, packed_dst, sport, dport, seq)
    assert ours == scapy_syn(src, dst, sport, dport, seq)


@pytest.mark.parametrize(("name", "src", "dst", "sport", "dport", "seq"), CASES,
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_scapy_recomputes_the_same_checksums(
    name: str, src: str, dst: str, sport: int, dport: int, seq: int
) -> None:
    af = socket.AF_INET6 if ":" in src else socket.AF_INET
    family = Family.IPV6 if ":" in src else Family.IPV4
    ours = patch_syn(TEMPLATES[family], socket.inet_pton(af, src), socket.inet_pton(af, dst),
                     sport, dport, seq)  # fmt: skip
    packet = (IPv6 if family is Family.IPV6 else IP)(ours)
    sent_tcp_checksum = packet[TCP].chksum
    del packet[TCP].chksum
    if family is Family.IPV4:
        sent_ip_checksum = packet[IP].chksum
        del packet[IP].chksum
        assert (IP(bytes(packet))).chksum == sent_ip_checksum
    assert (type(packet)(bytes(packet)))[TCP].chksum == sent_tcp_checksum


def test_precomputed_address_sums_give_the_same_packet() -> None:
    src, dst = (
        socket.inet_pton(socket.AF_INET, "192.0.2.1"),
        socket.inet_pton(socket.AF_INET, "198.51.100.9"),
    )
    plain = patch_syn(TEMPLATES[Family.IPV4], src, dst, 40000, 5555, 7)
    summed = patch_syn(
        TEMPLATES[Family.IPV4], src, dst, 40000, 5555, 7, words_sum(src), words_sum(dst)
    )
    assert plain == summed


def test_template_is_a_bare_syn() -> None:
    for family, template in TEMPLATES.items():
        tcp = TCP(template.data[template.tcp_at :])
        assert tcp.flags == "S", family
        assert bytes(tcp.payload) == b"", family
        assert tcp.options == [("MSS", SYN_MSS)], family


def test_fold_is_the_internet_checksum() -> None:
    assert fold(0) == 0xFFFF
    assert fold(0xFFFF) == 0
    assert fold(0x1FFFE) == 0  # one carry: 0xFFFE + 1
