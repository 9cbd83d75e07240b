"""`voltprobe serve`: a stand-in for VoltDB's DR listener that talks back (protocol v1).

Each connection gets one JSON line, the greeting (see `greeting`), then waits for
one request line: `ECHO` asks the responder to send back what follows, at most
`ECHO_LIMIT` bytes; anything else, or nothing within the idle timeout, closes the
connection. It never sends more than it received plus the greeting. With no
--bind it listens on `::` with IPV6_V6ONLY off, so one socket takes both families
(0.0.0.0 if IPv6 is off).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import signal
import socket
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from probe import __version__
from probe.errors import CannotRunError, UsageError
from probe.model import Family, format_endpoint

PROTOCOL = 1
ECHO_REQUEST = b"ECHO"
ECHO_LIMIT = 64 * 1024  # bytes echoed per connection, at most
REQUEST_LIMIT = 64  # bytes of the request line, at most
DISCARD_LIMIT = 1024 * 1024  # bytes read and dropped past the echo limit before closing
BACKLOG = 4096  # the kernel caps it at net.core.somaxconn
# a check holds at most 256 data-path connections at once (DATA_PATH_CONCURRENCY in
# probe/pipeline.py), and they close at once; a NAT can make several checks one source
PER_SOURCE_LIMIT = 512
GLOBAL_LIMIT = 2048
IDLE_TIMEOUT = 10.0  # seconds without a byte from the client
LIFETIME = 60.0  # seconds a connection may last in all


@dataclass(frozen=True)
class Limits:
    """The responder's bounds; the defaults are documented in the README."""

    per_source: int = PER_SOURCE_LIMIT
    total: int = GLOBAL_LIMIT
    echo_bytes: int = ECHO_LIMIT
    idle_timeout: float = IDLE_TIMEOUT
    lifetime: float = LIFETIME


def unmapped(address: str) -> str:
    """An IPv4-mapped IPv6 address (::ffff:192.0.2.1) as the IPv4 address it stands for."""
    return address[7:] if address.lower().startswith("::ffff:") and "." in address else address


def family_of(address: str) -> str:
    return str(Family.IPV6 if ":" in address else Family.IPV4)


def pod_name() -> str | None:
    """The pod's name: POD_NAME (downward API) or HOSTNAME (a pod's hostname is its name)."""
    return os.environ.get("POD_NAME") or os.environ.get("HOSTNAME") or None


def greeting(
    client: tuple[str, int], local: tuple[str, int], name: str | None, busy: bool = False
) -> dict[str, Any]:
    """The greeting of protocol v1: one JSON object, sent as one line.

    `client`/`local` are (address, port) as the socket reports them; IPv4 clients
    of a dual-stack socket are reported as IPv4.
    """
    client_address, local_address = unmapped(client[0]), unmapped(local[0])
    line: dict[str, Any] = {
        "server": "voltprobe",
        "protocol": PROTOCOL,
        "version": __version__,
        "client": format_endpoint(client_address, client[1]),
        "clientAddress": client_address,
        "clientFamily": family_of(client_address),
        "listener": format_endpoint(local_address, local[1]),
        "listenerAddress": local_address,
        "pod": pod_name(),
        "name": name,
        "echo": ECHO_REQUEST.decode(),
    }
    if busy:
        line["busy"] = True  # over a connection cap: greeted, then closed
    return line


def open_listeners(binds: Sequence[str], port: int, backlog: int = BACKLOG) -> list[socket.socket]:
    """Bound, listening sockets; port 0 picks one free port shared by all of them."""
    if not binds:
        return [_dual_stack_listener(port, backlog)]
    sockets: list[socket.socket] = []
    try:
        for address in binds:
            sock = _listener(address, port, backlog)
            port = port or sock.getsockname()[1]
            sockets.append(sock)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _listener(address: str, port: int, backlog: int = BACKLOG) -> socket.socket:
    try:
        info = socket.getaddrinfo(address, port, 0, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)
    except socket.gaierror as exc:
        raise UsageError(f"--bind {address!r} is not an IP address") from exc
    family, _, _, _, sockaddr = info[0]
    try:
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:  # e.g. IPv6 disabled in this kernel
        raise CannotRunError(f"cannot listen on {address}: {exc.strerror}") from exc
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(sockaddr)
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise CannotRunError(f"cannot listen on {address} port {port}: {exc.strerror}") from exc
    return sock


