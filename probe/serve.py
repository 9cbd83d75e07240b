"""`voltprobe serve`: a stand-in for VoltDB's DR listener.

Each connection gets one JSON line (who answered, and the client address it
saw), then the connection closes. With no --bind it listens on `::` with
IPV6_V6ONLY off, so one socket takes both families (0.0.0.0 if IPv6 is off).
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from collections.abc import Sequence

from probe import __version__
from probe.errors import CannotRunError, UsageError
from probe.model import format_endpoint


def open_listeners(binds: Sequence[str], port: int) -> list[socket.socket]:
    """Bound, listening sockets; port 0 picks one free port shared by all of them."""
    if not binds:
        return [_dual_stack_listener(port)]
    sockets: list[socket.socket] = []
    try:
        for address in binds:
            sock = _listener(address, port)
            port = port or sock.getsockname()[1]
            sockets.append(sock)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _listener(address: str, port: int) -> socket.socket:
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
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        raise CannotRunError(f"cannot listen on {address} port {port}: {exc.strerror}") from exc
    return sock


def _dual_stack_listener(port: int) -> socket.socket:
    try:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    except OSError:
        return _listener("0.0.0.0", port)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(("::", port))
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        if port:
            raise CannotRunError(f"cannot listen on port {port}: {exc.strerror}") from exc
        return _listener("0.0.0.0", port)
    return sock


def describe(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return format_endpoint(host, port)


async def serve_forever(sockets: list[socket.socket], stop: asyncio.Event) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        local = writer.get_extra_info("sockname")
        line = {
            "server": "voltprobe",
            "version": __version__,
            "listener": format_endpoint(local[0], local[1]),
            "client": format_endpoint(peer[0], peer[1]) if peer else None,
        }
        try:
            writer.write((json.dumps(line) + "\n").encode())
            await writer.drain()
        except OSError:
            pass  # probers reset the connection right after the handshake
        finally:
            writer.close()

    servers = [await asyncio.start_server(answer, sock=sock) for sock in sockets]
    await stop.wait()
    for server in servers:
        server.close()
        await server.wait_closed()


def run_serve(binds: Sequence[str], port: int) -> int:
    sockets = open_listeners(binds, port)
    print(
        "voltprobe serve: listening on " + ", ".join(describe(s) for s in sockets),
        file=sys.stderr,
        flush=True,
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await serve_forever(sockets, stop)

    asyncio.run(main())
    return 0
