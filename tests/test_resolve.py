"""resolve.py and gai.py without a network: literals, de-duplication, failures as answers,
the deadline, how getaddrinfo's answer and the DNS lens combine, DNS64 prefixes.

getaddrinfo itself is replaced by a function here (the system resolver would query this
machine's nameservers); the real one runs in tests/lab (test_jvm_view.py), steered by
/etc/netns/NAME/hosts and resolv.conf.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from pathlib import Path

import pytest

from probe.gai import GLIBC_MARGIN, GaiResult, SystemLookups, glibc_wait, look_up_all
from probe.model import DnsLens, DnsOutcome, Family, Target
from probe.resolve import (
    combine,
    embedded_ipv4,
    prefix_embedding,
    resolve_name,
    resolve_targets,
    synthesis_prefix,
)
from probe.targets import parse_peers

V4, V6 = Family.IPV4, Family.IPV6
PEER = Target("peer", "peer", 5555)


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


def test_the_suite_never_builds_a_resolver_from_the_system_configuration() -> None:
    with pytest.raises(AssertionError, match=r"/etc/resolv\.conf"):
        resolve_name("peer.example", "/etc/resolv.conf", 1.0)


def test_the_suite_never_asks_the_system_resolver_for_a_name() -> None:
    with pytest.raises(AssertionError, match="system resolver"):
        socket.getaddrinfo("peer.example", None)


def test_getaddrinfo_answers_in_its_order_and_the_lens_explains_the_missing_family(
    tmp_path: Path,
) -> None:
    conf = tmp_path / "resolv.conf"  # the lens: nothing listens on loopback, refused at once
    conf.write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")

    def lookup(host: str) -> tuple[list[tuple[Family, str]], str]:
        return [(V6, "2001:db8::2"), (V4, "192.0.2.9"), (V4, "192.0.2.1")], "peer.lab.example"

    answers = resolve_targets(parse_peers(["peer"]), str(conf), 1.0, lookup)
    by_family = {a.family: a for a in answers}
    assert by_family[V4].addresses == ("192.0.2.9", "192.0.2.1")  # not sorted: glibc's order
    assert (by_family[V4].rank, by_family[V6].rank) == (1, 0)
    assert by_family[V4].canonical_name == "peer.lab.example"
    assert by_family[V4].lens is not None and by_family[V4].lens.name == "peer.lab.example"


def _silent(release: threading.Event) -> object:
    def lookup(host: str) -> tuple[list[tuple[Family, str]], str]:
        release.wait(10)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    return lookup


def test_640_silent_names_end_at_the_stage_deadline_as_timeouts() -> None:
    release = threading.Event()
    hosts = [f"n{i}.lab.example" for i in range(640)]
    started = time.monotonic()
    try:
        results = look_up_all(hosts, 0.2, started + 0.4, _silent(release))  # type: ignore[arg-type]
    finally:
        release.set()
    assert time.monotonic() - started < 1.5
    assert len(results) == 640 and all(r.timed_out for r in results.values())
    assert any("not started" in r.detail for r in results.values())


def test_a_quick_name_is_not_held_back_by_a_silent_one() -> None:
    release = threading.Event()

    def lookup(host: str) -> tuple[list[tuple[Family, str]], str]:
        if host == "silent":
            release.wait(10)
        return [(V4, "192.0.2.1")], host

    try:
        results = look_up_all(["silent", "quick"], 0.3, time.monotonic() + 0.6, lookup)
    finally:
        release.set()
    assert results["silent"].timed_out and not results["quick"].timed_out
    assert results["quick"].addresses == ((V4, "192.0.2.1"),)


def test_a_late_answer_is_kept_for_a_name_waited_for_and_dropped_for_others() -> None:
    """glibc answers A only once the AAAA's retries are spent: `collect` has given up on
    it, `wait_late` still takes its answer (the JVM waits for it); a name not waited for
    stays timed out, and one silent past the late deadline says how long it was waited."""
    release = {h: threading.Event() for h in ("late", "other", "never")}

    def lookup(host: str) -> tuple[list[tuple[Family, str]], str]:
        release[host].wait(10)
        return [(V4, "192.0.2.7")], host

    lookups = SystemLookups(["late", "other", "never"], lookup)
    try:
        first = lookups.collect(0.1, time.monotonic() + 0.3)
        assert all(r.timed_out for r in first.values())
        release["late"].set()
        release["other"].set()
        late = lookups.wait_late(["late", "never"], time.monotonic() + 0.5)
    finally:
        for event in release.values():
            event.set()
    assert set(late) == {"late", "never"}
    assert late["late"].addresses == ((V4, "192.0.2.7"),) and not late["late"].timed_out
    assert late["late"].elapsed_ms >= 100
    assert late["never"].timed_out and late["never"].elapsed_ms >= 500
    assert "no answer in 0." in late["never"].detail


def test_an_answer_that_came_while_the_lens_ran_is_taken_after_the_late_deadline() -> None:
    """The lens may outlast the late deadline; an answer already queued by then is what
    the JVM got, not a timeout (a reviewer's false FAIL at --dns-timeout 3)."""
    release = threading.Event()

    def lookup(host: str) -> tuple[list[tuple[Family, str]], str]:
        release.wait(10)
        return [(V4, "192.0.2.7")], host

    lookups = SystemLookups(["late"], lookup)
    try:
        assert lookups.collect(0.1, time.monotonic() + 0.2)["late"].timed_out
    finally:
        release.set()
    time.sleep(0.2)  # the answer arrives while "the lens" runs
    late = lookups.wait_late(["late"], time.monotonic() - 1.0)  # deadline already past
    assert not late["late"].timed_out and late["late"].addresses == ((V4, "192.0.2.7"),)


@pytest.mark.parametrize(
    ("options", "nameservers", "seconds"),
    [
        ("", 1, 25.0),  # resolv.conf(5) defaults: timeout 5, attempts 2 (15 s measured)
        ("options timeout:1 attempts:1", 1, 3.0),  # the lab's (3.0 s measured)
        ("options timeout:2 attempts:2", 1, 10.0),  # 6.0 s measured
        ("options timeout:99 attempts:9", 1, 330.0),  # glibc caps: 30 and 5
        ("options timeout:1 attempts:1", 4, 9.0),  # at most 3 nameservers are used
        ("options timeout:x attempts:", 2, 50.0),  # unreadable values: the defaults
    ],
)
def test_glibc_wait_follows_resolv_conf(
    tmp_path: Path, options: str, nameservers: int, seconds: float
) -> None:
    conf = tmp_path / "resolv.conf"
    servers = "".join(f"nameserver 192.0.2.{i + 1}\n" for i in range(nameservers))
    conf.write_text(f"{servers}search b.example\n{options}\n")
    assert glibc_wait(str(conf)) == seconds + GLIBC_MARGIN
    assert glibc_wait(str(tmp_path / "missing")) == 25.0 + GLIBC_MARGIN


def _lens(outcome: DnsOutcome, *addresses: str) -> DnsLens:
    return DnsLens("peer.b.example", outcome, tuple(addresses), "198.51.100.53", 1000.0)


@pytest.mark.parametrize(
    ("system", "lens", "outcome"),
    [
        # A resolved; the AAAA query of the same name failed: its own rcode, not "no address"
        (GaiResult("peer", ((V4, "192.0.2.1"),), "peer.b.example"), _lens(DnsOutcome.NXDOMAIN),
         DnsOutcome.NXDOMAIN),
        (GaiResult("peer", ((V4, "192.0.2.1"),), "peer.b.example"), _lens(DnsOutcome.TIMEOUT),
         DnsOutcome.TIMEOUT),
        (GaiResult("peer", ((V4, "192.0.2.1"),), "peer.b.example"), _lens(DnsOutcome.NO_ADDRESS),
         DnsOutcome.NO_ADDRESS),
        # DNS has an AAAA that getaddrinfo did not return: getaddrinfo decides
        (GaiResult("peer", ((V4, "192.0.2.1"),), "peer.b.example"),
         _lens(DnsOutcome.OK, "2001:db8::1"), DnsOutcome.NO_ADDRESS),
        (GaiResult("peer", error="EAI_NONAME"), _lens(DnsOutcome.NO_ADDRESS), DnsOutcome.NO_ADDRESS),
        (GaiResult("peer", error="EAI_NONAME"), None, DnsOutcome.NXDOMAIN),
        (GaiResult("peer", error="EAI_AGAIN"), _lens(DnsOutcome.NAMESERVER_UNREACHABLE),
         DnsOutcome.NAMESERVER_UNREACHABLE),
        (GaiResult("peer", timed_out=True), _lens(DnsOutcome.OK, "2001:db8::1"),
         DnsOutcome.TIMEOUT),
    ],
)  # fmt: skip
def test_the_missing_family_gets_the_outcome_the_evidence_supports(
    system: GaiResult, lens: DnsLens | None, outcome: DnsOutcome
) -> None:
    answer = combine(PEER, V6, system, lens)
    assert answer.outcome is outcome
    assert answer.addresses == ()


def test_an_ipv4_mapped_aaaa_is_set_aside_not_probed_as_ipv6() -> None:
    system = GaiResult("peer", ((V4, "192.0.2.1"), (V6, "::ffff:192.0.2.1")), "peer")
    answer = combine(PEER, V6, system, _lens(DnsOutcome.OK, "::ffff:192.0.2.1"))
    assert (answer.outcome, answer.addresses, answer.ignored) == (
        DnsOutcome.NO_ADDRESS,
        (),
        ("::ffff:192.0.2.1",),
    )


@pytest.mark.parametrize("length", [32, 40, 48, 56, 64, 96])
def test_rfc6052_prefixes_are_found_at_every_length(length: int) -> None:
    # RFC 6052 2.4 examples: 192.0.2.33 under 2001:db8:122:344::/length
    examples = {
        32: "2001:db8:c000:221::",
        40: "2001:db8:1c0:2:21::",
        48: "2001:db8:122:c000:2:2100::",
        56: "2001:db8:122:3c0:0:221::",
        64: "2001:db8:122:344:c0:2:2100:0",
        96: "2001:db8:122:344::192.0.2.33",
    }
    address = examples[length]
    assert embedded_ipv4(address, length) == ipaddress.IPv4Address("192.0.2.33")
    prefix = prefix_embedding(address, [ipaddress.IPv4Address("192.0.2.33")])
    assert prefix is not None and prefix.endswith(f"/{length}")


def test_synthesized_addresses_are_recognised_under_known_and_announced_prefixes() -> None:
    assert synthesis_prefix(["64:ff9b::c000:221"], []) == "64:ff9b::/96"
    assert synthesis_prefix(["2001:db8:64::c000:221"], ["2001:db8:64::/96"]) == "2001:db8:64::/96"
    assert synthesis_prefix(["2001:db8:64::c000:221"], []) is None
    assert synthesis_prefix(["2001:db8:64::1", "2001:db8:0:2::1"], ["2001:db8:64::/96"]) is None


def test_the_names_tally_counts_each_ended_lookup_once() -> None:
    """Live progress ("2 of 3 names resolved"): an answer and a failure each count once;
    a lookup still running is not counted."""
    from probe.progress import Tally

    release = threading.Event()

    def lookup(host: str) -> tuple[list[tuple[Family, str]], str]:
        if host == "slow":
            release.wait(10)
        if host == "gone":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(V4, "192.0.2.1")], host

    tally = Tally(3, "names resolved")
    try:
        results = look_up_all(["quick", "gone", "slow"], 0.3, time.monotonic() + 0.5, lookup)
        assert results["slow"].timed_out
        assert str(tally) == "0 of 3 names resolved"  # look_up_all was not given it
        SystemLookups(["quick", "gone", "slow"], lookup, tally).collect(0.3, time.monotonic() + 0.5)
    finally:
        release.set()
    assert tally.done == 2 and str(tally) == "2 of 3 names resolved"