def _dual_stack_listener(port: int, backlog: int = BACKLOG) -> socket.socket:
    try:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    except OSError:
        return _listener("0.0.0.0", port, backlog)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(("::", port))
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        if port:
            raise CannotRunError(f"cannot listen on port {port}: {exc.strerror}") from exc
        return _listener("0.0.0.0", port, backlog)
    return sock


def describe(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return format_endpoint(host, port)


class Responder:
    """Answers connections on listening sockets under `limits`; counts what it holds."""

    def __init__(
        self, name: str | None = None, limits: Limits = Limits(), log: TextIO | None = None
    ) -> None:
        self.name = name
        self.limits = limits
        self.log = log
        self.active = 0
        self.per_source: Counter[str] = Counter()
        self.served = 0  # connections answered, for tests and figures
        self._tasks: set[asyncio.Task[None]] = set()

    async def serve(self, sockets: list[socket.socket], stop: asyncio.Event) -> None:
        # limit: the StreamReader buffers at most this much before reading pauses;
        # backlog: asyncio calls listen() again, with 100 unless told
        servers = [
            await asyncio.start_server(self.answer, sock=sock, limit=16 * 1024, backlog=BACKLOG)
            for sock in sockets
        ]
        await stop.wait()
        for server in servers:
            server.close()
        for task in list(self._tasks):  # connections in progress end with the server
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for server in servers:
            await server.wait_closed()

    async def answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or ("?", 0)
        local = writer.get_extra_info("sockname") or ("?", 0)
        source = unmapped(peer[0])
        busy = self.active >= self.limits.total or (
            self.per_source[source] >= self.limits.per_source
        )
        self._log(peer, local, "busy" if busy else "greeted")
        self.active += 1
        self.per_source[source] += 1
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            line = json.dumps(greeting(peer[:2], local[:2], self.name, busy)) + "\n"
            writer.write(line.encode())
            if not busy:
                await asyncio.wait_for(self._converse(reader, writer), self.limits.lifetime)
            else:
                await asyncio.wait_for(writer.drain(), self.limits.idle_timeout)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError):
            pass  # the client went away, stalled, or sent a line that is too long
        finally:
            self.active -= 1
            self.per_source[source] -= 1
            if not self.per_source[source]:
                del self.per_source[source]
            self.served += 1
            if task is not None:
                self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(OSError, asyncio.TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        idle = self.limits.idle_timeout
        await asyncio.wait_for(writer.drain(), idle)
        request = await asyncio.wait_for(reader.readline(), idle)
        if request[:REQUEST_LIMIT].strip().upper() != ECHO_REQUEST:
            return  # greet, then close: the protocol v0 behaviour
        left = self.limits.echo_bytes
        while left > 0:
            chunk = await asyncio.wait_for(reader.read(min(left, 16 * 1024)), idle)
            if not chunk:
                return
            left -= len(chunk)
            writer.write(chunk)  # never more than was received
            await asyncio.wait_for(writer.drain(), idle)
        # at the limit: FIN after the echo, then read and discard until the client closes.
        # Closing with unread bytes would send a RST that can destroy the echo in flight.
        writer.write_eof()
        discarded = 0
        while discarded < DISCARD_LIMIT:
            chunk = await asyncio.wait_for(reader.read(16 * 1024), idle)
            if not chunk:
                return
            discarded += len(chunk)

    def _log(self, peer: tuple[Any, ...], local: tuple[Any, ...], what: str) -> None:
        if self.log is None:
            return
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        source, destination = unmapped(str(peer[0])), unmapped(str(local[0]))
        print(
            f"{stamp} {family_of(source)} {format_endpoint(source, peer[1])} -> "
            f"{format_endpoint(destination, local[1])} {what}",
            file=self.log,
            flush=True,
        )


async def serve_forever(
    sockets: list[socket.socket], stop: asyncio.Event, responder: Responder | None = None
) -> None:
    await (responder or Responder()).serve(sockets, stop)


def raise_fd_limit(wanted: int) -> None:
    """Raise the soft RLIMIT_NOFILE towards `wanted` (the hard limit caps it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def run_serve(binds: Sequence[str], port: int, name: str | None = None) -> int:
    sockets = open_listeners(binds, port)
    limits = Limits()
    raise_fd_limit(limits.total + 64)
    print(
        "voltprobe serve: protocol v1, listening on " + ", ".join(describe(s) for s in sockets),
        file=sys.stderr,
        flush=True,
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await serve_forever(sockets, stop, Responder(name, limits, sys.stderr))

    asyncio.run(main())
    return 0
