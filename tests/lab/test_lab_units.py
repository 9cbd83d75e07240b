"""The lab's pure parts: no root needed (these run everywhere)."""

from __future__ import annotations

import json

import pytest

from probe.model import DnsOutcome, Family

from . import requirements
from .dnsserver import DnsConfig, Record, dnsmasq_conf
from .firewall import Action, Rule, drop, reject, ruleset
from .scenarios import BY_ID, SCENARIOS
from .servfail_upstream import answer
from .voltcheck import CheckRun, compare


def test_rules_render_per_family_address_and_port() -> None:
    assert drop(Family.IPV6).nft() == "meta nfproto ipv6 tcp dport 5555 drop"
    assert (
        reject(Action.ADMIN_PROHIBITED, address="198.51.100.1").nft()
        == "ip daddr 198.51.100.1 tcp dport 5555 reject with icmpx type admin-prohibited"
    )
    assert Rule(Action.DROP, port=None, protocol="udp").nft() == "meta l4proto udp drop"
    script = ruleset([drop(address="2001:db8:0:2::1")])
    assert script.startswith("add table inet voltlab\ndelete table inet voltlab\n")
    assert "ip6 daddr 2001:db8:0:2::1 tcp dport 5555 drop" in script


def test_dnsmasq_conf_never_forwards_outside_the_lab() -> None:
    conf = dnsmasq_conf(
        DnsConfig(
            listen=("198.51.100.53",),
            records=(Record("a.lab.example", ("198.51.100.1", "2001:db8:0:2::1")),),
            servfail_zones=("broken.lab.example",),
        )
    )
    lines = conf.splitlines()
    assert "no-resolv" in lines and "local=/#/" in lines
    assert [line for line in lines if line.startswith("server=")] == [
        "server=/broken.lab.example/127.0.0.1#5300"
    ]
    assert "host-record=a.lab.example,2001:db8:0:2::1" in lines


def test_servfail_upstream_answers_servfail_only_to_queries() -> None:
    query = bytes.fromhex("abcd01000001000000000000") + b"\x01a\x00\x00\x01\x00\x01"
    reply = answer(query)
    assert reply is not None
    assert reply[:2] == b"\xab\xcd" and reply[3] & 0x0F == 2 and reply[2] & 0x80
    assert answer(reply) is None and answer(b"x") is None


def test_scenarios_are_well_formed() -> None:
    assert len(BY_ID) == len(SCENARIOS)
    for scenario in SCENARIOS:
        pairs = {(e.target, e.family) for e in scenario.expect}
        targets = {target for target, _ in pairs}
        for target in targets:
            literal = target[0].isdigit() or ":" in target
            families = {f for t, f in pairs if t == target}
            assert literal or families == {Family.IPV4, Family.IPV6}, (scenario.id, target)
        assert scenario.exit_code == (0 if scenario.families else 1), scenario.id


def _report(rows: list[dict[str, object]], families: list[str], code: int) -> CheckRun:
    report = {
        "schema": "voltprobe/v1",
        "probes": rows,
        "dns": [],
        "recommendation": {"ipFamilies": families, "helmValues": {"x": 1} if families else {}},
    }
    return CheckRun(("voltprobe",), code, json.dumps(report), "", 0.1)


def _row(
    target: str, family: str, address: str | None, state: str, reason: str
) -> dict[str, object]:
    return {"target": target, "family": family, "address": address, "state": state,
            "reason": reason, "method": "connect"}  # fmt: skip


def test_compare_accepts_a_matching_report() -> None:
    run = _report(
        [
            _row("volt-pods", "IPv4", "198.51.100.11", "open", "syn-ack"),
            _row("volt-pods", "IPv6", "2001:db8:0:2::11", "open", "syn-ack"),
            _row("volt-pods", "IPv6", "2001:db8:0:2::12", "filtered", "no-response"),
        ],
        ["IPv4"],
        0,
    )
    assert compare(BY_ID["per-pod-one-ipv6-endpoint-dropped"], run) == []


def test_compare_reports_each_disagreement() -> None:
    run = _report(
        [
            _row("volt-dr", "IPv4", "198.51.100.1", "filtered", "no-response"),
            _row("volt-dr", "IPv6", "198.51.100.1", "open", "syn-ack"),
        ],
        [],
        1,
    )
    problems = compare(BY_ID["both-open"], run)
    text = "\n".join(problems)
    assert "exit code 1, expected 0" in text
    assert "ipFamilies [], expected ['IPv4']" in text
    assert "state filtered" in text
    assert "address 198.51.100.1 in a IPv6 row" in text
    assert "dns volt-dr IPv4: [], expected [ok]" in text
    assert DnsOutcome.OK.value == "ok"


def test_not_root_is_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(requirements.os, "geteuid", lambda: 1000)
    reason = requirements.missing_reason()
    assert reason is not None and "root" in reason