def test_an_answer_just_after_its_time_is_kept_for_wait_late() -> None:
    """`collect` may read an answer in the same pass that timed it out; it must reach
    `wait_late`, not be dropped (a false FAIL at --dns-timeout 3 in the lab)."""

    def lookup(host: str) -> tuple[list[tuple[Family, str]], str]:
        time.sleep(0.22)
        return [(V4, "192.0.2.8")], host

    lookups = SystemLookups(["edge"], lookup)
    assert lookups.collect(0.2, time.monotonic() + 1.0)["edge"].timed_out
    time.sleep(0.1)
    late = lookups.wait_late(["edge"], time.monotonic() - 1.0)
    assert late["edge"].addresses == ((V4, "192.0.2.8"),), late


def test_a_name_with_only_a_mapped_aaaa_has_that_ipv4_address() -> None:
    """No A record, AAAA ::ffff:192.0.2.2: the JVM dials 192.0.2.2 over IPv4, so the
    name resolves in IPv4 (a reviewer got 'does not resolve' here)."""
    system = GaiResult("peer", ((V6, "::ffff:192.0.2.2"),), "peer.b.example")
    v4 = combine(PEER, V4, system, _lens(DnsOutcome.NO_ADDRESS))
    v6 = combine(PEER, V6, system, _lens(DnsOutcome.OK, "::ffff:192.0.2.2"))
    assert (v4.outcome, v4.addresses, v4.rank) == (DnsOutcome.OK, ("192.0.2.2",), 0)
    assert "from IPv4-mapped AAAA ::ffff:192.0.2.2" in v4.detail
    assert v4.from_mapped == ("192.0.2.2",)
    assert (v6.outcome, v6.addresses, v6.ignored) == (
        DnsOutcome.NO_ADDRESS,
        (),
        ("::ffff:192.0.2.2",),
    )


