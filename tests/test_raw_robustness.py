"""The raw path when the world does not cooperate: raw sockets that fail to open after
the capability check, a --pcap path that cannot be written, repeated endpoints, a
scoped source address. None of these needs raw sockets (they are faked or never opened)."""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from probe.errors import CannotRunError, UsageError
from probe.inventory.types import Inventory
from probe.model import Endpoint, Family, Method, ProbeResult, ProbeState, Target
from probe.options import CheckOptions, Mode
from probe.probers import raw, rawsockets
from probe.probers.plan import (
    LazyConnectProber,
    Plan,
    ProbePrep,
    plan_probes,
    prepare_probing,
    probe_plan,
)
from probe.probers.raw import Batch
from probe.probers.rawpackets import build_templates
from probe.probers.rawpcap import check_pcap_path
from probe.probers.rawschedule import Schedule
from probe.probers.rawsockets import FamilySockets, RawCapability, RawSockets
from probe.probers.verdict import connect_errno_state

BOTH = RawCapability(frozenset({Family.IPV4, Family.IPV6}))
NO_CLUSTER = Inventory(available=False, reason="test")


def options(mode: Mode, pcap: str | None = None) -> CheckOptions:
    return CheckOptions(targets=(Target("peer", "peer", 5555),), mode=mode, timeout=1.0, pcap=pcap)


@pytest.fixture
def listening() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(4)
        yield int(sock.getsockname()[1])


def _refused(families: object) -> RawSockets:
    raise PermissionError(errno.EPERM, "Operation not permitted")


def _run(plan: Plan) -> list[ProbeResult]:
    return list(probe_plan(plan).rows)


# -- raw sockets that fail to open after the capability check ----------------------


def test_auto_falls_back_to_connect_when_raw_sockets_fail_to_open(
    monkeypatch: pytest.MonkeyPatch, listening: int
) -> None:
    monkeypatch.setattr(raw, "open_raw_sockets", _refused)
    endpoint = Endpoint("peer", "127.0.0.1", Family.IPV4, listening)
    plan = plan_probes(options(Mode.AUTO), NO_CLUSTER, [endpoint], ProbePrep(BOTH))
    (batch,) = plan.batches
    assert batch.prober.method is Method.RAW and isinstance(batch.fallback, LazyConnectProber)
    assert plan.raw_note == ""  # nothing known yet at planning time

    probed = probe_plan(plan)

    (row,) = probed.rows
    assert (row.method, row.state, row.address) == (Method.CONNECT, ProbeState.OPEN, "127.0.0.1")
    assert "raw SYN probing could not start (raw sockets refused:" in probed.raw_note
    assert "1 address(es) were probed with connect() instead" in probed.raw_note
    assert "--mode connect" not in probed.raw_note  # a note, not advice to rerun


def test_raw_mode_still_stops_when_raw_sockets_fail_to_open(
    monkeypatch: pytest.MonkeyPatch, listening: int
) -> None:
    monkeypatch.setattr(raw, "open_raw_sockets", _refused)
    endpoint = Endpoint("peer", "127.0.0.1", Family.IPV4, listening)
    plan = plan_probes(options(Mode.RAW), NO_CLUSTER, [endpoint], ProbePrep(BOTH))
    with pytest.raises(CannotRunError, match=r"raw sockets refused: .*; use --mode connect"):
        _run(plan)


def test_other_open_errors_fall_back_too(monkeypatch: pytest.MonkeyPatch, listening: int) -> None:
    def too_many(families: object) -> RawSockets:
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(raw, "open_raw_sockets", too_many)
    endpoint = Endpoint("peer", "127.0.0.1", Family.IPV4, listening)
    plan = plan_probes(options(Mode.AUTO), NO_CLUSTER, [endpoint], ProbePrep(BOTH))
    probed = probe_plan(plan)
    assert probed.rows[0].method is Method.CONNECT and "EMFILE" in probed.raw_note


# -- --pcap ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "why"),
    [
        ("missing/dir/probes.pcap", "does not exist"),
        (".", "is a directory"),
    ],
)
def test_unusable_pcap_path_is_a_usage_error_before_anything_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, why: str
) -> None:
    monkeypatch.setattr(
        "probe.probers.plan.check_raw_capability", lambda: pytest.fail("looked at raw sockets")
    )
    path = str(tmp_path / where)
    with pytest.raises(UsageError, match=f"--pcap .*{why}") as error:
        prepare_probing(options(Mode.RAW, pcap=path))
    assert "\n" not in str(error.value)


def test_pcap_path_that_can_be_written(tmp_path: Path) -> None:
    check_pcap_path(str(tmp_path / "new.pcap"))
    (tmp_path / "old.pcap").write_bytes(b"")
    check_pcap_path(str(tmp_path / "old.pcap"))


