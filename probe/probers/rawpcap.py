"""--pcap and the explanation of odd packets: the raw prober's scapy side, off the hot loop.

During a batch the prober only keeps (time, family, bytes) of every probe and
answer; this module turns them into a pcap for a troubleshooting ticket and
dissects packets the fast parser ignored, to say what they were.
"""

from __future__ import annotations

import io
import socket
from dataclasses import dataclass, field

from probe.model import Family
from probe.outfile import check_destination, write_output

LINKTYPE_RAW = 101  # each record starts with an IPv4 or IPv6 header


@dataclass(frozen=True)
class Captured:
    """One packet as seen by the prober. IPv6 answers from raw sockets have no IPv6
    header (the kernel strips it), so they carry the addresses to put one back."""

    time: float  # seconds since the epoch
    family: Family
    data: bytes
    next_header: int = 0  # set when `data` lacks its IPv6 header
    src: bytes = b""
    dst: bytes = b""


@dataclass
class Capture:
    """Every probe and answer of a batch, when --pcap asked for them."""

    packets: list[Captured] = field(default_factory=list)

    def add(self, packet: Captured) -> None:
        self.packets.append(packet)


def full_packet(packet: Captured) -> bytes:
    """The packet with an IP header in front, as it was on the wire."""
    if packet.family is Family.IPV4 or not packet.next_header:
        return packet.data
    from scapy.layers.inet6 import IPv6
    from scapy.packet import Raw

    header = IPv6(
        src=socket.inet_ntop(socket.AF_INET6, packet.src),
        dst=socket.inet_ntop(socket.AF_INET6, packet.dst),
        nh=packet.next_header,
    )
    return bytes(header / Raw(packet.data))


def check_pcap_path(path: str) -> None:
    """UsageError (one line) unless `path` can be created or overwritten: checked before
    probing, so a typo in --pcap never costs a whole run (rules: probe.outfile)."""
    check_destination("--pcap", path)


def write_pcap(path: str, capture: Capture) -> None:
    """Write the capture with scapy's pcap writer (linktype RAW: v4 and v6 in one file),
    through probe.outfile (a temporary file renamed into place, no symlink followed).

    Raises OSError when the file cannot be written; the caller keeps its results."""
    from scapy.utils import RawPcapWriter

    buffer = io.BytesIO()
    writer = RawPcapWriter(buffer, linktype=LINKTYPE_RAW)
    writer.write_header(None)  # write_packet() alone writes no file header
    for packet in sorted(capture.packets, key=lambda p: p.time):
        seconds = int(packet.time)
        micros = int((packet.time - seconds) * 1_000_000)
        writer.write_packet(full_packet(packet), sec=seconds, usec=micros)
    writer.flush()
    write_output(path, buffer.getvalue())


def describe(packet: Captured) -> str:
    """scapy's one-line summary of a packet, e.g. 'IP / TCP 198.51.100.1:5555 > 192.0.2.1:40000 A'."""
    from scapy.layers.inet import IP
    from scapy.layers.inet6 import IPv6

    layer = IP if packet.family is Family.IPV4 else IPv6
    return str(layer(full_packet(packet)).summary())
