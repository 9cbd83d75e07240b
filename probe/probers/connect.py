"""The unprivileged prober: non-blocking connect() for every endpoint at once.

Why not plain `asyncio.open_connection`: an ICMPv6 reject that arrives while
connect() holds the socket lock becomes only a soft error, the connect times
out and the reject is misreported as `filtered`. With IP_RECVERR /
IPV6_RECVERR the kernel aborts the connect and queues the ICMP type, code and
sender on the socket's error queue, which we read (raw-probing.md, pitfall 9).
"""

from __future__ import annotations

import asyncio
import errno
import functools
import resource
import socket
import struct
import time
from collections.abc import Sequence
from pathlib import Path

from probe.model import Endpoint, Family, IcmpError, Method, ProbeResult, ProbeState, parse_ip
from probe.probers.verdict import (
    LOCAL_DENY_REASON,
    connect_errno_state,
    describe_icmp,
    errno_name,
    no_route_reason,
    stopped_row,
)
from probe.progress import Tally
from probe.stop import current as current_stop

STOP_POLL = 0.1  # seconds between looks at the run's stop while probes are in flight

# <linux/in.h>, <linux/in6.h>, <linux/errqueue.h>; not all are in the socket module
SOL_IP = 0
SOL_IPV6 = 41
IP_RECVERR = 11
IPV6_RECVERR = 25
SO_EE_ORIGIN_ICMP = 2
SO_EE_ORIGIN_ICMP6 = 3
_EXTENDED_ERR = struct.Struct("=IBBBBII")  # ee_errno, origin, type, code, pad, info, data

_AF = {Family.IPV4: socket.AF_INET, Family.IPV6: socket.AF_INET6}


class ConnectProber:
    """Probe with the kernel's own TCP handshake; needs no privileges."""

    method = Method.CONNECT

    def __init__(self, timeout: float, concurrency: int = 512, answered: Tally | None = None):
        self.timeout = timeout
        self.concurrency = max(1, concurrency)
        self.answered = answered  # counts each probe that got an answer (not filtered)

    def probe(self, endpoints: Sequence[Endpoint]) -> list[ProbeResult]:
        return asyncio.run(self.probe_async(endpoints))

    async def probe_async(self, endpoints: Sequence[Endpoint]) -> list[ProbeResult]:
        # one socket per probe in flight: never more than the file descriptors allow
        slots = asyncio.Semaphore(min(self.concurrency, _fd_budget(len(endpoints))))

        async def bounded(endpoint: Endpoint) -> ProbeResult:
            async with slots:
                row = await probe_endpoint(endpoint, self.timeout)
            if self.answered is not None and row.state is not ProbeState.FILTERED:
                self.answered.add()  # filtered: nothing answered, the timeout ran out
            return row

        tasks = [asyncio.ensure_future(bounded(e)) for e in endpoints]
        stop = current_stop()
        pending = set(tasks)
        while pending:
            _done, pending = await asyncio.wait(pending, timeout=STOP_POLL)
            if pending and stop.stopped():
                for task in pending:  # the answers already in are kept
                    task.cancel()
                await asyncio.wait(pending)
                break
        return [
            stopped_row(endpoint, Method.CONNECT) if task.cancelled() else task.result()
            for endpoint, task in zip(endpoints, tasks, strict=True)
        ]


