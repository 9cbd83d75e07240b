"""The data path on loopback: greeting, silent, closed, reset, other; nothing written to a
peer that is not a voltprobe responder; the values' JSON; the family rules via the CLI."""

from __future__ import annotations

import dataclasses
import time

import pytest

from probe.checks import DEFAULT_REGISTRY
from probe.choice import choose
from probe.datapath.measure import measure
from probe.datapath.types import (
    AfterHandshake,
    DataPath,
    DataPathOptions,
    Greeting,
    MtuStep,
    Nat,
    PathQuality,
    RttStats,
    StepOutcome,
)
from probe.facts import Facts
from probe.model import Endpoint, Family, ProbeState
from tests.support.facts import V4, V6, dns, make_facts, row
from tests.support.listeners import listener
from tests.support.processes import responder, run_json

NO_KUBE_ARGS = ("--no-kube", "--mode", "connect")


def observe(port: int, address: str = "127.0.0.1", **options: object) -> DataPath:
    family = Family.IPV6 if ":" in address else Family.IPV4
    settings = DataPathOptions(**options)  # type: ignore[arg-type]
    found = measure([Endpoint("t", address, family, port)], settings, time.monotonic() + 10)
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize(
    ("behaviour", "after"),
    [
        ("silent", AfterHandshake.SILENT),
        ("close", AfterHandshake.CLOSED),
        ("reset", AfterHandshake.RESET),
        ("other", AfterHandshake.OTHER),
        ("greet0", AfterHandshake.GREETING),  # a responder from before protocol v1
    ],
)
def test_what_follows_the_handshake(behaviour: str, after: AfterHandshake) -> None:
    with listener(behaviour) as peer:
        found = observe(peer.port, path_quality=PathQuality.ON)
        time.sleep(0.2)  # let the listener drain what it got
        assert found.after is after, found
        assert peer.received == 0, "wrote bytes to a peer that is not a voltprobe responder"
    if after is AfterHandshake.GREETING:
        assert found.greeting is not None and found.greeting.protocol == 0
        assert found.greeting.client_address == "127.0.0.1"
        assert found.mtu == ()  # a protocol-0 responder does not echo: no ladder


def test_silent_waits_the_documented_300_ms() -> None:
    with listener("silent") as peer:
        found = observe(peer.port)
    assert found.after is AfterHandshake.SILENT
    assert 250 <= found.wait_ms < 1000, found.wait_ms
    assert found.rtt is None  # --path-quality auto: only for endpoints that greet


def test_a_responder_gets_rtt_samples_nat_and_the_mtu_ladder() -> None:
    with responder() as port:
        found = observe(port, samples=4)
    assert found.after is AfterHandshake.GREETING
    assert found.greeting is not None and found.greeting.protocol == 1
    assert found.nat is Nat.NONE and found.source == "127.0.0.1"
    assert found.rtt is not None and len(found.rtt.samples) == 4
    assert [s.size for s in found.mtu] == [1280, 1400, 1480, 1500, 9000]  # loopback: 65536
    assert all(s.passed for s in found.mtu), found.mtu
    assert found.largest_passed == 9000 and found.black_hole is None


def test_path_quality_off_reads_the_greeting_only() -> None:
    with responder() as port:
        found = observe(port, path_quality=PathQuality.OFF)
    assert found.after is AfterHandshake.GREETING and found.rtt is None and found.mtu == ()


def test_a_follow_up_that_cannot_connect_is_failed() -> None:
    with listener("silent") as peer:
        port = peer.port
    found = observe(port)
    assert found.after is AfterHandshake.FAILED and "ECONNREFUSED" in found.detail


def test_black_hole_is_the_smallest_stall_above_a_pass_and_capped_rungs_do_not_count() -> None:
    def path(*steps: tuple[int, StepOutcome]) -> DataPath:
        return DataPath(
            "2001:db8::1", 5555, Family.IPV6, AfterHandshake.GREETING,
            mtu=tuple(MtuStep(size, outcome) for size, outcome in steps),
        )  # fmt: skip

    hole = path(
        (1280, StepOutcome.PASSED), (1400, StepOutcome.STALLED), (1500, StepOutcome.STALLED)
    )
    assert (hole.largest_passed, hole.black_hole) == (1280, 1400)
    capped = path((1280, StepOutcome.PASSED), (1400, StepOutcome.CAPPED))
    assert capped.black_hole is None
    nothing = path((1280, StepOutcome.STALLED), (1400, StepOutcome.STALLED))
    # the greeting came through, full segments of every size did not: "connects, then stalls"
    assert (nothing.largest_passed, nothing.black_hole) == (None, 1280)
    assert path((1280, StepOutcome.FAILED)).black_hole is None  # no stall, no black hole


def test_nat_kinds() -> None:
    def seen(family: Family, source: str, client: str) -> Nat | None:
        greeting = Greeting(1, "x", client, None)
        return DataPath(
            "a", 1, family, AfterHandshake.GREETING, greeting=greeting, source=source
        ).nat

    assert seen(Family.IPV4, "192.0.2.1", "192.0.2.1") is Nat.NONE
    assert seen(Family.IPV4, "192.0.2.1", "198.51.100.7") is Nat.SNAT
    assert seen(Family.IPV6, "2001:db8::1", "192.0.2.9") is Nat.NAT64
    assert seen(Family.IPV4, "192.0.2.1", "2001:db8::9") is Nat.NAT46
    # an old dual-stack responder writes an IPv4 client as ::ffff:a.b.c.d
    assert seen(Family.IPV4, "192.0.2.1", "::ffff:192.0.2.1") is Nat.NONE


