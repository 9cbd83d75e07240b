"""The lab's scenario matrix, as data: what to set up, what to run, what must come out.

A scenario names the prober namespace, the peers' firewall rules and the `--peer`
arguments, then the expected probe rows per (target, family) — optionally per address,
for per-pod endpoints — the DNS outcomes, the recommended ipFamilies and the exit code.
`voltcheck.compare()` checks a report against it; a raw-vs-connect test can reuse the same
list with `method=Method.RAW` (errno expectations are connect-only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from probe.model import DnsOutcome, Family, ProbeState

from . import firewall
from .firewall import Action, Rule, drop, reject
from .topology import CLOSED_PORT, SERVFAIL_ZONE, V4_PEER_ADDRESS, Prober, pod4, pod6

V4, V6 = Family.IPV4, Family.IPV6
DR = "volt-dr"  # A + AAAA
PODS = "volt-pods"  # three A + three AAAA (per-pod endpoints)
LEGACY = "volt-legacy"  # A only, on the peer without IPv6
V6_ONLY = "volt-v6"  # AAAA only
STALE = "volt-stale"  # A + an AAAA pointing at the peer without IPv6
GONE = "volt-gone"  # NXDOMAIN
BROKEN = f"volt-dr.{SERVFAIL_ZONE}"  # SERVFAIL
NO_ROUTE_ERRNOS = ("ENETUNREACH", "EADDRNOTAVAIL", "EAFNOSUPPORT")


@dataclass(frozen=True)
class Expect:
    """The probe rows of one target in one family (or at one address) must all match."""

    target: str
    family: Family
    state: ProbeState
    reason: str | None = None  # a substring of the reason in every mode
    errnos: tuple[str, ...] = ()  # connect mode: the reason names one of these
    address: str | None = None  # only this address; None: the target's other rows


@dataclass(frozen=True)
class DnsExpect:
    target: str
    family: Family
    outcome: DnsOutcome


@dataclass(frozen=True)
class Scenario:
    id: str
    peers: tuple[str, ...]  # one --peer value each
    expect: tuple[Expect, ...]
    families: tuple[Family, ...]  # the recommended ipFamilies
    exit_code: int
    rules: tuple[Rule, ...] = ()
    prober: Prober = Prober.DUAL
    args: tuple[str, ...] = ()  # extra `voltprobe check` arguments
    dns: tuple[DnsExpect, ...] = ()

    def check_args(self) -> list[str]:
        args: list[str] = []
        for peer in self.peers:
            args += ["--peer", peer]
        return args + list(self.args)


def opened(target: str, family: Family, address: str | None = None) -> Expect:
    return Expect(target, family, ProbeState.OPEN, "syn-ack", address=address)


def closed(target: str, family: Family) -> Expect:
    return Expect(target, family, ProbeState.CLOSED, "reset")


def filtered(target: str, family: Family, address: str | None = None) -> Expect:
    return Expect(target, family, ProbeState.FILTERED, "no-response", address=address)


def unreachable(
    target: str, family: Family, icmp: str, errno: str, address: str | None = None
) -> Expect:
    return Expect(target, family, ProbeState.UNREACHABLE, icmp, (errno,), address)


def no_route(target: str, family: Family, errnos: tuple[str, ...] = NO_ROUTE_ERRNOS) -> Expect:
    return Expect(target, family, ProbeState.NO_ROUTE, None, errnos)


def no_address(target: str, family: Family) -> Expect:
    return Expect(target, family, ProbeState.NO_ADDRESS)


def dns_error(target: str, family: Family, outcome: DnsOutcome) -> Expect:
    return Expect(target, family, ProbeState.DNS_ERROR, outcome.value)


def both(target: str, make: Callable[[str, Family], Expect]) -> tuple[Expect, ...]:
    return tuple(make(target, family) for family in (V4, V6))


def dns_both(target: str, outcome: DnsOutcome) -> tuple[DnsExpect, ...]:
    return (DnsExpect(target, V4, outcome), DnsExpect(target, V6, outcome))


POD_LITERALS = "198.51.100.11,198.51.100.12,198.51.100.13,[2001:db8:0:2::11]:5555,2001:db8:0:2::12"

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "both-open",
        (DR,),
        both(DR, opened),
        families=(V4,),  # both qualify; IPv4 without cluster facts
        exit_code=0,
        dns=dns_both(DR, DnsOutcome.OK),
    ),
    Scenario(
        "ipv6-dropped",
        (DR,),
        (opened(DR, V4), filtered(DR, V6)),
        families=(V4,),
        exit_code=0,
        rules=(drop(V6),),
    ),
    Scenario(
        "ipv4-rejected-admin-prohibited",
        (DR,),
        (unreachable(DR, V4, "admin-prohibited", "EHOSTUNREACH"), opened(DR, V6)),
        families=(V6,),
        exit_code=0,
        rules=(reject(Action.ADMIN_PROHIBITED, V4),),
    ),
    Scenario(
        # connect() loses this ICMPv6 without IPV6_RECVERR (raw-probing.md, pitfall 9)
        "ipv6-rejected-admin-prohibited",
        (DR,),
        (opened(DR, V4), unreachable(DR, V6, "admin-prohibited", "EACCES")),
        families=(V4,),
        exit_code=0,
        rules=(reject(Action.ADMIN_PROHIBITED, V6),),
    ),
    Scenario(
        "both-dropped",
        (DR,),
        both(DR, filtered),
        families=(),
        exit_code=1,
        rules=(drop(),),
    ),
    Scenario(
        "closed-port",
        (DR,),
        both(DR, closed),
        families=(),
        exit_code=1,
        args=("--port", str(CLOSED_PORT)),
    ),
    Scenario(
        "port-and-host-unreachable",
        (DR,),
        (
            unreachable(DR, V4, "port-unreachable", "ECONNREFUSED"),
            unreachable(DR, V6, "addr-unreachable", "EHOSTUNREACH"),
        ),
        families=(),
        exit_code=1,
        rules=(reject(Action.PORT_UNREACHABLE, V4), reject(Action.HOST_UNREACHABLE, V6)),
    ),
    Scenario(
        "a-only-name-on-peer-without-ipv6",
        (LEGACY,),
        (opened(LEGACY, V4), no_address(LEGACY, V6)),
        families=(V4,),
        exit_code=0,
        dns=(DnsExpect(LEGACY, V4, DnsOutcome.OK), DnsExpect(LEGACY, V6, DnsOutcome.NO_ADDRESS)),
    ),
    Scenario(
        "stale-aaaa-to-peer-without-ipv6",
        (STALE,),
        (opened(STALE, V4), unreachable(STALE, V6, "addr-unreachable", "EHOSTUNREACH")),
        families=(V4,),
        exit_code=0,
    ),
    Scenario(
        "aaaa-only-name",
        (V6_ONLY,),
        (no_address(V6_ONLY, V4), opened(V6_ONLY, V6)),
        families=(V6,),
        exit_code=0,
        dns=(DnsExpect(V6_ONLY, V4, DnsOutcome.NO_ADDRESS), DnsExpect(V6_ONLY, V6, DnsOutcome.OK)),
    ),
    Scenario(
        "nxdomain",
        (GONE,),
        tuple(dns_error(GONE, f, DnsOutcome.NXDOMAIN) for f in (V4, V6)),
        families=(),
        exit_code=1,
        dns=dns_both(GONE, DnsOutcome.NXDOMAIN),
    ),
    Scenario(
        "dns-servfail",
        (BROKEN,),
        tuple(dns_error(BROKEN, f, DnsOutcome.SERVFAIL) for f in (V4, V6)),
        families=(),
        exit_code=1,
        dns=dns_both(BROKEN, DnsOutcome.SERVFAIL),
    ),
    Scenario(
        "dns-timeout",
        (DR,),
        tuple(dns_error(DR, f, DnsOutcome.TIMEOUT) for f in (V4, V6)),
        families=(),
        exit_code=1,
        rules=firewall.silent_dns(),
        args=("--dns-timeout", "1"),
        dns=dns_both(DR, DnsOutcome.TIMEOUT),
    ),
    Scenario(
        "per-pod-one-ipv6-endpoint-dropped",
        (PODS,),
        (
            opened(PODS, V4),
            filtered(PODS, V6, address=pod6(12)),
            opened(PODS, V6),
        ),
        families=(V4,),
        exit_code=0,
        rules=(drop(address=pod6(12)),),
    ),
    Scenario(
        "per-pod-literals-one-ipv4-host-unreachable",
        (POD_LITERALS,),
        (
            opened(pod4(11), V4),
            opened(pod4(12), V4),
            unreachable(pod4(13), V4, "host-unreachable", "EHOSTUNREACH"),
            opened(pod6(11), V6),
            opened(pod6(12), V6),
        ),
        families=(V6,),
        exit_code=0,
        rules=(reject(Action.HOST_UNREACHABLE, address=pod4(13)),),
        dns=(
            DnsExpect(pod4(11), V4, DnsOutcome.LITERAL),
            DnsExpect(pod6(11), V6, DnsOutcome.LITERAL),
        ),
    ),
    Scenario(
        "two-peers-one-without-aaaa",  # every named target needs an address in the family
        (DR, LEGACY),
        (opened(DR, V4), opened(DR, V6), opened(LEGACY, V4), no_address(LEGACY, V6)),
        families=(V4,),
        exit_code=0,
    ),
    Scenario(
        "two-peers-ipv4-dropped-one-aaaa-only",
        (f"{DR},{V6_ONLY}",),
        (filtered(DR, V4), opened(DR, V6), no_address(V6_ONLY, V4), opened(V6_ONLY, V6)),
        families=(V6,),
        exit_code=0,
        rules=(drop(V4),),
    ),
    Scenario(
        "prober-without-ipv6-route",
        (DR,),
        (opened(DR, V4), no_route(DR, V6, ("ENETUNREACH",))),
        families=(V4,),
        exit_code=0,
        prober=Prober.NO_ROUTE6,
    ),
    Scenario(
        "prober-with-ipv6-disabled",
        (DR,),
        (opened(DR, V4), no_route(DR, V6)),
        families=(V4,),
        exit_code=0,
        prober=Prober.NO_IPV6,
    ),
    Scenario(
        "ipv4-literal-on-peer-without-ipv6",  # a literal is probed in its own family only
        (V4_PEER_ADDRESS,),
        (opened(V4_PEER_ADDRESS, V4),),
        families=(V4,),
        exit_code=0,
        dns=(DnsExpect(V4_PEER_ADDRESS, V4, DnsOutcome.LITERAL),),
    ),
)

BY_ID: dict[str, Scenario] = {scenario.id: scenario for scenario in SCENARIOS}