async def probe_endpoint(endpoint: Endpoint, timeout: float) -> ProbeResult:
    """One non-blocking connect() with RECVERR; never raises for network outcomes."""
    family = endpoint.family

    def result(
        state: ProbeState, reason: str, rtt: float | None = None, icmp: IcmpError | None = None
    ) -> ProbeResult:
        return ProbeResult(
            target=endpoint.target,
            family=family,
            port=endpoint.port,
            state=state,
            reason=reason,
            method=Method.CONNECT,
            address=endpoint.address,
            rtt_ms=rtt,
            icmp=icmp,
        )

    try:
        sock = socket.socket(_AF[family], socket.SOCK_STREAM)
    except OSError as exc:
        # EAFNOSUPPORT: this kernel has the family disabled
        err = exc.errno or errno.EAFNOSUPPORT
        return result(connect_errno_state(err, True), f"{errno_name(err)} (socket)")
    try:
        sock.setblocking(False)
        if family is Family.IPV4:
            sock.setsockopt(SOL_IP, IP_RECVERR, 1)
        else:
            sock.setsockopt(SOL_IPV6, IPV6_RECVERR, 1)
        # close with RST: no TIME_WAIT on our side, no half-closed session on the peer
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sockaddr = socket.getaddrinfo(
            endpoint.address,
            endpoint.port,
            _AF[family],
            socket.SOCK_STREAM,
            0,
            socket.AI_NUMERICHOST,
        )[0][4]
        started = time.perf_counter()
        err = sock.connect_ex(sockaddr)
        if err == 0:
            return result(ProbeState.OPEN, "syn-ack", _ms_since(started))
        if err != errno.EINPROGRESS:
            # refused at once: local routing (no-route) or a local firewall
            state = connect_errno_state(err, True)
            reason = {
                ProbeState.LOCAL_DENY: LOCAL_DENY_REASON,
                ProbeState.NO_ROUTE: no_route_reason(err),
            }.get(state, errno_name(err))
            return result(state, reason)
        loop = asyncio.get_running_loop()
        writable: asyncio.Future[None] = loop.create_future()

        def on_writable() -> None:
            if not writable.done():
                writable.set_result(None)

        loop.add_writer(sock, on_writable)
        try:
            await asyncio.wait_for(writable, timeout)
            timed_out = False
        except asyncio.TimeoutError:
            timed_out = True
        finally:
            loop.remove_writer(sock)
        rtt = None if timed_out else _ms_since(started)
        err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)  # also the soft error
        icmp = read_icmp_error(sock, family)
        if err == 0 and not timed_out:
            return result(ProbeState.OPEN, "syn-ack", rtt)
        if err == 0 and icmp is None:
            if syn_never_left(sock):
                return result(ProbeState.LOCAL_DENY, LOCAL_DENY_REASON)
            return result(ProbeState.FILTERED, "no-response")
        if icmp is not None and _refused_here(icmp, family, sock, rtt):
            # a local rule (nftables OUTPUT reject, a prohibit route), not a router or the
            # peer: the error names this host as its sender
            return result(ProbeState.LOCAL_DENY, LOCAL_DENY_REASON, rtt, icmp)
        if icmp is not None:
            reason = f"{describe_icmp(family, icmp)}, {errno_name(err or errno.EHOSTUNREACH)}"
            return result(ProbeState.UNREACHABLE, reason, rtt, icmp)
        state = connect_errno_state(err, False)
        if state is ProbeState.CLOSED:
            return result(state, "reset", rtt)
        return result(state, errno_name(err), rtt)
    except OSError as exc:
        return result(ProbeState.ERROR, f"{errno_name(exc.errno or 0)}: {exc.strerror}")
    finally:
        sock.close()


# struct tcp_info (<linux/tcp.h>): 8 one-byte fields, then u32s; we read two of them
_TCP_INFO = struct.Struct("=8B24I")
_TCPI_RETRANS = 8 + 7  # tcpi_retrans: retransmitted segments the kernel really sent
_TCPI_TOTAL_RETRANS = 8 + 23  # tcpi_total_retrans: retransmissions attempted
_TCP_SYN_SENT = 2


def syn_never_left(sock: socket.socket) -> bool:
    """Whether a SYN still unanswered was refused by this host: the kernel attempted a
    retransmission (tcpi_total_retrans) but none went out (tcpi_retrans is 0), which is
    what a local OUTPUT rule does (the transmit returns EPERM; connect() never reports
    it). Needs one SYN retransmission, ~1 s after connect(): a shorter probe timeout
    leaves such a row `filtered`."""
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO.size)
    except OSError:
        return False
    if len(info) < _TCP_INFO.size:
        return False
    fields = _TCP_INFO.unpack(info)
    return (
        fields[0] == _TCP_SYN_SENT
        and fields[_TCPI_TOTAL_RETRANS] > 0
        and fields[_TCPI_RETRANS] == 0
    )


