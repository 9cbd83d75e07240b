"""Loopback TCP listeners that behave like the peers the data path must tell apart.

Real sockets on 127.0.0.1 / ::1, one thread each. Each records every byte a client
sent it, so a test can assert that the check never wrote to a non-responder.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from probe.serve import greeting

BEHAVIOURS = ("silent", "close", "reset", "greet0", "other")


class Listener:
    def __init__(self, behaviour: str, bind: str = "127.0.0.1") -> None:
        assert behaviour in BEHAVIOURS
        self.behaviour = behaviour
        self.sock = socket.socket(socket.AF_INET6 if ":" in bind else socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((bind, 0))
        self.sock.listen(128)
        self.sock.settimeout(0.1)
        self.port: int = self.sock.getsockname()[1]
        self.received = 0
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, peer = self.sock.accept()
            except TimeoutError:
                self._drain()
                continue
            self.accepted += 1
            try:
                self._behave(conn, peer)
            except OSError:
                conn.close()  # the client went away first (the check closes with RST)
            self._drain()

    def _behave(self, conn: socket.socket, peer: tuple[str, int]) -> None:
        if self.behaviour == "close":
            conn.close()
        elif self.behaviour == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
        elif self.behaviour == "greet0":  # voltprobe serve before protocol v1
            fields = greeting(peer[:2], conn.getsockname()[:2], None)
            old = {
                k: v for k, v in fields.items() if k in ("server", "version", "listener", "client")
            }
            conn.sendall((json.dumps(old) + "\n").encode())
            conn.close()
        else:
            if self.behaviour == "other":
                conn.sendall(b"\x00\x01binary banner")
            conn.setblocking(False)
            self._held.append(conn)

    def _drain(self) -> None:
        for conn in self._held:
            try:
                data = conn.recv(65536)
            except (BlockingIOError, OSError):
                continue
            self.received += len(data)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._drain()
        for conn in self._held:
            conn.close()
        self.sock.close()


@contextmanager
def listener(behaviour: str, bind: str = "127.0.0.1") -> Iterator[Listener]:
    running = Listener(behaviour, bind)
    running._thread.start()
    try:
        yield running
    finally:
        running.close()
