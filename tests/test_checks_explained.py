"""Every failure explained: the one rule behind FAIL (VP300), closed beside filtered,
one endpoint failing in both families, local-deny, VP306 when the family works
elsewhere, and the DNS findings (VP204-VP208). Literal facts, no sockets."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from probe.checks import DEFAULT_REGISTRY
from probe.choice import choose
from probe.facts import Facts
from probe.model import DnsLens, DnsOutcome, Finding, ProbeState, Severity
from tests.support.facts import V4, V6, cluster, dns, make_facts, row

S = ProbeState
STATES = (S.OPEN, S.CLOSED, S.FILTERED, S.UNREACHABLE, S.NO_ROUTE, S.LOCAL_DENY, S.ERROR)


def all_findings(facts: Facts) -> list[Finding]:
    return list(DEFAULT_REGISTRY.run(facts, choose(facts)).findings)


def ids(facts: Facts) -> set[str]:
    return {f.id for f in all_findings(facts)}


def two_pods(a4: S, a6: S, b4: S, b6: S) -> Facts:
    """Two per-pod names, each with one address per family."""
    return make_facts(
        "pod-a,pod-b",
        [
            dns("pod-a", V4, "192.0.2.1"),
            dns("pod-a", V6, "2001:db8::1"),
            dns("pod-b", V4, "192.0.2.2"),
            dns("pod-b", V6, "2001:db8::2"),
        ],
        [
            row("pod-a", "192.0.2.1", a4),
            row("pod-a", "2001:db8::1", a6),
            row("pod-b", "192.0.2.2", b4),
            row("pod-b", "2001:db8::2", b6),
        ],
    )


def test_every_non_open_row_is_explained_and_a_fail_has_an_error() -> None:
    """All 2,401 ways two dual-stack pods can end (7 states x 4 rows)."""
    for states in itertools.product(STATES, repeat=4):
        facts = two_pods(*states)
        findings = all_findings(facts)
        for probe in facts.probes:
            if probe.state is not S.OPEN:
                assert any(
                    probe.target in subject and (probe.address or "") in subject
                    for f in findings
                    if f.id != "VP300"
                    for subject in f.subjects
                ), (states, probe, [(f.id, f.subjects) for f in findings])
        if choose(facts).family is None:
            errors = [f for f in findings if f.severity is Severity.ERROR]
            assert any(f.id == "VP300" for f in errors), states


def test_fail_names_local_cluster_reasons_through_the_same_rule() -> None:
    inventory = cluster(services={V4: "no", V6: "yes"})
    facts = make_facts(
        "192.0.2.1,2001:db8::1",
        rows=[row("192.0.2.1", "192.0.2.1", S.OPEN), row("2001:db8::1", "2001:db8::1", S.FILTERED)],
        inventory=inventory,
    )
    (vp300,) = [f for f in all_findings(facts) if f.id == "VP300"]
    assert "cannot give Services an IPv4 address" in vp300.message
    assert "[2001:db8::1]:5555 filtered" in vp300.message


def test_closed_beside_filtered_is_covered_by_vp302() -> None:
    facts = two_pods(S.CLOSED, S.CLOSED, S.FILTERED, S.FILTERED)
    found = ids(facts)
    assert {"VP302", "VP303", "VP300"} <= found


def test_one_pod_refusing_in_both_families_is_that_pods_problem() -> None:
    facts = two_pods(S.CLOSED, S.CLOSED, S.OPEN, S.OPEN)
    vp301 = [f for f in all_findings(facts) if f.id == "VP301"]
    assert len(vp301) == 1, vp301
    assert "pod-a:5555 in IPv4 and IPv6" in vp301[0].message
    (vp300,) = [f for f in all_findings(facts) if f.id == "VP300"]
    assert "pod-a:5555 fails in IPv4 and IPv6: that endpoint's problem" in vp300.message


@pytest.mark.parametrize(
    ("state", "check_id"),
    [(S.FILTERED, "VP303"), (S.UNREACHABLE, "VP305"), (S.LOCAL_DENY, "VP309")],
)
def test_one_pod_failing_alike_in_both_families_is_one_finding(state: S, check_id: str) -> None:
    """pod-a:5555 filtered (unreachable, refused here) in IPv4 and in IPv6: one finding
    about that endpoint, not one per family (a reviewer saw VP303 twice)."""
    facts = two_pods(state, state, S.OPEN, S.OPEN)
    hits = [f for f in all_findings(facts) if f.id == check_id]
    assert len(hits) == 1, hits
    assert "pod-a:5555 in IPv4 and IPv6" in hits[0].message


def test_admin_prohibited_in_both_families_is_one_finding() -> None:
    from probe.model import IcmpError

    facts = make_facts(
        "pod-a",
        [dns("pod-a", V4, "192.0.2.1"), dns("pod-a", V6, "2001:db8::1")],
        [
            row("pod-a", "192.0.2.1", S.UNREACHABLE, icmp=IcmpError(3, 13, "192.0.2.254")),
            row("pod-a", "2001:db8::1", S.UNREACHABLE, icmp=IcmpError(1, 1, "2001:db8::fe")),
        ],
    )
    (vp304,) = [f for f in all_findings(facts) if f.id == "VP304"]
    assert "pod-a:5555 in IPv4 and IPv6" in vp304.message
    assert "192.0.2.254" in vp304.message and "2001:db8::fe" in vp304.message


def test_literals_are_never_merged() -> None:
    facts = make_facts(
        "192.0.2.1,2001:db8::1,192.0.2.2",
        rows=[
            row("192.0.2.1", "192.0.2.1", S.CLOSED),
            row("2001:db8::1", "2001:db8::1", S.CLOSED),
            row("192.0.2.2", "192.0.2.2", S.OPEN),
        ],
    )
    messages = [f.message for f in all_findings(facts) if f.id in ("VP301", "VP302")]
    assert len(messages) == 2 and not any("IPv4 and IPv6" in m for m in messages)


def test_vp306_does_not_call_the_family_unusable_when_it_works_elsewhere() -> None:
    facts = make_facts(
        "192.0.2.1,2001:db8::1,2001:db8:9::1",
        rows=[
            row("192.0.2.1", "192.0.2.1", S.OPEN),
            row("2001:db8::1", "2001:db8::1", S.OPEN),
            row("2001:db8:9::1", "2001:db8:9::1", S.NO_ROUTE, "ENETUNREACH"),
        ],
    )
    (vp306,) = [f for f in all_findings(facts) if f.id == "VP306"]
    assert "the family itself works" in vp306.message
    assert "cannot use this family" not in vp306.remedy


def test_local_deny_blames_this_host_only() -> None:
    facts = two_pods(S.LOCAL_DENY, S.LOCAL_DENY, S.LOCAL_DENY, S.LOCAL_DENY)
    found = ids(facts)
    assert "VP309" in found and not found & {"VP303", "VP304", "VP305"}
    (vp309,) = [f for f in all_findings(facts) if f.id == "VP309" and "pod-a" in f.message]
    assert "this host" in vp309.message and vp309.severity is Severity.ERROR


def test_a_run_that_stopped_gets_no_vp300() -> None:
    from probe.checks.reach import no_family_qualifies
    from probe.choice import Choice

    facts = two_pods(S.FILTERED, S.FILTERED, S.FILTERED, S.FILTERED)
    assert list(no_family_qualifies(facts, Choice(None, ("stopped",), complete=False))) == []


def lens(outcome: DnsOutcome, *addresses: str, name: str = "peer.b.example") -> DnsLens:
    return DnsLens(name, outcome, addresses, "192.0.2.53", 1500.0)


def test_vp204_one_type_failing_names_its_cost_and_severity_follows_the_verdict() -> None:
    v4 = replace(dns("peer", V4, "192.0.2.2"), lens=lens(DnsOutcome.OK, "192.0.2.2"))
    v6 = replace(dns("peer", V6, outcome=DnsOutcome.TIMEOUT), lens=lens(DnsOutcome.TIMEOUT))
    passing = make_facts("peer", [v4, v6], [row("peer", "192.0.2.2", S.OPEN)])
    (finding,) = [f for f in all_findings(passing) if f.id == "VP204"]
    assert finding.severity is Severity.WARNING and "1.5 s" in finding.message
    assert "VP201" not in ids(passing)
    failing = make_facts("peer", [v4, v6], [row("peer", "192.0.2.2", S.FILTERED)])
    (finding,) = [f for f in all_findings(failing) if f.id == "VP204"]
    assert finding.severity is Severity.ERROR


def test_vp201_fires_only_when_no_family_resolves() -> None:
    nodata = make_facts("peer", [dns("peer", V4), dns("peer", V6)])
    assert "VP201" in ids(nodata)  # NOERROR without data in both: no address at all
    one = make_facts(
        "peer", [dns("peer", V4, "192.0.2.2"), dns("peer", V6, outcome=DnsOutcome.SERVFAIL)]
    )
    assert "VP201" not in ids(one)


def test_vp205_hosts_answer_and_vp206_mapped_and_vp207_dns64() -> None:
    v4 = replace(dns("peer", V4, "192.0.2.2"), lens=lens(DnsOutcome.NXDOMAIN))
    v6 = replace(
        dns("peer", V6, "64:ff9b::c000:202"),
        lens=lens(DnsOutcome.NXDOMAIN),
        ignored=("::ffff:192.0.2.2",),
        nat64_prefix="64:ff9b::/96",
    )
    facts = make_facts(
        "peer",
        [v4, v6],
        [row("peer", "192.0.2.2", S.OPEN), row("peer", "64:ff9b::c000:202", S.FILTERED)],
    )
    found = {f.id: f for f in all_findings(facts)}
    assert "/etc/hosts" in found["VP205"].message
    assert "::ffff:192.0.2.2" in found["VP206"].message
    assert found["VP207"].severity is Severity.WARNING and "64:ff9b::/96" in found["VP207"].message


def test_vp208_repeats_the_parsers_warning() -> None:
    facts = make_facts("2001:db8:5::10:5555", rows=[row("x", "2001:db8:5::10:5555", S.OPEN)])
    (finding,) = [f for f in all_findings(facts) if f.id == "VP208"]
    assert "[2001:db8:5::10]:5555" in finding.message


def test_a_system_resolver_slower_than_the_check_is_said_not_a_typo() -> None:
    """getaddrinfo outlasted its whole wait while DNS answered A at once (an AAAA that
    times out: glibc waits it out, and so does the JVM): VP201 says so, how long it
    waited and how to see the rest, never that the name does not exist."""
    from probe.model import DnsAnswer

    lens = DnsLens("peer.example", DnsOutcome.OK, ("192.0.2.2",), "192.0.2.53", 8.0)
    answers = [
        DnsAnswer("peer", V4, DnsOutcome.TIMEOUT, detail="no answer", elapsed_ms=6200, lens=lens),
        DnsAnswer("peer", V6, DnsOutcome.TIMEOUT, detail="no answer", elapsed_ms=6200),
    ]
    rows = [
        row("peer", None, S.ERROR, "timeout", family=V4),
        row("peer", None, S.ERROR, "timeout", family=V6),
    ]
    facts = make_facts("peer", answers, rows)
    (vp201,) = [f for f in all_findings(facts) if f.id == "VP201"]
    assert "no answer in 6.2 s, while DNS answered IPv4 in 8 ms" in vp201.message
    assert "does not resolve" not in vp201.message and "--deadline" in vp201.remedy


def test_a_name_with_only_a_mapped_aaaa_resolves_and_is_no_hosts_file_answer() -> None:
    """VP201 stays silent (the name resolves, in IPv4 on the wire), VP206 warns, and VP205
    does not take the mapped address for an /etc/hosts answer."""
    from probe.model import DnsAnswer

    v4_lens = DnsLens("peer.example", DnsOutcome.NO_ADDRESS, (), "192.0.2.53", 2.0)
    v6_lens = DnsLens("peer.example", DnsOutcome.OK, ("::ffff:192.0.2.2",), "192.0.2.53", 2.0)
    answers = [
        DnsAnswer("peer", V4, DnsOutcome.OK, ("192.0.2.2",), rank=0, lens=v4_lens),
        DnsAnswer("peer", V6, DnsOutcome.NO_ADDRESS, ignored=("::ffff:192.0.2.2",), lens=v6_lens),
    ]
    rows = [row("peer", "192.0.2.2", S.OPEN, family=V4), row("peer", None, S.NO_ADDRESS, family=V6)]
    ids = {f.id for f in all_findings(make_facts("peer", answers, rows))}
    assert "VP206" in ids and not ids & {"VP201", "VP205"}


def test_a_probe_the_stop_left_unanswered_is_not_an_unexpected_failure() -> None:
    from probe.probers.verdict import STOPPED

    facts = two_pods(S.OPEN, S.OPEN, S.OPEN, S.OPEN)
    stopped = replace(facts.probes[3], state=S.ERROR, reason=STOPPED)
    facts = replace(facts, probes=(*facts.probes[:3], stopped))
    (vp307,) = [f for f in all_findings(facts) if f.id == "VP307"]
    assert (
        vp307.severity is Severity.INFO and "not answered before the run stopped" in vp307.message
    )
    assert "unexpected" not in vp307.message


def test_filtered_at_a_short_connect_timeout_says_a_local_drop_looks_the_same() -> None:
    facts = two_pods(S.FILTERED, S.OPEN, S.OPEN, S.OPEN)
    short = replace(facts, options=replace(facts.options, timeout=1.0))
    (vp303,) = [f for f in all_findings(short) if f.id == "VP303"]
    assert "OUTPUT drop rule on this host" in vp303.message
    (vp303,) = [f for f in all_findings(facts) if f.id == "VP303"]  # the default 2 s
    assert "OUTPUT drop" not in vp303.message
