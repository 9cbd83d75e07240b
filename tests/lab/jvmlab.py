"""An extra prober on the standard lab, for seeing the peer as VoltDB's JVM sees it.

    prober "j" vp0 192.0.2.33/29 2001:db8:1:4::1/64 <-> vq4 .34 ::2  peer "q"
    resolv.conf: nameserver 198.51.100.54 (authdns.py on q: broken-DNS behaviours
                 dnsmasq cannot play), search b.example, ndots:5
    /etc/hosts:  hosts-peer (A and AAAA) and hosts-v4 (A only), as hostAliases give a pod
    peer "q":    also `voltprobe serve` on 0.0.0.0:5557 only (a listener bound to IPv4)

Names in ZONE are short names under b.example (found through the search list, as a
pod finds a Service); `*.corp.example` is a wildcard for the search-walk case, used
only when a test adds corp.example to the search list (`search_list`).
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .dnsserver import HERE
from .netns import Namespace, add_address, add_route, add_veth
from .responder import start_serve
from .topology import Lab, pod4, pod6

AUTH_DNS = "198.51.100.54"
ONE_FAMILY_PORT = 5557  # served on IPv4 only
NAT64_PREFIX = "2001:db8:64::/96"  # a network-specific prefix (RFC 6052) in the lab's space
UNROUTED_DNS = "2001:db8:ffff::53"  # no route to it from j: ENETUNREACH at once


def nat64(v4: str) -> str:
    network = ipaddress.IPv6Network(NAT64_PREFIX)
    return str(ipaddress.IPv6Address(int(network.network_address) + int(ipaddress.IPv4Address(v4))))


ZONE = {
    "dual.b.example": {"A": [pod4(1)], "AAAA": [pod6(1)]},
    "peer-dr.b.example": {"A": [pod4(1)], "AAAA": "NXDOMAIN"},  # a broken server
    "*.corp.example": {"A": [pod4(2)], "AAAA": [pod6(2)]},  # another machine
    "servfail6.b.example": {"A": [pod4(1)], "AAAA": "SERVFAIL"},
    "silent6.b.example": {"A": [pod4(1)], "AAAA": "SILENT"},
    "refused6.b.example": {"A": [pod4(1)], "AAAA": "REFUSED"},
    "mapped.b.example": {"A": [pod4(1)], "AAAA": [f"::ffff:{pod4(1)}"]},
    "mapped-only.b.example": {"AAAA": [f"::ffff:{pod4(1)}"]},
    "nat64.b.example": {"A": [pod4(3)], "AAAA": [nat64(pod4(3))]},
    "v6only.b.example": {"AAAA": [pod6(3)]},
    "ipv4only.arpa": {
        "A": ["192.0.0.170", "192.0.0.171"],
        "AAAA": [nat64("192.0.0.170"), nat64("192.0.0.171")],
    },
}
HOSTS = (
    "127.0.0.1 localhost\n::1 localhost\n"
    f"{pod4(11)} hosts-peer.lab.example hosts-peer\n"
    f"{pod6(11)} hosts-peer.lab.example hosts-peer\n"
    f"{pod4(12)} hosts-v4.lab.example hosts-v4\n"
)
SEARCH = "b.example"


def resolv_conf(search: str = SEARCH, nameserver: str = AUTH_DNS) -> str:
    return f"nameserver {nameserver}\nsearch {search}\noptions ndots:5 timeout:1 attempts:1\n"


@dataclass
class JvmLab:
    lab: Lab
    prober: Namespace

    @contextmanager
    def resolver(self, text: str) -> Iterator[None]:
        """Another resolv.conf for j while the block runs (ip netns exec binds it at exec)."""
        self.prober.write_etc("resolv.conf", text)
        try:
            yield
        finally:
            self.prober.write_etc("resolv.conf", resolv_conf())

    @contextmanager
    def output_rule(self, rule: str) -> Iterator[None]:
        """An nftables OUTPUT rule in j itself (a local egress filter)."""
        script = (
            "table inet vplocal {\n  chain output {\n"
            "    type filter hook output priority 0; policy accept;\n"
            f"    {rule}\n  }}\n}}\n"
        )
        self.prober.run("nft", "-f", "-", stdin=script)
        try:
            yield
        finally:
            self.prober.run("nft", "delete", "table", "inet", "vplocal")


def build_jvm_lab(lab: Lab) -> JvmLab:
    """Add prober j, the authoritative server and the IPv4-only listener to `lab` (all
    torn down with it)."""
    resources, peer = lab.resources, lab.peer
    prober = resources.namespace("j")
    prober.sysctl({"net.ipv6.conf.all.accept_dad": "0", "net.ipv6.conf.default.accept_dad": "0"})
    add_veth(prober, "vp0", peer, "vq4")
    add_address(prober, "192.0.2.33/29", "vp0")
    add_address(peer, "192.0.2.34/29", "vq4")
    add_address(prober, "2001:db8:1:4::1/64", "vp0")
    add_address(peer, "2001:db8:1:4::2/64", "vq4")
    add_route(prober, "198.51.100.0/24", "192.0.2.34")
    add_route(prober, "2001:db8:0:2::/64", "2001:db8:1:4::2")
    add_address(peer, f"{AUTH_DNS}/32", "lo")
    prober.write_etc("resolv.conf", resolv_conf())
    prober.write_etc("hosts", HOSTS)
    zone = resources.workdir / "authdns-zone.json"
    zone.write_text(json.dumps(ZONE))
    resources.start(
        peer, [sys.executable, str(HERE / "authdns.py"), str(zone), AUTH_DNS], "authdns.log"
    )
    start_serve(resources, peer, ONE_FAMILY_PORT, ready_address=pod4(1), binds=("0.0.0.0",))
    _wait_dns(prober)
    return JvmLab(lab, prober)


def _wait_dns(prober: Namespace) -> None:
    check = subprocess.run(
        prober.exec_args(sys.executable, str(HERE / "nscheck.py"), "dns", AUTH_DNS, "dual.b.example", "10"),
        capture_output=True, text=True, timeout=20, check=False,
    )  # fmt: skip
    if check.returncode != 0:
        raise RuntimeError(f"authdns not ready: {check.stderr.strip()}")
