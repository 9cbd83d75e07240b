"""Benchmark: `voltprobe serve` under load on loopback: memory, file descriptors, and how
long a new client waits for its greeting while thousands of connections are held.

    .venv/bin/python bench/bench_serve.py --held 2000 --oversized 200

Held clients ask for echo and send one byte, then nothing (slow); oversized ones send
256 KiB and never read. Clients use source addresses 127.0.x.y (all loopback), at most
400 per address so that only the global cap is reached. Traffic stays on loopback.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

VOLTPROBE = str(Path(sys.executable).parent / "voltprobe")


def status_kib(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def greeting_ms(port: int, source: str) -> float:
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), 5, source_address=(source, 0)) as sock:
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return (time.perf_counter() - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--held", type=int, default=2000)
    parser.add_argument("--oversized", type=int, default=200)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    proc = subprocess.Popen(
        [VOLTPROBE, "serve", "--bind", "127.0.0.1", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        port = int(proc.stderr.readline().rsplit(":", 1)[1])
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        time.sleep(0.3)
        base_rss, base_fds = status_kib(proc.pid, "VmRSS"), fds(proc.pid)
        idle = [greeting_ms(port, "127.0.200.1") for _ in range(20)]
        clients = []
        started = time.perf_counter()
        for n in range(args.held + args.oversized):
            source = f"127.0.{1 + n // 400}.1"
            sock = socket.socket()
            sock.bind((source, 0))
            sock.connect(("127.0.0.1", port))
            sock.setblocking(False)
            try:
                extra = b"x" if n < args.held else b"y" * 256 * 1024
                sock.send(b"ECHO\n" + extra)
            except BlockingIOError:
                pass
            clients.append(sock)
        opened = time.perf_counter() - started
        time.sleep(0.5)
        loaded = [greeting_ms(port, "127.0.201.1") for _ in range(20)]
        peak_rss = status_kib(proc.pid, "VmHWM")
        print(f"{len(clients)} clients opened in {opened:.2f} s")
        print(f"responder fds {base_fds} -> {fds(proc.pid)} (cap 2048 connections)")
        print(f"responder RSS {base_rss / 1024:.1f} MiB -> {status_kib(proc.pid, 'VmRSS') / 1024:.1f}"
              f" MiB (peak {peak_rss / 1024:.1f} MiB)")  # fmt: skip
        print(f"new client's greeting: idle median {statistics.median(idle):.2f} ms, "
              f"loaded median {statistics.median(loaded):.2f} ms, max {max(loaded):.2f} ms")  # fmt: skip
        for sock in clients:
            sock.close()
        time.sleep(0.5)
        print(
            f"after close: fds {fds(proc.pid)}, RSS {status_kib(proc.pid, 'VmRSS') / 1024:.1f} MiB"
        )
    finally:
        proc.terminate()
        proc.wait(5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
