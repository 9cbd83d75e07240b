"""Run the installed CLI and a loopback responder as real processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

VOLTPROBE = str(Path(sys.executable).parent / "voltprobe")


def run_cli(
    *args: str, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [VOLTPROBE, *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def run_json(*args: str) -> tuple[int, dict[str, Any]]:
    done = run_cli(*args, "-o", "json")
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


@contextmanager
def responder(bind: str = "127.0.0.1") -> Iterator[int]:
    """`voltprobe serve` on an ephemeral port; yields the port, ends the process it started."""
    with socket.socket(socket.AF_INET6 if ":" in bind else socket.AF_INET) as probe_sock:
        probe_sock.bind((bind, 0))
        port = probe_sock.getsockname()[1]
    process = subprocess.Popen(
        [VOLTPROBE, "serve", "--bind", bind, "--port", str(port)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert "listening" in line, line
        # the responder logs every connection on stderr: drain it, or a full pipe stalls it
        threading.Thread(target=process.stderr.read, daemon=True).start()
        yield port
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def closed_port(bind: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in bind else socket.AF_INET) as sock:
        sock.bind((bind, 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False
