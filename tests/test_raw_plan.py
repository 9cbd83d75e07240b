"""Prober selection: raw when allowed, connect() for local Service addresses and without
raw sockets; --mode raw without them stops before any DNS work."""

from __future__ import annotations

import pytest

from probe.errors import CannotRunError
from probe.inventory.types import Inventory, ServiceInfo
from probe.model import Endpoint, Family, Method, Target
from probe.options import CheckOptions, Mode
from probe.probers import plan as planning
from probe.probers.plan import ProbePrep, plan_probes, prepare_probing
from probe.probers.rawsockets import RawCapability

BOTH = RawCapability(frozenset({Family.IPV4, Family.IPV6}))
NONE = RawCapability(frozenset(), "not root (uid 1000) and no CAP_NET_RAW")
V4_ONLY = RawCapability(frozenset({Family.IPV4}), "IPv6: disabled in this kernel (EAFNOSUPPORT)")

PEER_V4 = Endpoint("peer", "198.51.100.7", Family.IPV4, 5555)
PEER_V6 = Endpoint("peer", "2001:db8:2::7", Family.IPV6, 5555)
IN_CIDR = Endpoint("svc", "10.96.0.12", Family.IPV4, 5555)
CLUSTER_IP6 = Endpoint("svc", "fd00:10:96::a", Family.IPV6, 5555)

INVENTORY = Inventory(
    available=True,
    reason="test",
    service_cidrs=("10.96.0.0/16", "not-a-cidr"),
    dr_services=(
        ServiceInfo("volt", "volt-dr", "ClusterIP", (Family.IPV6,), None,
                    ("fd00:10:96::a", "None"), ()),
    ),
)  # fmt: skip


def options(mode: Mode) -> CheckOptions:
    return CheckOptions(targets=(Target("peer", "peer", 5555),), mode=mode, timeout=1.0)


def methods(plan: planning.Plan) -> dict[str, Method]:
    return {e.address: batch.prober.method for batch in plan.batches for e in batch.endpoints}


def test_connect_mode_never_looks_at_raw_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(planning, "check_raw_capability", lambda: pytest.fail("checked"))
    plan = plan_probes(options(Mode.CONNECT), INVENTORY, [PEER_V4, PEER_V6])
    assert set(methods(plan).values()) == {Method.CONNECT}
    assert plan.raw_note == ""


def test_auto_uses_raw_except_for_local_service_addresses() -> None:
    endpoints = [PEER_V4, PEER_V6, IN_CIDR, CLUSTER_IP6]
    plan = plan_probes(options(Mode.AUTO), INVENTORY, endpoints, ProbePrep(BOTH))
    assert methods(plan) == {
        PEER_V4.address: Method.RAW,
        PEER_V6.address: Method.RAW,
        IN_CIDR.address: Method.CONNECT,
        CLUSTER_IP6.address: Method.CONNECT,
    }
    assert "2 address(es) of local Services" in plan.raw_note


def test_raw_mode_probes_even_service_addresses_raw() -> None:
    plan = plan_probes(options(Mode.RAW), INVENTORY, [IN_CIDR], ProbePrep(BOTH))
    assert methods(plan) == {IN_CIDR.address: Method.RAW}


def test_auto_without_raw_sockets_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(planning, "check_raw_capability", lambda: NONE)
    plan = plan_probes(options(Mode.AUTO), INVENTORY, [PEER_V4])
    assert methods(plan) == {PEER_V4.address: Method.CONNECT}
    assert "not allowed" in plan.raw_note and "CAP_NET_RAW" in plan.raw_note


def test_a_family_without_raw_sockets_falls_back_to_connect() -> None:
    plan = plan_probes(options(Mode.AUTO), INVENTORY, [PEER_V4, PEER_V6], ProbePrep(V4_ONLY))
    assert methods(plan) == {PEER_V4.address: Method.RAW, PEER_V6.address: Method.CONNECT}
    assert "IPv6" in plan.raw_note and "EAFNOSUPPORT" in plan.raw_note


def test_raw_mode_without_raw_sockets_cannot_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(planning, "check_raw_capability", lambda: NONE)
    with pytest.raises(CannotRunError, match="--mode connect"):
        prepare_probing(options(Mode.RAW))


def test_raw_mode_fails_before_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    from probe import pipeline

    monkeypatch.setattr(planning, "check_raw_capability", lambda: NONE)
    monkeypatch.setattr("probe.resolve.resolve_targets", lambda *a: pytest.fail("DNS was asked"))
    report = pipeline.run_check(options(Mode.RAW))
    assert report.exit_code == CannotRunError.exit_code
    assert "--mode raw needs raw sockets" in (report.error or "")
    assert report.dns == ()


def test_auto_with_raw_sockets_builds_templates_in_the_background(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(planning, "check_raw_capability", lambda: BOTH)
    prep = prepare_probing(options(Mode.AUTO))
    templates = prep.templates()
    assert set(templates) == {Family.IPV4, Family.IPV6}
