"""`voltprobe serve` under load on loopback: thousands of connections, slow and oversized
clients; its file descriptors and memory stay bounded and new clients are still answered.

The default test takes a few seconds. The larger flood is behind the `flood` marker:
    .venv/bin/python -m pytest -p no:cacheprovider -m flood tests/test_serve_load.py
"""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from probe.serve import ECHO_LIMIT, GLOBAL_LIMIT, PER_SOURCE_LIMIT
from tests.support.processes import VOLTPROBE, wait_until


@dataclass
class Served:
    pid: int
    port: int
    log: list[str]

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def rss_kib(self) -> int:
        with open(f"/proc/{self.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")


@contextmanager
def serve_process() -> Iterator[Served]:
    """`voltprobe serve --bind 127.0.0.1 --port 0`; the port comes from its first log line."""
    process = subprocess.Popen(
        [VOLTPROBE, "serve", "--bind", "127.0.0.1", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        assert "listening on 127.0.0.1:" in first, first
        log: list[str] = []
        threading.Thread(target=lambda: log.extend(process.stderr), daemon=True).start()  # type: ignore[arg-type]
        yield Served(process.pid, int(first.rsplit(":", 1)[1]), log)
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(autouse=True)
def _enough_fds() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 16384 <= hard or hard == resource.RLIM_INFINITY:
        resource.setrlimit(resource.RLIMIT_NOFILE, (16384, hard))


def open_clients(port: int, count: int, sources: int, first_source: int = 2) -> list[socket.socket]:
    """`count` connected sockets spread over `sources` loopback source addresses."""
    clients = []
    for n in range(count):
        source = f"127.0.{1 + (first_source + n % sources) // 250}.{(first_source + n % sources) % 250 + 1}"
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((source, 0))
        sock.settimeout(5)
        sock.connect(("127.0.0.1", port))
        clients.append(sock)
    return clients


def greeting_of(sock: socket.socket) -> dict[str, object]:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(4096)
        assert chunk, data
        data += chunk
    return json.loads(data)


def answered_promptly(port: int, source: str) -> float:
    """Seconds a fresh client waits for its greeting."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0)) as s:
        greeting_of(s)
    return time.monotonic() - started


def load(served: Served, slow: int, oversized: int, same_source: int) -> None:
    """Slow clients (ECHO, then one byte, then nothing), oversized ones (ECHO and
    256 KiB without reading), and `same_source` clients from one address."""
    baseline_fds = served.fds()
    baseline_rss = served.rss_kib()
    slow_clients = open_clients(served.port, slow, sources=max(1, slow // 200))
    big_clients = open_clients(served.port, oversized, sources=10, first_source=900)
    crowd = open_clients(served.port, same_source, sources=1, first_source=1200)
    try:
        for sock in slow_clients:
            sock.sendall(b"ECHO\nx")
        for sock in big_clients:
            sock.setblocking(False)
            try:
                sock.send(b"ECHO\n" + b"y" * 256 * 1024)
            except BlockingIOError:
                pass
        busy = 0
        for sock in crowd:
            if greeting_of(sock).get("busy"):
                busy += 1
        # one source over its cap gets greeted busy; the rest are held
        assert busy >= same_source - PER_SOURCE_LIMIT > 0, busy
        assert answered_promptly(served.port, "127.0.9.1") < 1.0
        fds, rss = served.fds(), served.rss_kib()
        assert fds <= baseline_fds + GLOBAL_LIMIT + 16, fds
        # ~80 KiB of buffers per connection at most (the echo cap, a 16 KiB read buffer)
        assert rss - baseline_rss < (slow + oversized + same_source) * 100 + 64 * 1024, rss
        for sock in big_clients:  # an oversized client gets at most the echo cap back
            sock.setblocking(True)
            sock.settimeout(5)
            data = b""
            try:
                while chunk := sock.recv(65536):
                    data += chunk
            except (ConnectionResetError, TimeoutError):
                pass
            assert len(data) <= len(json.dumps({}).encode()) + 1024 + ECHO_LIMIT
    finally:
        for sock in slow_clients + big_clients + crowd:
            sock.close()
    # everything held is released, and the next client is answered
    time.sleep(0.5)
    assert served.fds() <= baseline_fds + 16
    assert answered_promptly(served.port, "127.0.9.2") < 1.0


def test_thousands_of_slow_and_oversized_clients_stay_bounded() -> None:
    with serve_process() as served:
        load(served, slow=1300, oversized=100, same_source=PER_SOURCE_LIMIT + 100)
        # a log line per connection (read by a thread: give it a moment)
        assert wait_until(lambda: len(served.log) >= 2000), len(
            served.log
        )  # a log line per connection


@pytest.mark.flood
def test_flood_over_the_global_cap() -> None:
    """More clients than the global cap: the excess is greeted busy, fds stay capped."""
    with serve_process() as served:
        load(served, slow=6000, oversized=500, same_source=1000)


def test_the_listen_backlog_is_set_explicitly() -> None:
    """asyncio calls listen() again with 100 unless told: a burst of SYNs would overflow it."""
    with open("/proc/sys/net/core/somaxconn", encoding="ascii") as conf:
        somaxconn = int(conf.read())
    with serve_process() as served:
        listing = subprocess.run(
            ["ss", "-ltnH", f"sport = :{served.port}"], capture_output=True, text=True, check=True
        ).stdout.split()
    assert int(listing[2]) == min(4096, somaxconn), listing  # Send-Q of a listener: backlog