def read_icmp_error(sock: socket.socket, family: Family) -> IcmpError | None:
    """The ICMP error queued by IP(V6)_RECVERR, if any (type, code and sender)."""
    try:
        _data, ancdata, _flags, _addr = sock.recvmsg(1, 512, socket.MSG_ERRQUEUE)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        return None
    for level, kind, data in ancdata:
        if (level, kind) not in ((SOL_IP, IP_RECVERR), (SOL_IPV6, IPV6_RECVERR)):
            continue
        if len(data) < _EXTENDED_ERR.size:
            continue
        _ee_errno, origin, icmp_type, code, _pad, _info, _data32 = _EXTENDED_ERR.unpack_from(data)
        if origin not in (SO_EE_ORIGIN_ICMP, SO_EE_ORIGIN_ICMP6):
            continue
        return IcmpError(icmp_type, code, _offender(data[_EXTENDED_ERR.size :]))
    return None


def _offender(sockaddr: bytes) -> str:
    """The sender of the ICMP error, from the sockaddr after sock_extended_err."""
    if len(sockaddr) >= 8 and struct.unpack_from("=H", sockaddr)[0] == socket.AF_INET:
        return socket.inet_ntop(socket.AF_INET, sockaddr[4:8])
    if len(sockaddr) >= 24 and struct.unpack_from("=H", sockaddr)[0] == socket.AF_INET6:
        return socket.inet_ntop(socket.AF_INET6, sockaddr[8:24])
    return "unknown"


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _fd_budget(wanted: int) -> int:
    """How many sockets we may hold at once: the soft fd limit minus room, raised toward
    the hard limit only when `wanted` probes would not fit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if wanted + 64 > soft and hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return max(16, min(soft, 65536) - 64)


def _refused_here(
    icmp: IcmpError, family: Family, sock: socket.socket, rtt_ms: float | None
) -> bool:
    """An ICMP error this host sent itself because a local rule refused the SYN: an
    nftables/iptables OUTPUT `reject` of any kind, or a prohibit route. The one error
    this host also sends without a rule is host (IPv6: address) unreachable when
    neighbour discovery gives up, which cannot happen before its solicitations are spent
    (`neighbour_give_up_ms`); an error in under half that time is a rule's."""
    if icmp.sender != _local_address(sock):
        return False
    neighbour_failed = (icmp.type, icmp.code) == ((3, 1) if family is Family.IPV4 else (1, 3))
    if not neighbour_failed:
        return True
    return rtt_ms is not None and rtt_ms < neighbour_give_up_ms(family) / 2


@functools.cache
def neighbour_give_up_ms(family: Family) -> float:
    """The shortest time (ms) neighbour discovery takes to give up on any interface of
    this network namespace: (mcast_solicit + app_solicit) x retrans_time_ms from
    /proc/sys/net/ipv4|ipv6/neigh/DEV/ (ip-sysctl.rst; 3 x 1000 ms by default, RFC 4861
    10 for IPv6). 0 when unreadable: then no host unreachable is taken for a rule's."""
    root = Path("/proc/sys/net") / ("ipv4" if family is Family.IPV4 else "ipv6") / "neigh"
    try:
        devices = [d for d in root.iterdir() if d.name != "default"]
    except OSError:
        return 0.0
    times: list[float] = []
    for device in devices:
        try:
            solicit = sum(int((device / n).read_text()) for n in ("mcast_solicit", "app_solicit"))
            times.append(solicit * int((device / "retrans_time_ms").read_text()))
        except (OSError, ValueError):  # an interface gone meanwhile
            continue
    return float(min(times, default=0))


def _local_address(sock: socket.socket) -> str | None:
    """The socket's own address (canonical text), or None when it has none yet."""
    try:
        address = sock.getsockname()[0]
    except OSError:
        return None
    parsed = parse_ip(address.split("%")[0])
    return parsed[1] if parsed else None