def test_json_round_trip() -> None:
    original = DataPath(
        "2001:db8::1", 5555, Family.IPV6, AfterHandshake.GREETING, "voltprobe", 1.5,
        Greeting(1, "0.1.0", "192.0.2.9", "[2001:db8::1]:5555", "volt-0", "east"),
        "2001:db8::2", RttStats((1.0, 2.0, 30.0)),
        (MtuStep(1280, StepOutcome.PASSED, 2.0), MtuStep(1400, StepOutcome.STALLED, None, "x")),
        1500,
    )  # fmt: skip
    data = original.to_json()
    assert data["nat"] == "nat64" and data["blackHole"] == 1400 and data["largestPassed"] == 1280
    assert data["rtt"]["p95Ms"] == 30.0 and data["rtt"]["medianMs"] == 2.0
    assert DataPath.from_json(data) == original


def test_a_silent_listener_still_passes_without_an_expected_greeting() -> None:
    with listener("silent") as peer:
        code, report = run_json("check", "--peer", f"127.0.0.1:{peer.port}", *NO_KUBE_ARGS)
    assert code == 0, report["verdict"]
    assert report["probes"][0]["afterHandshake"] == "silent"
    assert report["dataPath"][0]["after"] == "silent"


def test_a_silent_listener_fails_when_a_responder_is_declared() -> None:
    with listener("silent") as peer:
        code, report = run_json(
            "check", "--peer", f"127.0.0.1:{peer.port}", "--responder", *NO_KUBE_ARGS
        )
    assert code == 1
    assert "VP321" in {f["id"] for f in report["findings"]}
    assert "do not greet" in report["verdict"]


def test_a_listener_that_closes_after_accept_fails_its_family() -> None:
    with listener("close") as peer:
        code, report = run_json("check", "--peer", f"127.0.0.1:{peer.port}", *NO_KUBE_ARGS)
    assert code == 1
    assert "VP320" in {f["id"] for f in report["findings"]}
    assert report["probes"][0]["state"] == "open"  # the state stays as it is


def test_data_path_off_reads_nothing() -> None:
    with listener("close") as peer:
        code, report = run_json(
            "check", "--peer", f"127.0.0.1:{peer.port}", "--data-path", "off", *NO_KUBE_ARGS
        )
    assert code == 0 and report["dataPath"] == []
    assert "afterHandshake" not in report["probes"][0]
    assert "dataPath" not in report["timings"]


def _rtt_facts(v4_ms: float, v6_ms: float) -> Facts:
    facts = make_facts(
        "peer",
        [dns("peer", V4, "192.0.2.2"), dns("peer", V6, "2001:db8::2")],
        [row("peer", "192.0.2.2", ProbeState.OPEN), row("peer", "2001:db8::2", ProbeState.OPEN)],
    )
    paths = tuple(
        DataPath(a, 5555, f, AfterHandshake.SILENT, rtt=RttStats((ms, ms, ms)))
        for a, f, ms in (("192.0.2.2", V4, v4_ms), ("2001:db8::2", V6, v6_ms))
    )
    return dataclasses.replace(facts, data_path=paths)


def test_rtt_disparity_is_information_above_twice_and_5_ms() -> None:
    def hits(v4_ms: float, v6_ms: float) -> list[str]:
        facts = _rtt_facts(v4_ms, v6_ms)
        checked = DEFAULT_REGISTRY.run(facts, choose(facts))
        return [f.message for f in checked.findings if f.id == "VP324"]

    assert hits(1.0, 30.0) == ["median handshake RTT IPv6 30.0 ms vs IPv4 1.0 ms"]
    assert hits(1.0, 4.0) == []  # 4 times, but only 3 ms: noise on a LAN
    assert hits(40.0, 60.0) == []  # 20 ms slower, but not twice


def test_a_busy_responder_is_said_not_measured() -> None:
    """VP325: a responder over its caps greets `busy` and echoes nothing, so no MTU ladder
    ran; unknown is not yes."""
    from probe.checks.datapath import busy_responder
    from probe.choice import Choice
    from probe.model import ProbeState
    from tests.support.facts import make_facts, row

    busy = Greeting(1, "0.2.0", "192.0.2.1", None, busy=True)
    path = DataPath("192.0.2.7", 5555, Family.IPV4, AfterHandshake.GREETING, greeting=busy)
    facts = make_facts("192.0.2.7", rows=[row("192.0.2.7", "192.0.2.7", ProbeState.OPEN)])
    facts = dataclasses.replace(facts, data_path=(path,))
    (hit,) = busy_responder(facts, Choice(Family.IPV4))
    assert "not measured" in hit.message
    calm = dataclasses.replace(path, greeting=Greeting(1, "0.2.0", "192.0.2.1", None))
    assert list(busy_responder(dataclasses.replace(facts, data_path=(calm,)), Choice(None))) == []
