"""The kernel sockets of the raw prober, and whether this process may open them.

Send: AF_INET/AF_INET6 + IPPROTO_RAW (we write the IP header; the kernel routes,
resolves the neighbour and sends). Receive: one raw socket per family for TCP,
with a classic BPF filter on our probe port, and one per family for ICMP errors
(cBPF on the type for IPv4, ICMP6_FILTER for IPv6), each with a large buffer
(raw-probing.md, pitfalls 3 and 7). The source address per destination comes
from the kernel's own choice for a connected UDP socket, which sends nothing.
"""

from __future__ import annotations

import array
import errno
import os
import socket
import struct
from dataclasses import dataclass, field

from probe.errors import CannotRunError
from probe.model import FAMILIES, Family

SO_ATTACH_FILTER = 26
SO_RCVBUFFORCE = 33
ICMP6_FILTER = 1
IPV6_RECVPKTINFO = 49
IPV6_PKTINFO = 50
CAP_NET_RAW = 13
RECV_BUFFER = 8 << 20
SEND_BUFFER = 4 << 20

ICMP4_UNREACH, ICMP4_TIME_EXCEEDED = 3, 11
ICMP6_UNREACH, ICMP6_TIME_EXCEEDED = 1, 3

_AF = {Family.IPV4: socket.AF_INET, Family.IPV6: socket.AF_INET6}


class RawSocketsUnavailable(CannotRunError):
    """The raw sockets of a batch could not be opened (after the capability check
    passed). `why` says why without advice; the message adds the way out."""

    def __init__(self, why: str) -> None:
        super().__init__(f"{why}; use --mode connect")
        self.why = why


@dataclass(frozen=True)
class RawCapability:
    """Which families may use raw sockets here, and if not all, why not."""

    families: frozenset[Family]
    why_not: str = ""

    def allows(self, family: Family) -> bool:
        return family in self.families


def check_raw_capability() -> RawCapability:
    """Try to open a raw TCP socket per family (the only definitive test, ~0.3 ms)."""
    allowed: set[Family] = set()
    problems: list[str] = []
    for family in FAMILIES:
        try:
            socket.socket(_AF[family], socket.SOCK_RAW, socket.IPPROTO_TCP).close()
            allowed.add(family)
        except PermissionError:
            problems.append(f"{family}: {explain_permission()}")
        except OSError as exc:
            if exc.errno == errno.EAFNOSUPPORT:
                problems.append(f"{family}: disabled in this kernel (EAFNOSUPPORT)")
            else:
                problems.append(f"{family}: {errno.errorcode.get(exc.errno or 0, exc)}")
    return RawCapability(frozenset(allowed), _merge(problems))


def _merge(problems: list[str]) -> str:
    """'IPv4: x; IPv6: x' becomes 'x' when both families say the same."""
    reasons = {p.split(": ", 1)[1] for p in problems}
    if len(problems) == 2 and len(reasons) == 1:
        return reasons.pop()
    return "; ".join(problems)


def explain_permission() -> str:
    """Why opening a raw socket was refused, from CapEff (read only to explain)."""
    effective, bounding = _capabilities()
    in_pod = "KUBERNETES_SERVICE_HOST" in os.environ
    if effective is not None and effective >> CAP_NET_RAW & 1:
        return "CAP_NET_RAW is effective but raw sockets were refused (a seccomp or LSM policy)"
    if os.geteuid() != 0:
        return f"not root (uid {os.geteuid()}) and no CAP_NET_RAW"
    if in_pod:
        return (
            "no CAP_NET_RAW in this container (Pod Security 'restricted' drops ALL "
            "capabilities; adding NET_RAW needs the 'privileged' level)"
        )
    if bounding is not None and not bounding >> CAP_NET_RAW & 1:
        return "root without CAP_NET_RAW (dropped from the bounding set)"
    return "root without CAP_NET_RAW"


