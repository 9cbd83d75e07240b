"""The responder's protocol v1 on loopback: greeting fields, opt-in echo, the caps."""

from __future__ import annotations

import asyncio
import io
import json
import re
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest

from probe.serve import ECHO_LIMIT, PROTOCOL, Limits, Responder, open_listeners

DEFAULT_LIMITS = Limits()


@contextmanager
def running(
    limits: Limits = DEFAULT_LIMITS,
    binds: Sequence[str] = ("127.0.0.1",),
    name: str | None = None,
) -> Iterator[tuple[int, Responder, io.StringIO]]:
    """An in-process responder on its own event loop thread; yields (port, responder, log)."""
    sockets = open_listeners(list(binds), 0)
    port = sockets[0].getsockname()[1]
    log = io.StringIO()
    responder = Responder(name, limits, log)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    thread = threading.Thread(
        target=lambda: loop.run_until_complete(responder.serve(sockets, stop))
    )
    thread.start()
    try:
        yield port, responder, log
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


def connect(port: int, source: str = "127.0.0.1", host: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection((host, port), timeout=5, source_address=(source, 0))
    return sock


def read_line(sock: socket.socket) -> dict[str, Any]:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(4096)
        assert chunk, f"closed before a full line: {data!r}"
        data += chunk
    return json.loads(data)


def read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_greeting_has_the_v1_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POD_NAME", "volt-0")
    with running(name="east") as (port, _responder, _log), connect(port) as sock:
        line = read_line(sock)
        source_port = sock.getsockname()[1]
    assert line["server"] == "voltprobe" and line["protocol"] == PROTOCOL == 1
    assert line["clientAddress"] == "127.0.0.1" and line["clientFamily"] == "IPv4"
    assert line["client"] == f"127.0.0.1:{source_port}"
    assert line["listener"] == f"127.0.0.1:{port}" and line["listenerAddress"] == "127.0.0.1"
    assert line["pod"] == "volt-0" and line["name"] == "east"
    assert line["echo"] == "ECHO" and "busy" not in line


def test_an_ipv4_client_of_the_dual_stack_socket_is_reported_as_ipv4() -> None:
    with running(binds=()) as (port, _responder, _log), connect(port) as sock:
        line = read_line(sock)
    assert line["clientAddress"] == "127.0.0.1", line  # not ::ffff:127.0.0.1
    assert line["listenerAddress"] == "127.0.0.1"


def test_echo_on_request_returns_exactly_what_was_sent() -> None:
    payload = bytes(range(256)) * 40
    with running() as (port, _responder, _log), connect(port) as sock:
        greeting = read_line(sock)
        sock.sendall(b"ECHO\n" + payload)
        sock.shutdown(socket.SHUT_WR)
        assert read_all(sock) == payload
    assert greeting["protocol"] == 1


def test_echo_stops_at_64_kib_and_never_sends_more_than_it_received() -> None:
    sent = ECHO_LIMIT + 50_000
    with running() as (port, _responder, _log), connect(port) as sock:
        read_line(sock)
        sender = threading.Thread(target=sock.sendall, args=(b"ECHO\n" + b"x" * sent,))
        sender.start()
        echoed = read_all(sock)  # the responder sends FIN after the limit
        sender.join(5)
    assert len(echoed) == ECHO_LIMIT


def test_without_a_request_it_greets_and_closes_on_anything_else() -> None:
    with running() as (port, _responder, _log), connect(port) as sock:
        read_line(sock)
        sock.sendall(b"HELLO\nmore bytes\n")
        assert read_all(sock) == b""


def test_an_idle_client_is_closed_after_the_idle_timeout() -> None:
    with running(Limits(idle_timeout=0.3)) as (port, _responder, _log), connect(port) as sock:
        read_line(sock)
        started = time.monotonic()
        assert read_all(sock) == b""
        assert time.monotonic() - started < 3


def test_over_the_per_source_cap_a_client_is_greeted_busy_and_closed() -> None:
    with running(Limits(per_source=3, total=100)) as (port, responder, _log):
        held = [connect(port) for _ in range(3)]
        try:
            for sock in held:
                assert "busy" not in read_line(sock)
            with connect(port) as extra:
                assert read_line(extra)["busy"] is True
                assert read_all(extra) == b""
            with connect(port, source="127.0.0.2") as other_source:
                assert "busy" not in read_line(other_source)
            assert responder.active <= 4
        finally:
            for sock in held:
                sock.close()


def test_over_the_global_cap_a_client_is_greeted_busy() -> None:
    with running(Limits(per_source=100, total=2)) as (port, _responder, _log):
        held = [connect(port, source=f"127.0.0.{n}") for n in (2, 3)]
        try:
            for sock in held:
                read_line(sock)
            with connect(port, source="127.0.0.4") as extra:
                assert read_line(extra)["busy"] is True
        finally:
            for sock in held:
                sock.close()


def test_every_connection_is_logged_with_time_family_source_and_destination() -> None:
    with running() as (port, _responder, log):
        with connect(port) as sock:
            read_line(sock)
            source_port = sock.getsockname()[1]
        time.sleep(0.05)
    line = log.getvalue().splitlines()[0]
    assert re.fullmatch(
        rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ IPv4 127\.0\.0\.1:{source_port} -> "
        rf"127\.0\.0\.1:{port} greeted",
        line,
    ), line