def test_a_mapped_aaaa_beside_its_own_a_adds_nothing() -> None:
    system = GaiResult("peer", ((V4, "192.0.2.1"), (V6, "::ffff:192.0.2.1")), "peer")
    v4 = combine(PEER, V4, system, _lens(DnsOutcome.OK, "192.0.2.1"))
    assert v4.addresses == ("192.0.2.1",) and "mapped" not in v4.detail
    assert v4.from_mapped == ()


def test_the_runs_deadline_cuts_the_dns_stage(tmp_path: Path) -> None:
    """--deadline shorter than the DNS stage's own bound: resolution hands back at the
    deadline (a reviewer saw --deadline 2 end after 3.1 s)."""
    from probe.stop import RunStop, activate

    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
    release = threading.Event()
    previous = activate(RunStop.after(0.4))
    started = time.monotonic()
    try:
        answers = resolve_targets(parse_peers(["silent"]), str(conf), 5.0, _silent(release))  # type: ignore[arg-type]
    finally:
        activate(previous)
        release.set()
    assert time.monotonic() - started < 0.9
    assert {a.outcome for a in answers} == {DnsOutcome.TIMEOUT}


def test_ipv4_only_resolution_asks_no_aaaa_and_says_so(tmp_path: Path) -> None:
    """A preferIPv4Stack JVM resolves with AF_INET: the IPv6 answer is not a failure, it
    was never asked; the lens asks no AAAA either."""
    from probe.resolve import NOT_ASKED

    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")

    def lookup(host: str) -> tuple[list[tuple[Family, str]], str]:
        return [(V4, "192.0.2.5")], host

    answers = resolve_targets(parse_peers(["peer"]), str(conf), 1.0, lookup, ipv4_only=True)
    by_family = {a.family: a for a in answers}
    assert by_family[V4].addresses == ("192.0.2.5",)
    assert (by_family[V6].outcome, by_family[V6].detail, by_family[V6].lens) == (
        DnsOutcome.NO_ADDRESS, NOT_ASKED, None,
    )  # fmt: skip


