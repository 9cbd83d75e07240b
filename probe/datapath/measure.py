"""Measure the data path of open endpoints: connect again and see what follows the handshake.

Safety: nothing is ever written to a peer that did not greet as a voltprobe
responder (protocol >= 1, not busy). A real VoltDB DR listener waits for its
client, so the check only connects, reads, and closes (with RST, as the
connect prober does: no TIME_WAIT left behind).
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import time
from collections.abc import Sequence

from probe.datapath.types import (
    MTU_LADDER,
    AfterHandshake,
    DataPath,
    DataPathOptions,
    Greeting,
    MtuStep,
    PathQuality,
    RttStats,
    StepOutcome,
)
from probe.model import Endpoint, Family
from probe.probers.verdict import errno_name

_AF = {Family.IPV4: socket.AF_INET, Family.IPV6: socket.AF_INET6}
_IP_HEADER = {Family.IPV4: 20, Family.IPV6: 40}
_TCP_HEADER = 20
# <linux/in.h> IP_MTU, <linux/in6.h> IPV6_MTU: the route's MTU on a connected socket
_IP_MTU = 14
_IPV6_MTU = 24
_TCPI_OPT_TIMESTAMPS = 1
_TCP_INFO_HEAD = struct.Struct("=8BIII")  # 8 x u8 (..., tcpi_options, ...), rto, ato, snd_mss
_TIMESTAMP_OPTION = 12  # bytes of the TCP timestamp option (aligned), RFC 7323
GREETING_LIMIT = 4096  # bytes of the first line we read, at most
ECHO_SEGMENTS = 3  # full segments echoed per MTU rung
_LINGER_RST = struct.pack("ii", 1, 0)


def measure(
    endpoints: Sequence[Endpoint], options: DataPathOptions, deadline: float
) -> tuple[DataPath, ...]:
    """The data path of each distinct (address, port) in `endpoints`, in their order.

    `endpoints` are ones the probe found `open`; `deadline` is a time.monotonic()
    value after which no new connection starts (waits are cut to it). Never raises
    for network outcomes: a failed follow-up is `AfterHandshake.FAILED`.
    """
    unique = list({(e.address, e.port): e for e in endpoints}.values())
    if not unique or not options.enabled:
        return ()
    return tuple(asyncio.run(_measure_all(unique, options, deadline)))


async def _measure_all(
    endpoints: list[Endpoint], options: DataPathOptions, deadline: float
) -> list[DataPath]:
    # the first connections only wait and read: all of them at once (a wait each, not
    # one per wave); the quality connections talk to responders: fewer, under their caps
    first_slots = asyncio.Semaphore(max(1, options.concurrency))
    slots = asyncio.Semaphore(max(1, options.quality_concurrency))
    return list(
        await asyncio.gather(
            *(_measure_one(e, options, deadline, first_slots, slots) for e in endpoints)
        )
    )


async def _measure_one(
    endpoint: Endpoint,
    options: DataPathOptions,
    deadline: float,
    first_slots: asyncio.Semaphore,
    slots: asyncio.Semaphore,
) -> DataPath:
    async with first_slots:
        first, rtt0 = await observe(endpoint, options, deadline)
    quality = options.path_quality
    greeted = first.greeting is not None
    if quality is PathQuality.OFF or (quality is PathQuality.AUTO and not greeted):
        return first
    if first.after is AfterHandshake.FAILED or rtt0 is None:
        return first
    samples = [rtt0]
    for _ in range(max(0, options.samples - 1)):
        async with slots:
            sample = await handshake_rtt(endpoint, options, deadline)
        if sample is not None:
            samples.append(sample)
    local_mtu = route_mtu(endpoint)
    steps: tuple[MtuStep, ...] = ()
    if first.greeting is not None and first.greeting.echoes:
        sizes = [s for s in MTU_LADDER if local_mtu is None or s <= local_mtu]

        async def rung(size: int) -> MtuStep:
            async with slots:
                return await mtu_step(endpoint, size, options, deadline)

        steps = tuple(await asyncio.gather(*(rung(s) for s in sizes)))
    return DataPath(
        first.address,
        first.port,
        first.family,
        first.after,
        first.detail,
        first.wait_ms,
        first.greeting,
        first.source,
        RttStats(tuple(samples)),
        steps,
        local_mtu,
    )


def _left(deadline: float, wanted: float) -> float:
    return max(0.001, min(wanted, deadline - time.monotonic()))


def _socket(endpoint: Endpoint, mss: int | None = None) -> socket.socket:
    sock = socket.socket(_AF[endpoint.family], socket.SOCK_STREAM)
    sock.setblocking(False)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
    if mss is not None:
        # before connect(): advertised in our SYN, and it caps what we send
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
    return sock


def _sockaddr(endpoint: Endpoint) -> tuple[str, int] | tuple[str, int, int, int]:
    if endpoint.family is Family.IPV6:
        return (endpoint.address, endpoint.port, 0, 0)
    return (endpoint.address, endpoint.port)


async def _connect(sock: socket.socket, endpoint: Endpoint, timeout: float) -> float:
    """Milliseconds the handshake took; raises OSError or asyncio.TimeoutError."""
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    await asyncio.wait_for(loop.sock_connect(sock, _sockaddr(endpoint)), timeout)
    return (time.perf_counter() - started) * 1000


def _failure(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "connect timed out"
    if isinstance(exc, OSError) and exc.errno:
        return errno_name(exc.errno)
    return type(exc).__name__


async def observe(
    endpoint: Endpoint, options: DataPathOptions, deadline: float
) -> tuple[DataPath, float | None]:
    """Connect, then read (never write) until a line, a close, or the wait ends.

    The wait is `options.wait` seconds, stretched to 3 handshake round trips on slow
    paths (the greeting leaves the peer when it accepts, one round trip after our
    SYN). Returns the observation and the handshake time in ms (None if it failed).
    """

    def result(
        after: AfterHandshake,
        detail: str,
        waited: float = 0.0,
        greeting: Greeting | None = None,
        source: str | None = None,
    ) -> DataPath:
        return DataPath(
            endpoint.address, endpoint.port, endpoint.family, after, detail, waited, greeting,
            source,
        )  # fmt: skip

    try:
        sock = _socket(endpoint)
    except OSError as exc:
        return result(AfterHandshake.FAILED, _failure(exc)), None
    with sock:
        try:
            rtt = await _connect(sock, endpoint, _left(deadline, options.timeout))
        except ConnectionResetError:
            # the peer accepted and reset before our connect() returned: the handshake
            # completed (the probe saw it open), then the RST came
            return result(AfterHandshake.RESET, "RST right after the handshake"), None
        except (OSError, asyncio.TimeoutError) as exc:
            return result(AfterHandshake.FAILED, _failure(exc)), None
        source = _unmapped(sock.getsockname()[0])
        wait = max(options.wait, 3 * rtt / 1000)
        started = time.perf_counter()
        data, ending = await _read_line(sock, _left(deadline, wait))
        waited = (time.perf_counter() - started) * 1000
        greeting = _greeting(data)
        if greeting is not None:
            detail = greeting_detail(greeting)
            return result(AfterHandshake.GREETING, detail, waited, greeting, source), rtt
        if data:
            shown = data[:32].decode("ascii", "backslashreplace")
            detail = f"{len(data)} bytes: {shown!r}"
            return result(AfterHandshake.OTHER, detail, waited, None, source), rtt
        outcomes = {
            "eof": (AfterHandshake.CLOSED, "FIN before any byte"),
            "reset": (AfterHandshake.RESET, "RST before any byte"),
            "timeout": (AfterHandshake.SILENT, f"nothing in {waited:.0f} ms"),
        }
        # any other ending is an error on the established connection (e.g. an ICMP error)
        after, detail = outcomes.get(ending, (AfterHandshake.FAILED, f"{ending} while reading"))
        return result(after, detail, waited, None, source), rtt


async def _read_line(sock: socket.socket, wait: float) -> tuple[bytes, str]:
    """Bytes up to the first newline (or GREETING_LIMIT), and how the read ended:
    'line', 'eof', 'reset', 'timeout', or an errno name."""
    loop = asyncio.get_running_loop()
    end = time.monotonic() + wait
    data = b""
    while b"\n" not in data and len(data) < GREETING_LIMIT:
        left = end - time.monotonic()
        if left <= 0:
            return data, "timeout"
        try:
            chunk = await asyncio.wait_for(loop.sock_recv(sock, GREETING_LIMIT), left)
        except asyncio.TimeoutError:
            return data, "timeout"
        except ConnectionResetError:
            return data, "reset"
        except OSError as exc:
            return data, errno_name(exc.errno or 0)
        if not chunk:
            return data, "eof"
        data += chunk
    return data, "line"


def _greeting(data: bytes) -> Greeting | None:
    line = data.split(b"\n", 1)[0]
    try:
        decoded = json.loads(line)
    except ValueError:
        return None
    if not isinstance(decoded, dict):
        return None
    try:
        return Greeting.parse(decoded)
    except (TypeError, ValueError):
        return None


def greeting_detail(greeting: Greeting) -> str:
    who = greeting.name or greeting.pod
    text = f"voltprobe {greeting.version} (protocol {greeting.protocol})"
    if who:
        text += f" {who}"
    return text + (", busy" if greeting.busy else "")


async def handshake_rtt(
    endpoint: Endpoint, options: DataPathOptions, deadline: float
) -> float | None:
    """One more handshake's duration in ms, or None if it did not complete in time."""
    if time.monotonic() >= deadline:
        return None
    try:
        with _socket(endpoint) as sock:
            return await _connect(sock, endpoint, _left(deadline, options.timeout))
    except (OSError, asyncio.TimeoutError):
        return None


