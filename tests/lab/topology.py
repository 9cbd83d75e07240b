"""The standard lab: three probers and two peers, dual-stack where it matters.

    prober "p" (DUAL)     vp0 192.0.2.1/29  2001:db8:1:0::1/64 <-> vq0 .2  ::2   peer "q"
                          vp3 192.0.2.25/29 2001:db8:1:3::1/64 <-> vu0 .26        v4 peer "u"
                          (2001:db8:0:3::/64 routes to u, which has no IPv6: ND fails fast,
                          so a stale AAAA gives addr-unreachable)
    prober "r" (NO_ROUTE6) vp0 192.0.2.9/29 2001:db8:1:1::1/64 <-> vq1 .10 ::2   peer "q"
                          (no IPv6 route to the endpoints: ENETUNREACH)
    prober "s" (NO_IPV6)  vp0 192.0.2.17/29                    <-> vq2 .18        peer "q"
                          (net.ipv6.conf.all.disable_ipv6=1)

    peer "q" lo: endpoints 198.51.100.N/32 and 2001:db8:0:2::N/128 (per-pod addresses),
                 DNS 198.51.100.53 and 2001:db8:0:2::53 (dnsmasq),
                 `voltprobe serve` on [::]:5555, nothing on 5556 (closed);
                 ICMP rate limits off, so rejects are deterministic.
    peer "u" lo: 203.0.113.1/32, IPv6 disabled (a peer without IPv6), serve on 0.0.0.0:5555.

Only documentation prefixes are used, and links are created inside the namespaces, so
nothing appears in (or is routed from) the root namespace.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from probe.model import DEFAULT_DR_PORT

from . import firewall
from .dnsserver import DnsConfig, Record, start_dns
from .netns import Namespace, add_address, add_route, add_veth
from .resources import LabRun, Resources
from .responder import start_serve

DR_PORT = DEFAULT_DR_PORT
CLOSED_PORT = 5556

ZONE = "xdcr.svc.lab.example"  # like <namespace>.svc.cluster.local
SEARCH = (ZONE, "svc.lab.example", "lab.example")
SERVFAIL_ZONE = "broken.lab.example"
DNS_V4 = "198.51.100.53"
DNS_V6 = "2001:db8:0:2::53"

POD_IDS = (1, 2, 3, 11, 12, 13)  # endpoint addresses on the peer


def pod4(n: int) -> str:
    return f"198.51.100.{n}"


def pod6(n: int) -> str:
    return f"2001:db8:0:2::{n}"  # n reads the same in hex


V4_PEER_ADDRESS = "203.0.113.1"
STALE_V6_ADDRESS = "2001:db8:0:3::1"  # an AAAA for the peer without IPv6

NAMES: tuple[Record, ...] = (
    Record(f"volt-dr.{ZONE}", (pod4(1), pod6(1))),  # A and AAAA
    Record(f"volt-pods.{ZONE}", tuple(f(n) for f in (pod4, pod6) for n in (11, 12, 13))),
    Record(f"volt-legacy.{ZONE}", (V4_PEER_ADDRESS,)),  # A only, on the peer without IPv6
    Record(f"volt-v6.{ZONE}", (pod6(3),)),  # AAAA only
    Record(f"volt-stale.{ZONE}", (V4_PEER_ADDRESS, STALE_V6_ADDRESS)),  # AAAA of a v4-only host
)

NO_ICMP_RATE_LIMIT = {
    "net.ipv4.icmp_ratelimit": "0",
    "net.ipv6.icmp.ratelimit": "0",
    "net.ipv4.icmp_msgs_per_sec": "1000000",
    "net.ipv4.icmp_msgs_burst": "1000000",
}
NO_DAD = {"net.ipv6.conf.all.accept_dad": "0", "net.ipv6.conf.default.accept_dad": "0"}
# Give up on a silent IPv6 neighbour after one 100 ms solicitation (default 3 x 1 s).
FAST_ND_FAILURE = {
    "net.ipv6.neigh.vp3.mcast_solicit": "1",
    "net.ipv6.neigh.vp3.ucast_solicit": "1",
    "net.ipv6.neigh.vp3.retrans_time_ms": "100",
}
IPV6_OFF = {"net.ipv6.conf.all.disable_ipv6": "1", "net.ipv6.conf.default.disable_ipv6": "1"}


class Prober(str, enum.Enum):
    """Which prober namespace a scenario runs `voltprobe check` in."""

    DUAL = "dual"
    NO_ROUTE6 = "no-route6"  # has IPv6 on its link but no route to the peer's IPv6
    NO_IPV6 = "no-ipv6"  # IPv6 disabled by sysctl

    def __str__(self) -> str:
        return self.value


def resolv_conf() -> str:
    """What a pod gets: cluster DNS, the namespace search list, ndots:5."""
    return f"nameserver {DNS_V4}\nsearch {' '.join(SEARCH)}\noptions ndots:5 timeout:1 attempts:1\n"


@dataclass
class Lab:
    resources: Resources
    peer: Namespace
    v4_peer: Namespace
    probers: dict[Prober, Namespace] = field(default_factory=dict)

    def prober(self, kind: Prober = Prober.DUAL) -> Namespace:
        return self.probers[kind]

    @property
    def peers(self) -> tuple[Namespace, Namespace]:
        return (self.peer, self.v4_peer)

    def set_rules(self, rules: Sequence[firewall.Rule]) -> None:
        """Replace the rules on every peer (address rules only match where the address is)."""
        for ns in self.peers:
            firewall.apply(ns, rules)

    def reset(self) -> None:
        self.set_rules(())

    def close(self) -> list[str]:
        return self.resources.close()


def _link(a: Namespace, a_if: str, b: Namespace, b_if: str, index: int, ipv6: bool) -> None:
    """Link number `index`: 192.0.2.(8i+1|8i+2)/29 and 2001:db8:1:i::(1|2)/64."""
    add_veth(a, a_if, b, b_if)
    add_address(a, f"192.0.2.{8 * index + 1}/29", a_if)
    add_address(b, f"192.0.2.{8 * index + 2}/29", b_if)
    if ipv6:
        add_address(a, f"2001:db8:1:{index:x}::1/64", a_if)
        add_address(b, f"2001:db8:1:{index:x}::2/64", b_if)


def _peer_side(index: int, v6: bool = False) -> str:
    return f"2001:db8:1:{index:x}::2" if v6 else f"192.0.2.{8 * index + 2}"


def build_lab(run: LabRun) -> Lab:
    """Build the standard lab; on any error, undo what was built and re-raise."""
    resources = Resources(run)
    try:
        return _build(resources)
    except BaseException:
        resources.close()
        raise


def _build(resources: Resources) -> Lab:
    peer = resources.namespace("q")
    v4_peer = resources.namespace("u")
    lab = Lab(resources, peer, v4_peer)
    lab.probers[Prober.DUAL] = resources.namespace("p")
    lab.probers[Prober.NO_ROUTE6] = resources.namespace("r")
    lab.probers[Prober.NO_IPV6] = resources.namespace("s")
    dual, no_route6, no_ipv6 = (lab.probers[k] for k in Prober)

    # Sysctls first, so new interfaces inherit "no DAD" / "IPv6 off" from `default`.
    for ns in (peer, dual, no_route6):
        ns.sysctl(NO_DAD)
    for ns in (v4_peer, no_ipv6):
        ns.sysctl(IPV6_OFF)
    for ns in lab.peers:
        ns.sysctl({k: v for k, v in NO_ICMP_RATE_LIMIT.items() if ns.has_sysctl(k)})

    _link(dual, "vp0", peer, "vq0", 0, ipv6=True)
    _link(no_route6, "vp0", peer, "vq1", 1, ipv6=True)
    _link(no_ipv6, "vp0", peer, "vq2", 2, ipv6=False)
    _link(dual, "vp3", v4_peer, "vu0", 3, ipv6=False)
    add_address(dual, "2001:db8:1:3::1/64", "vp3")  # u answers no neighbour solicitation
    dual.sysctl(FAST_ND_FAILURE)

    for n in POD_IDS:
        add_address(peer, f"{pod4(n)}/32", "lo")
        add_address(peer, f"{pod6(n)}/128", "lo")
    add_address(peer, f"{DNS_V4}/32", "lo")
    add_address(peer, f"{DNS_V6}/128", "lo")
    add_address(v4_peer, f"{V4_PEER_ADDRESS}/32", "lo")

    add_route(dual, "198.51.100.0/24", _peer_side(0))
    add_route(dual, "2001:db8:0:2::/64", _peer_side(0, v6=True))
    add_route(dual, "203.0.113.0/24", _peer_side(3))
    add_route(dual, "2001:db8:0:3::/64", _peer_side(3, v6=True))
    add_route(no_route6, "198.51.100.0/24", _peer_side(1))  # and deliberately no IPv6 route
    add_route(no_ipv6, "198.51.100.0/24", _peer_side(2))

    for ns in lab.probers.values():
        ns.write_etc("resolv.conf", resolv_conf())

    lab.reset()
    start_dns(
        resources,
        peer,
        DnsConfig(listen=(DNS_V4, DNS_V6), records=NAMES, servfail_zones=(SERVFAIL_ZONE,)),
    )
    start_serve(resources, peer, DR_PORT, ready_address=pod4(1))
    start_serve(resources, v4_peer, DR_PORT, ready_address=V4_PEER_ADDRESS, binds=("0.0.0.0",))
    return lab