def _capabilities() -> tuple[int | None, int | None]:
    effective = bounding = None
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    effective = int(line.split()[1], 16)
                elif line.startswith("CapBnd:"):
                    bounding = int(line.split()[1], 16)
    except (OSError, ValueError):
        pass
    return effective, bounding


def bpf_program(instructions: list[tuple[int, int, int, int]]) -> tuple[bytes, object]:
    """A `struct sock_fprog` for SO_ATTACH_FILTER, and the buffer it points to (keep it
    alive until setsockopt returns). An array's buffer_info() gives the address that
    ctypes would, without ctypes' import."""
    code = array.array("B", b"".join(struct.pack("=HBBI", *ins) for ins in instructions))
    address, _length = code.buffer_info()
    return struct.pack("@HP", len(instructions), address), code


# cBPF opcodes
_LDXB_MSH = 0xB1  # X = 4 * ([k] & 0xf)
_LDH_IND = 0x48  # A = u16 at [X + k]
_LDB_IND = 0x50  # A = u8 at [X + k]
_LDH_ABS = 0x28  # A = u16 at [k]
_JEQ = 0x15
_RET = 0x06
_ACCEPT = 0x40000
_DROP = 0


def tcp4_filter(port: int) -> list[tuple[int, int, int, int]]:
    """IPv4 header + TCP: accept when TCP dport (after the IP header) is our port."""
    return [(_LDXB_MSH, 0, 0, 0), (_LDH_IND, 0, 0, 2), (_JEQ, 0, 1, port),
            (_RET, 0, 0, _ACCEPT), (_RET, 0, 0, _DROP)]  # fmt: skip


def tcp6_filter(port: int) -> list[tuple[int, int, int, int]]:
    """TCP only (a raw IPv6 socket sees no IPv6 header): accept dport == our port."""
    return [(_LDH_ABS, 0, 0, 2), (_JEQ, 0, 1, port), (_RET, 0, 0, _ACCEPT), (_RET, 0, 0, _DROP)]


def icmp4_filter() -> list[tuple[int, int, int, int]]:
    """IPv4 header + ICMP: accept destination-unreachable and time-exceeded."""
    return [(_LDXB_MSH, 0, 0, 0), (_LDB_IND, 0, 0, 0), (_JEQ, 1, 0, ICMP4_UNREACH),
            (_JEQ, 0, 1, ICMP4_TIME_EXCEEDED), (_RET, 0, 0, _ACCEPT),
            (_RET, 0, 0, _DROP)]  # fmt: skip


def icmp6_filter_bits(passed: tuple[int, ...] = (ICMP6_UNREACH, ICMP6_TIME_EXCEEDED)) -> bytes:
    """`struct icmp6_filter`: a set bit blocks that ICMPv6 type."""
    words = [0xFFFFFFFF] * 8
    for icmp_type in passed:
        words[icmp_type >> 5] &= ~(1 << (icmp_type & 31))
    return struct.pack("=8I", *words)


@dataclass
class FamilySockets:
    send: socket.socket
    tcp: socket.socket
    icmp: socket.socket


@dataclass
class RawSockets:
    """Every socket one raw batch uses; `close()` closes them all."""

    port: int
    families: dict[Family, FamilySockets] = field(default_factory=dict)
    reservation: socket.socket | None = None

    def close(self) -> None:
        for group in self.families.values():
            for sock in (group.send, group.tcp, group.icmp):
                sock.close()
        self.families.clear()
        if self.reservation is not None:
            self.reservation.close()
            self.reservation = None


def open_raw_sockets(families: set[Family]) -> RawSockets:
    """Reserve a probe port and open the send/receive sockets of `families`.

    The port is bound (not listening) on a TCP socket, so the kernel never gives
    it to a real connection and answers the SYN-ACKs of our probes with a RST,
    which tears the half-open connection down on the peer (pitfall 1).
    """
    reservation = reserve_port(families)
    sockets = RawSockets(reservation.getsockname()[1], reservation=reservation)
    try:
        for family in families:
            sockets.families[family] = _open_family(family, sockets.port)
    except BaseException:
        sockets.close()
        raise
    return sockets