def test_the_system_lookup_for_that_jvm_is_af_inet(monkeypatch: pytest.MonkeyPatch) -> None:
    """getaddrinfo is asked with AF_INET (no AAAA query at all), not AF_UNSPEC filtered."""
    from probe import gai

    asked: list[int] = []

    def fake(host: str, port: object, af: int, *rest: object) -> list[object]:
        asked.append(af)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.6", 0))]

    monkeypatch.setattr(gai.socket, "getaddrinfo", fake)
    assert gai.system_lookup_ipv4("peer") == ([(V4, "192.0.2.6")], "")
    assert asked == [socket.AF_INET]


def test_a_nameserver_whose_port_is_closed_is_unreachable_not_slow(tmp_path: Path) -> None:
    """Nothing listens on the nameserver's port: glibc learns it at once (EAI_AGAIN);
    the lens says the nameserver is unreachable, not that DNS timed out."""
    port = _closed_udp_port()
    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
    import asyncio

    from probe.resolve import make_resolver, query, refusals_explained

    resolver = make_resolver(str(conf), 1.0)
    resolver.port = port
    resolver.nameservers = ["127.0.0.1"]  # made again, with the port above

    async def lens_of_both() -> list[DnsLens]:
        lenses = [
            await query(resolver, "peer.example.", V4, search=False),
            await query(resolver, "peer.example.", V6, search=False),
        ]
        return await refusals_explained(resolver, lenses)

    lens, other = asyncio.run(lens_of_both())
    assert lens.outcome is DnsOutcome.NAMESERVER_UNREACHABLE, lens
    assert other.outcome is DnsOutcome.NAMESERVER_UNREACHABLE, other
    assert f"127.0.0.1:{port}" in lens.detail


def _closed_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
