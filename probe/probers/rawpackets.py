"""SYN packets for the raw prober: scapy builds one template per family, the hot
loop only patches addresses, ports, sequence number and checksums into a copy.

Why templates: scapy costs ~300 µs to build a packet, patching a template costs
~2 µs (raw-probing.md, "CPU per packet"). The checksums are kept as a partial
ones'-complement sum of the constant bytes, so each probe only adds its own words.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from probe.model import Family

TCP_PROTO = 6
SYN_WINDOW = 1024  # as nmap -sS sends
SYN_MSS = 1460
HOP_LIMIT = 64

_PORTS_SEQ = struct.Struct("!HHI")
_U16 = struct.Struct("!H")


@dataclass(frozen=True)
class SynTemplate:
    """A bare SYN (IP header + TCP header with MSS, no payload) with zeroed variable fields.

    `tcp_sum` is the ones'-complement sum of the TCP header as built (ports, seq and
    checksum zero) plus the constant part of the pseudo-header (protocol, TCP length).
    `ip_sum` is the same for the IPv4 header (addresses and checksum zero); 0 for IPv6.
    """

    family: Family
    data: bytes
    src_at: int
    dst_at: int
    tcp_at: int
    tcp_sum: int
    ip_sum: int

    @property
    def addr_len(self) -> int:
        return 4 if self.family is Family.IPV4 else 16


Templates = Callable[[], dict[Family, SynTemplate]]


def build_templates() -> dict[Family, SynTemplate]:
    """Both SYN templates, built by scapy (imported here, and only here, on the raw path)."""
    from scapy.layers.inet import IP, TCP
    from scapy.layers.inet6 import IPv6

    def tcp() -> TCP:
        return TCP(
            sport=0, dport=0, seq=0, ack=0, flags="S", window=SYN_WINDOW,
            options=[("MSS", SYN_MSS)], chksum=0,
        )  # fmt: skip

    v4 = bytes(IP(src="0.0.0.0", dst="0.0.0.0", ttl=HOP_LIMIT, id=0, chksum=0) / tcp())
    v6 = bytes(IPv6(src="::", dst="::", hlim=HOP_LIMIT) / tcp())
    return {
        Family.IPV4: make_template(Family.IPV4, v4),
        Family.IPV6: make_template(Family.IPV6, v6),
    }


def make_template(family: Family, data: bytes) -> SynTemplate:
    if family is Family.IPV4:
        src_at, dst_at, tcp_at = 12, 16, (data[0] & 0x0F) * 4
        ip_sum = words_sum(data[:tcp_at])
    else:
        src_at, dst_at, tcp_at = 8, 24, 40
        ip_sum = 0
    tcp_len = len(data) - tcp_at
    return SynTemplate(
        family=family,
        data=data,
        src_at=src_at,
        dst_at=dst_at,
        tcp_at=tcp_at,
        tcp_sum=words_sum(data[tcp_at:]) + TCP_PROTO + tcp_len,
        ip_sum=ip_sum,
    )


def words_sum(data: bytes) -> int:
    """Sum of the big-endian 16-bit words of `data` (padded to even length), unfolded."""
    if len(data) % 2:
        data += b"\0"
    return sum(struct.unpack(f"!{len(data) // 2}H", data))


def fold(total: int) -> int:
    """The Internet checksum of an unfolded word sum (RFC 1071)."""
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def patch_syn(
    template: SynTemplate,
    src: bytes,
    dst: bytes,
    sport: int,
    dport: int,
    seq: int,
    src_sum: int | None = None,
    dst_sum: int | None = None,
) -> bytes:
    """A copy of `template` for one probe. The address word sums may be passed in,
    precomputed once per address, to keep the per-probe cost at a few struct calls."""
    if src_sum is None:
        src_sum = words_sum(src)
    if dst_sum is None:
        dst_sum = words_sum(dst)
    t = template
    packet = bytearray(t.data)
    packet[t.src_at : t.src_at + len(src)] = src
    packet[t.dst_at : t.dst_at + len(dst)] = dst
    _PORTS_SEQ.pack_into(packet, t.tcp_at, sport, dport, seq)
    tcp_total = t.tcp_sum + src_sum + dst_sum + sport + dport + (seq >> 16) + (seq & 0xFFFF)
    _U16.pack_into(packet, t.tcp_at + 16, fold(tcp_total))
    if t.family is Family.IPV4:
        # the kernel rewrites it for IP_HDRINCL anyway; correct bytes make the pcap honest
        _U16.pack_into(packet, 10, fold(t.ip_sum + src_sum + dst_sum))
    return bytes(packet)
