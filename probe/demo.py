"""`voltprobe demo`: the whole check against a responder on loopback, no cluster, no root."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from errno import EADDRINUSE

from probe.errors import CannotRunError
from probe.serve import open_listeners, serve_forever


def _loopback_listeners() -> tuple[list[socket.socket], str]:
    """127.0.0.1 and ::1 on one ephemeral port; IPv4 alone when this host has no ::1."""
    note = ""
    for _attempt in range(20):
        v4 = open_listeners(["127.0.0.1"], 0)
        try:
            return v4 + open_listeners(["::1"], v4[0].getsockname()[1]), ""
        except CannotRunError as exc:
            note = f" (no responder on ::1: {exc})"
            if not (isinstance(exc.__cause__, OSError) and exc.__cause__.errno == EADDRINUSE):
                return v4, note  # no ::1 here: the IPv6 rows will say so
        for sock in v4:  # that port is taken on ::1: try another one
            sock.close()
    return v4, note


@contextlib.contextmanager
def running_responder() -> Iterator[tuple[int, str]]:
    sockets, note = _loopback_listeners()
    port = sockets[0].getsockname()[1]
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        loop.run_until_complete(serve_forever(sockets, stop))

    thread = threading.Thread(target=run, name="demo-responder", daemon=True)
    thread.start()
    ready.wait(5)
    try:
        yield port, note
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(5)
        if not thread.is_alive():  # a loop still running cannot be closed
            loop.close()
