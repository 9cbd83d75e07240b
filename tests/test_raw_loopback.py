"""The raw prober with real sockets on loopback, and its matching rules on real packets.

Needs raw sockets (root or CAP_NET_RAW): skipped with the reason otherwise, failed
under VOLTPROBE_REQUIRE_LAB=1 (CI). Traffic goes to 127.0.0.1 and ::1 only.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from scapy.layers.inet import IP, TCP

from probe.model import Endpoint, Family, Method, ProbeState
from probe.probers.raw import Batch, RawProber, RawStats
from probe.probers.rawpackets import build_templates
from probe.probers.rawschedule import Schedule
from probe.probers.rawsockets import RawSockets, check_raw_capability

CAPABILITY = check_raw_capability()
if not CAPABILITY.families:
    if os.environ.get("VOLTPROBE_REQUIRE_LAB") == "1":
        raise RuntimeError(f"raw sockets are required here: {CAPABILITY.why_not}")
    pytest.skip(f"raw sockets not allowed: {CAPABILITY.why_not}", allow_module_level=True)

LOOPBACK = {Family.IPV4: "127.0.0.1", Family.IPV6: "::1"}
_AF = {Family.IPV4: socket.AF_INET, Family.IPV6: socket.AF_INET6}


@pytest.fixture
def ports() -> Iterator[dict[tuple[Family, str], int]]:
    """An open (listening) and a closed (bound, not listening) port per family."""
    sockets = []
    found = {}
    try:
        for family in CAPABILITY.families:
            for state in ("open", "closed"):
                sock = socket.socket(_AF[family], socket.SOCK_STREAM)
                sockets.append(sock)
                sock.bind((LOOPBACK[family], 0))
                if state == "open":
                    sock.listen(16)
                found[(family, state)] = sock.getsockname()[1]
        yield found
    finally:
        for sock in sockets:
            sock.close()


def endpoints(ports: dict[tuple[Family, str], int]) -> list[Endpoint]:
    return [
        Endpoint(f"{family}-{state}", LOOPBACK[family], family, port)
        for (family, state), port in sorted(ports.items())
    ]


def test_open_and_closed_on_loopback(tmp_path: Path, ports: dict[tuple[Family, str], int]) -> None:
    pcap = tmp_path / "probes.pcap"
    prober = RawProber(timeout=1.0, rate=1000, pcap=str(pcap))
    started = time.monotonic()
    results = prober.probe(endpoints(ports))
    elapsed = time.monotonic() - started
    by_target = {r.target: r for r in results}
    for (family, state), port in ports.items():
        row = by_target[f"{family}-{state}"]
        assert row.method is Method.RAW
        assert row.port == port and row.address == LOOPBACK[family]
        expected = ProbeState.OPEN if state == "open" else ProbeState.CLOSED
        assert (row.state, row.reason) == (expected, "syn-ack" if state == "open" else "reset")
        assert row.rtt_ms is not None and row.rtt_ms < 500
    assert elapsed < 0.9  # everything answered: no waiting for the timeout
    assert prober.stats.sent == len(ports) and prober.stats.retries == 0

    from scapy.utils import rdpcap

    packets = rdpcap(str(pcap))
    syns = [p for p in packets if TCP in p and p[TCP].flags == "S"]
    answers = [p for p in packets if TCP in p and p[TCP].flags != "S"]
    assert len(syns) == len(ports) and len(answers) >= len(ports)


def test_a_pcap_that_cannot_be_written_keeps_the_results(
    tmp_path: Path,
    ports: dict[tuple[Family, str], int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def disk_full(path: str, capture: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("probe.probers.raw.write_pcap", disk_full)
    pcap = tmp_path / "probes.pcap"
    prober = RawProber(timeout=1.0, rate=1000, pcap=str(pcap))
    results = prober.probe(endpoints(ports))
    assert {r.state for r in results} == {ProbeState.OPEN, ProbeState.CLOSED}
    assert prober.pcap_error == f"cannot write the pcap file {pcap}: No space left on device"
    assert prober.pcap_error in capsys.readouterr().err


def test_the_same_address_and_port_twice_is_probed_once_with_a_row_each(
    ports: dict[tuple[Family, str], int],
) -> None:
    family = min(CAPABILITY.families)
    port = ports[(family, "open")]
    twice = [Endpoint(name, LOOPBACK[family], family, port) for name in ("a", "b")]
    prober = RawProber(timeout=1.0, rate=1000)
    results = prober.probe(twice)
    assert [(r.target, r.state) for r in results] == [
        ("a", ProbeState.OPEN),
        ("b", ProbeState.OPEN),
    ]
    assert prober.stats.sent == 1


def test_quick_mode_does_not_wait_for_the_timeout(ports: dict[tuple[Family, str], int]) -> None:
    started = time.monotonic()
    results = RawProber(timeout=5.0, quick=True).probe(endpoints(ports))
    assert time.monotonic() - started < 1.0
    assert {r.state for r in results} == {ProbeState.OPEN, ProbeState.CLOSED}


def loopback_batch(port: int) -> Batch:
    endpoint = Endpoint("t", "127.0.0.1", Family.IPV4, port)
    batch = Batch([endpoint], RawSockets(port=40000), build_templates, capture=False)
    batch.schedule = Schedule(1, 1.0)
    assert batch._prepare(0)
    batch.schedule.sent(0, 0.0)
    return batch


def answer(port: int, ack: int, flags: str) -> bytes:
    return bytes(
        IP(src="127.0.0.1", dst="127.0.0.1") / TCP(sport=port, dport=40000, ack=ack, flags=flags)
    )


def test_an_answer_with_the_wrong_ack_is_ignored_and_explained() -> None:
    batch = loopback_batch(5555)
    stats = RawStats()
    batch._on_tcp(Family.IPV4, answer(5555, batch.isns[0], "SA"), b"", b"", 0.001, stats)
    assert batch.evidence[0] is None and stats.ignored == 1
    (row,) = batch.results(quick=False)
    assert row.state is ProbeState.FILTERED
    assert row.reason.startswith(
        "no-response; ignored IP / TCP 127.0.0.1:5555 > 127.0.0.1:40000 SA"
    )


def test_the_answer_with_ack_isn_plus_one_counts() -> None:
    batch = loopback_batch(5555)
    stats = RawStats()
    batch._on_tcp(Family.IPV4, answer(5555, batch.isns[0] + 1, "SA"), b"", b"", 0.002, stats)
    batch._on_tcp(Family.IPV4, answer(5556, batch.isns[0] + 1, "SA"), b"", b"", 0.003, stats)
    (row,) = batch.results(quick=False)
    assert (row.state, row.reason) == (ProbeState.OPEN, "syn-ack")
    assert row.rtt_ms == pytest.approx(2.0)
    assert stats.answers == 1  # the answer from another port is not ours


def test_the_kernel_filter_lets_through_only_tcp_to_our_port() -> None:
    """The cBPF program on the IPv4 TCP receive socket: a segment to another port
    never reaches Python, one to the batch's port does."""
    from probe.probers.rawsockets import open_raw_sockets

    sockets = open_raw_sockets({Family.IPV4})
    try:
        group = sockets.families[Family.IPV4]
        for dport in (sockets.port + 1 if sockets.port < 65535 else 1, sockets.port):
            segment = IP(src="127.0.0.1", dst="127.0.0.1") / TCP(sport=9, dport=dport, flags="R")
            group.send.sendto(bytes(segment), ("127.0.0.1", 0))
        time.sleep(0.05)
        received = []
        while True:
            try:
                received.append(group.tcp.recv(2048))
            except BlockingIOError:
                break
    finally:
        sockets.close()
    ports = [int.from_bytes(packet[22:24], "big") for packet in received]
    assert ports == [sockets.port]


@pytest.mark.parametrize("cache", ["off", "warm"])
def test_a_raw_check_with_and_without_the_template_cache(
    ports: dict[tuple[Family, str], int], tmp_path: Path, cache: str
) -> None:
    """The whole command on loopback: the same verdicts either way, and a run with a
    warm cache never imports scapy (-X importtime lists every module imported)."""
    import subprocess
    import sys

    closed = ports[(Family.IPV4, "closed")]
    directory = "" if cache == "off" else str(tmp_path)
    env = {**os.environ, "VOLTPROBE_CACHE_DIR": directory}
    command = [sys.executable, "-X", "importtime", "-m", "probe.cli", "check", "--no-kube",
               "--mode", "raw", "--quick", "-o", "json", "--peer", f"127.0.0.1:{closed}"]  # fmt: skip
    if cache == "warm":
        subprocess.run(command, env=env, capture_output=True, check=False, timeout=60)
        assert (tmp_path / "syn-templates.json").is_file()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    (row,) = json.loads(done.stdout)["probes"]
    assert (row["state"], row["method"], row["reason"]) == ("closed", "raw", "reset")
    imported_scapy = "scapy.layers.inet" in done.stderr
    assert imported_scapy is (cache == "off")
