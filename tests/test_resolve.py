"""resolve.py without a network: literals, de-duplication, failures as answers.
Real lookups (dnsmasq with search domains, NXDOMAIN, SERVFAIL, timeouts) are in tests/lab."""

from __future__ import annotations

from pathlib import Path

import pytest

from probe.model import DnsOutcome, Family
from probe.resolve import resolve_name, resolve_targets
from probe.targets import parse_peers


def test_literals_skip_dns_and_are_answered_once_per_text() -> None:
    answers = resolve_targets(
        parse_peers(["192.0.2.1:1,192.0.2.1:2,[2001:db8::1]"]), "/nonexistent", 1.0
    )
    assert [(a.target, a.family, a.outcome) for a in answers] == [
        ("192.0.2.1", Family.IPV4, DnsOutcome.LITERAL),
        ("2001:db8::1", Family.IPV6, DnsOutcome.LITERAL),
    ]


def test_unreadable_configuration_is_an_error_answer_in_both_families(tmp_path: Path) -> None:
    v4, v6 = resolve_name("lb.example", str(tmp_path / "missing.conf"), 1.0)
    assert (v4.outcome, v6.outcome) == (DnsOutcome.ERROR, DnsOutcome.ERROR)
    assert "cannot read resolver configuration" in v4.detail


def test_a_resolver_on_loopback_with_nothing_listening_is_a_failure_answer(tmp_path: Path) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
    answers = resolve_targets(parse_peers(["peer.example"]), str(conf), 1.0)
    assert {a.family for a in answers} == {Family.IPV4, Family.IPV6}
    assert all(a.outcome in (DnsOutcome.SERVFAIL, DnsOutcome.TIMEOUT) for a in answers)
    assert all(a.addresses == () for a in answers)


def test_the_suite_never_builds_a_resolver_from_the_system_configuration() -> None:
    with pytest.raises(AssertionError, match=r"/etc/resolv\.conf"):
        resolve_name("peer.example", "/etc/resolv.conf", 1.0)