def test_raw_prober_checks_the_pcap_path_before_opening_sockets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(raw, "open_raw_sockets", lambda f: pytest.fail("sockets opened"))
    prober = raw.RawProber(1.0, pcap=str(tmp_path / "nowhere" / "x.pcap"))
    with pytest.raises(UsageError, match="does not exist"):
        prober.probe([Endpoint("peer", "127.0.0.1", Family.IPV4, 9)])


# -- the batch's bookkeeping -------------------------------------------------------


def batch_of(endpoints: list[Endpoint]) -> Batch:
    batch = Batch(endpoints, RawSockets(port=40000), build_templates, capture=False)
    batch.schedule = Schedule(len(batch.order), 1.0)
    for probe in range(len(batch.order)):
        assert batch._prepare(probe)
        batch.schedule.sent(probe, 0.0)
    return batch


def test_repeated_endpoints_share_one_probe_and_each_gets_a_row() -> None:
    a = Endpoint("a", "127.0.0.1", Family.IPV4, 5555)
    b = Endpoint("b", "127.0.0.1", Family.IPV4, 5555)
    other = Endpoint("c", "127.0.0.1", Family.IPV4, 5556)
    batch = batch_of([a, b, other])
    assert len(batch.order) == 2 and batch.probe_of == {0: 0, 1: 0, 2: 1}
    batch._record(0, raw.Evidence("syn-ack", 0.0), 0.001, raw.RawStats())

    rows = batch.results(quick=False)

    assert [(r.target, r.state) for r in rows] == [
        ("a", ProbeState.OPEN),
        ("b", ProbeState.OPEN),
        ("c", ProbeState.FILTERED),
    ]


def test_a_refused_send_is_the_verdict_of_every_endpoint_sharing_the_probe() -> None:
    a = Endpoint("a", "127.0.0.1", Family.IPV4, 5555)
    b = Endpoint("b", "127.0.0.1", Family.IPV4, 5555)
    batch = batch_of([a, b])

    class Refusing:
        def sendto(self, data: bytes, target: tuple[str, int]) -> int:
            raise PermissionError(errno.EPERM, "Operation not permitted")

    assert batch._send(Refusing(), 0, ("127.0.0.1", 0)) == raw._REFUSED  # type: ignore[arg-type]
    rows = batch.results(quick=False)
    assert [r.reason for r in rows] == ["EPERM (sendto)", "EPERM (sendto)"]


# -- source addresses --------------------------------------------------------------


class ScopedUdp:
    """A UDP socket whose kernel picked a link-local, scoped source."""

    def __init__(self, *args: object) -> None:
        pass

    def connect(self, address: tuple[str, int]) -> None:
        pass

    def getsockname(self) -> tuple[str, int, int, int]:
        return ("fe80::1%eth0", 40000, 0, 2)

    def close(self) -> None:
        pass


def test_route_source_strips_the_scope_of_a_link_local_source(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rawsockets.socket, "socket", ScopedUdp)
    source = rawsockets.route_source(Family.IPV6, "2001:db8::7")
    assert source == socket.inet_pton(socket.AF_INET6, "fe80::1")


class RefusingSocket:
    """A raw send socket behind a local firewall that rejects one address (EPERM)."""

    def __init__(self, refused: str) -> None:
        self.refused = refused
        self.sent: list[str] = []

    def sendto(self, data: bytes, target: tuple[str, int]) -> int:
        if target[0] == self.refused:
            raise PermissionError(errno.EPERM, "Operation not permitted")
        self.sent.append(target[0])
        return len(data)


def test_a_first_send_refused_by_the_kernel_ends_that_probe_only() -> None:
    """The whole loop, not just _send: the refused probe settles without an RTT while
    the others are sent, and the batch still ends one window after the last send."""
    quiet_a, quiet_b = socket.socketpair()  # selectable, never readable
    refusing = RefusingSocket("127.0.0.2")
    sockets = RawSockets(port=40000)
    sockets.families[Family.IPV4] = FamilySockets(refusing, quiet_a, quiet_b)  # type: ignore[arg-type]
    endpoints = [Endpoint(a, a, Family.IPV4, 5555) for a in ("127.0.0.1", "127.0.0.2", "127.0.0.3")]
    try:
        batch = Batch(endpoints, sockets, build_templates, capture=False)
        stats = batch.run(timeout=0.2, rate=1000, quick=False)
    finally:
        quiet_a.close()
        quiet_b.close()
    rows = batch.results(quick=False)
    assert [r.state for r in rows] == [
        ProbeState.FILTERED,
        connect_errno_state(errno.EPERM, True),
        ProbeState.FILTERED,
    ]
    assert rows[1].reason == "EPERM (sendto)"
    assert refusing.sent == ["127.0.0.1", "127.0.0.3"] * 2  # each silent one retried once
    assert stats.sent == 4 and stats.retries == 2
    assert batch.schedule is not None and batch.schedule.max_rtt == 0.0
