"""Reading what came back to a raw probe: TCP answers and the headers ICMP errors quote.

Pure functions over bytes, fast enough for the receive loop (struct, no scapy).
An ICMP error is matched by the packet it quotes (our source, the target, both
ports and our sequence number), never by its outer source: routers send them too
(raw-probing.md, pitfall 2). IPv6 quotes may carry extension headers before TCP.

What each raw socket hands over (Linux):
    AF_INET  / IPPROTO_TCP     IPv4 header + TCP
    AF_INET  / IPPROTO_ICMP    IPv4 header + ICMP (+ quoted IPv4 header + >= 8 bytes TCP)
    AF_INET6 / IPPROTO_TCP     TCP only (addresses from recvmsg)
    AF_INET6 / IPPROTO_ICMPV6  ICMPv6 (+ quoted IPv6 header, extension headers, TCP)
"""

from __future__ import annotations

import struct
from typing import NamedTuple

TCP_PROTO = 6
TCP_SYN = 0x02
TCP_RST = 0x04
TCP_ACK = 0x10

# IPv6 extension headers that may sit between a quoted IPv6 header and TCP
_HOP_BY_HOP, _ROUTING, _FRAGMENT, _AH, _DEST_OPTS = 0, 43, 44, 51, 60
_MOBILITY, _HIP, _SHIM6 = 135, 139, 140
_EXT_8OCTETS = frozenset({_HOP_BY_HOP, _ROUTING, _DEST_OPTS, _MOBILITY, _HIP, _SHIM6})
MAX_EXT_HEADERS = 8

_TCP_HEAD = struct.Struct("!HHII")  # sport, dport, seq, ack
_U16 = struct.Struct("!H")


class TcpAnswer(NamedTuple):
    """A TCP segment sent to our probe port. peer/local are packed addresses."""

    peer: bytes
    local: bytes
    peer_port: int
    local_port: int
    seq: int
    ack: int
    flags: int
    mss: int | None = None  # the MSS option of a SYN-ACK (RFC 9293 section 3.7.1)


class IcmpQuote(NamedTuple):
    """An ICMP(v6) error and the TCP header it quotes (our SYN, if it is ours)."""

    sender: bytes
    type: int
    code: int
    local: bytes  # quoted source: us
    peer: bytes  # quoted destination: the target
    local_port: int
    peer_port: int
    seq: int


def parse_tcp4(data: bytes) -> TcpAnswer | None:
    """IPv4 header + TCP, as an AF_INET raw TCP socket returns it."""
    if len(data) < 20:
        return None
    ihl = (data[0] & 0x0F) * 4
    if data[9] != TCP_PROTO or ihl < 20 or len(data) < ihl + 20:
        return None
    sport, dport, seq, ack = _TCP_HEAD.unpack_from(data, ihl)
    flags = data[ihl + 13]
    mss = mss_option(data[ihl:]) if flags & TCP_SYN else None
    return TcpAnswer(data[12:16], data[16:20], sport, dport, seq, ack, flags, mss)


def parse_tcp6(data: bytes, peer: bytes, local: bytes) -> TcpAnswer | None:
    """TCP only, as an AF_INET6 raw TCP socket returns it; addresses from recvmsg."""
    if len(data) < 20:
        return None
    sport, dport, seq, ack = _TCP_HEAD.unpack_from(data, 0)
    mss = mss_option(data) if data[13] & TCP_SYN else None
    return TcpAnswer(peer, local, sport, dport, seq, ack, data[13], mss)


def mss_option(tcp: bytes) -> int | None:
    """The MSS option (kind 2, length 4) of a TCP header, or None (RFC 9293 3.1: options
    run from byte 20 to the data offset; kind 0 ends them, kind 1 is one byte of padding)."""
    end = min(len(tcp), (tcp[12] >> 4) * 4) if len(tcp) > 12 else 0
    at = 20
    while at < end:
        kind = tcp[at]
        if kind == 0:
            return None
        if kind == 1:
            at += 1
            continue
        if at + 1 >= end or tcp[at + 1] < 2:
            return None  # a malformed option: stop rather than guess
        if kind == 2 and tcp[at + 1] == 4 and at + 4 <= end:
            return int.from_bytes(tcp[at + 2 : at + 4], "big")
        at += tcp[at + 1]
    return None


def parse_icmp4(data: bytes) -> IcmpQuote | None:
    """IPv4 header + ICMP error quoting an IPv4 header + at least 8 bytes of TCP."""
    if len(data) < 20:
        return None
    ihl = (data[0] & 0x0F) * 4
    quote = ihl + 8
    if ihl < 20 or len(data) < quote + 20:
        return None
    qihl = (data[quote] & 0x0F) * 4
    if data[quote] >> 4 != 4 or qihl < 20 or data[quote + 9] != TCP_PROTO:
        return None
    tcp = quote + qihl
    if len(data) < tcp + 8:  # RFC 792 guarantees 8 bytes: ports and seq
        return None
    sport, dport, seq = struct.unpack_from("!HHI", data, tcp)
    return IcmpQuote(
        sender=data[12:16],
        type=data[ihl],
        code=data[ihl + 1],
        local=data[quote + 12 : quote + 16],
        peer=data[quote + 16 : quote + 20],
        local_port=sport,
        peer_port=dport,
        seq=seq,
    )


def parse_icmp6(data: bytes, sender: bytes) -> IcmpQuote | None:
    """ICMPv6 error (no IPv6 header: the raw socket strips it) quoting IPv6 + ext headers + TCP."""
    quote = 8
    if len(data) < quote + 40 or data[quote] >> 4 != 6:
        return None
    next_header = data[quote + 6]
    offset = quote + 40
    for _ in range(MAX_EXT_HEADERS):
        if next_header == TCP_PROTO:
            break
        if len(data) < offset + 8:
            return None
        if next_header in _EXT_8OCTETS:
            length = (data[offset + 1] + 1) * 8
        elif next_header == _AH:
            length = (data[offset + 1] + 2) * 4
        elif next_header == _FRAGMENT:
            if _U16.unpack_from(data, offset + 2)[0] & 0xFFF8:
                return None  # not the first fragment: no TCP header in it
            length = 8
        else:
            return None  # ESP, no next header, another protocol: not a TCP probe of ours
        next_header = data[offset]
        offset += length
    if next_header != TCP_PROTO or len(data) < offset + 8:
        return None
    sport, dport, seq = struct.unpack_from("!HHI", data, offset)
    return IcmpQuote(
        sender=sender,
        type=data[0],
        code=data[1],
        local=data[quote + 8 : quote + 24],
        peer=data[quote + 24 : quote + 40],
        local_port=sport,
        peer_port=dport,
        seq=seq,
    )


def match_tcp(answer: TcpAnswer, isn: int) -> str | None:
    """'syn-ack' or 'reset' when `answer` answers our SYN (ack == isn + 1), else None."""
    if answer.ack != (isn + 1) & 0xFFFFFFFF:
        return None  # stale, spoofed, or for another probe of the same tuple
    if answer.flags & TCP_RST:
        return "reset"
    if answer.flags & (TCP_SYN | TCP_ACK) == TCP_SYN | TCP_ACK:
        return "syn-ack"
    return None


def match_icmp(quote: IcmpQuote, isn: int) -> bool:
    """Whether an ICMP error quotes our SYN: the quoted seq is the probe's ISN."""
    return quote.seq == isn
