"""A loopback port that never answers a SYN: a listener whose accept queue is full.

Linux drops a SYN to a listener whose accept queue is full (net.ipv4.tcp_abort_on_overflow
is 0 by default): connect() to it stays in SYN-SENT, the way a filtering firewall looks,
without any packet leaving loopback.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def blackhole() -> Iterator[int]:
    """Yields a port on 127.0.0.1 whose SYNs go unanswered while the context lasts."""
    listener = socket.socket()
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        for _ in range(3):  # backlog 0 holds one; the others make sure the queue is full
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        time.sleep(0.1)
        yield port
    finally:
        for sock in fillers:
            sock.close()
        listener.close()