def reserve_port(families: set[Family]) -> socket.socket:
    if Family.IPV6 in families:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        sock.setsockopt(
            socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0 if Family.IPV4 in families else 1
        )
        sock.bind(("::", 0))
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("0.0.0.0", 0))
    return sock


def _open_family(family: Family, port: int) -> FamilySockets:
    af = _AF[family]
    opened: list[socket.socket] = []
    try:
        send = socket.socket(af, socket.SOCK_RAW, socket.IPPROTO_RAW)  # header included
        opened.append(send)
        tcp = socket.socket(af, socket.SOCK_RAW, socket.IPPROTO_TCP)
        opened.append(tcp)
        icmp_proto = socket.IPPROTO_ICMP if family is Family.IPV4 else socket.IPPROTO_ICMPV6
        icmp = socket.socket(af, socket.SOCK_RAW, icmp_proto)
        opened.append(icmp)
        if family is Family.IPV4:
            _attach(tcp, tcp4_filter(port))
            _attach(icmp, icmp4_filter())
        else:
            _attach(tcp, tcp6_filter(port))
            icmp.setsockopt(socket.IPPROTO_ICMPV6, ICMP6_FILTER, icmp6_filter_bits())
            tcp.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
        for sock in opened:
            sock.setblocking(False)
        _grow(send, socket.SO_SNDBUF, SEND_BUFFER)
        _grow(tcp, socket.SO_RCVBUF, RECV_BUFFER)
        _grow(icmp, socket.SO_RCVBUF, RECV_BUFFER)
        return FamilySockets(send, tcp, icmp)
    except BaseException:
        for sock in opened:
            sock.close()
        raise


def _attach(sock: socket.socket, instructions: list[tuple[int, int, int, int]]) -> None:
    program, _buffer = bpf_program(instructions)
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, program)


def _grow(sock: socket.socket, option: int, size: int) -> None:
    """SO_*BUFFORCE needs CAP_NET_ADMIN; without it the plain option (capped by
    net.core.[rw]mem_max) is the best we get (pitfall 7)."""
    force = SO_RCVBUFFORCE if option == socket.SO_RCVBUF else 32  # SO_SNDBUFFORCE
    try:
        sock.setsockopt(socket.SOL_SOCKET, force, size)
    except PermissionError:
        sock.setsockopt(socket.SOL_SOCKET, option, size)


def route_source(family: Family, address: str) -> bytes | int:
    """The source address the kernel would use to reach `address` (packed), or the
    errno when there is no route. A connected UDP socket sends nothing; it honours
    this netns, policy routing and RFC 6724 source selection. A fresh socket each time:
    Linux fixes a UDP socket's source at its first connect(), so re-connecting one
    socket would hand every later destination the first one's source (the raw run of
    lab scenario two-peers-one-without-aaaa, peers behind two links, catches that)."""
    af = _AF[family]
    sock = socket.socket(af, socket.SOCK_DGRAM)
    try:
        sock.connect((address, 9))
        # a link-local source comes back scoped ("fe80::1%eth0"): inet_pton wants it bare
        return socket.inet_pton(af, sock.getsockname()[0].split("%")[0])
    except OSError as exc:
        return exc.errno or errno.EHOSTUNREACH
    finally:
        sock.close()


def pktinfo_address(ancdata: list[tuple[int, int, bytes]]) -> bytes | None:
    """The local (destination) address of a received IPv6 packet, from IPV6_PKTINFO."""
    for level, kind, data in ancdata:
        if level == socket.IPPROTO_IPV6 and kind == IPV6_PKTINFO and len(data) >= 16:
            return data[:16]
    return None