def route_mtu(endpoint: Endpoint) -> int | None:
    """The MTU of this host's route towards `endpoint` (a connected UDP socket sends
    nothing; the kernel reports the route's, or the cached path's, MTU)."""
    try:
        with socket.socket(_AF[endpoint.family], socket.SOCK_DGRAM) as udp:
            udp.connect(_sockaddr(endpoint))
            if endpoint.family is Family.IPV4:
                return int(udp.getsockopt(socket.IPPROTO_IP, _IP_MTU))
            return int(udp.getsockopt(socket.IPPROTO_IPV6, _IPV6_MTU))
    except OSError:
        return None


def _segment_packet_size(sock: socket.socket, family: Family) -> int | None:
    """The IP size of a full segment on this connection (TCP_INFO snd_mss + headers)."""
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_HEAD.size)
    except OSError:
        return None
    fields = _TCP_INFO_HEAD.unpack(info[: _TCP_INFO_HEAD.size])
    options, snd_mss = fields[5], fields[10]
    timestamps = _TIMESTAMP_OPTION if options & _TCPI_OPT_TIMESTAMPS else 0
    return _IP_HEADER[family] + _TCP_HEADER + timestamps + snd_mss


async def mtu_step(
    endpoint: Endpoint, size: int, options: DataPathOptions, deadline: float
) -> MtuStep:
    """One rung: a connection whose segments are `size`-byte IP packets (TCP_MAXSEG),
    greeted, then ECHO of ECHO_SEGMENTS full segments within `options.timeout`.

    A rung the route or the peer's MSS keeps below `size` is CAPPED (not sent at
    that size, so it says nothing about a black hole)."""
    loop = asyncio.get_running_loop()
    mss = size - _IP_HEADER[endpoint.family] - _TCP_HEADER
    try:
        sock = _socket(endpoint, mss)
    except OSError as exc:
        return MtuStep(size, StepOutcome.FAILED, None, f"socket: {_failure(exc)}")
    with sock:
        try:
            await _connect(sock, endpoint, _left(deadline, options.timeout))
        except (OSError, asyncio.TimeoutError) as exc:
            return MtuStep(size, StepOutcome.FAILED, None, f"connect: {_failure(exc)}")
        data, _ending = await _read_line(sock, _left(deadline, options.timeout))
        greeting = _greeting(data)
        if greeting is None or not greeting.echoes:
            return MtuStep(size, StepOutcome.FAILED, None, "no greeting that offers echo")
        actual = _segment_packet_size(sock, endpoint.family)
        if actual is not None and actual < size:
            return MtuStep(
                size, StepOutcome.CAPPED, None, f"capped: full segments are {actual} bytes"
            )
        payload_size = ECHO_SEGMENTS * mss
        payload = bytes(range(256)) * (payload_size // 256 + 1)
        payload = payload[:payload_size]
        started = time.perf_counter()
        received = 0
        try:
            await asyncio.wait_for(loop.sock_sendall(sock, b"ECHO\n" + payload), options.timeout)
            end = time.monotonic() + _left(deadline, options.timeout)
            while received < payload_size:
                left = end - time.monotonic()
                if left <= 0:
                    raise asyncio.TimeoutError
                chunk = await asyncio.wait_for(loop.sock_recv(sock, 65536), left)
                if not chunk:
                    return MtuStep(size, StepOutcome.FAILED, None, f"closed after {received} bytes")
                received += len(chunk)
        except asyncio.TimeoutError:
            return MtuStep(
                size, StepOutcome.STALLED, None, f"stalled: {received} of {payload_size} bytes back"
            )
        except OSError as exc:
            return MtuStep(
                size, StepOutcome.FAILED, None, f"{_failure(exc)} after {received} bytes"
            )
        return MtuStep(size, StepOutcome.PASSED, (time.perf_counter() - started) * 1000)


def _unmapped(address: str) -> str:
    return address[7:] if address.lower().startswith("::ffff:") and "." in address else address
