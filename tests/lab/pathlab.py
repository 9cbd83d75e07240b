"""A routed lab for the data path: prober -- router -- peer, the router's link to the peer
with an MTU of 1280 (a tunnel's), and nftables on the router.

    prober "dp"  vx0 192.0.2.33/29 2001:db8:1:4::1/64 <-> vy0 .34 ::2   router "dr"
    router "dr"  vz0 192.0.2.41/29 2001:db8:1:5::1/64 <-> vw0 .42 ::2   peer "dq"
                 (both ends MTU 1280)
    peer "dq" lo: 198.51.100.101/32, 2001:db8:0:5::1/128; `voltprobe serve` on [::]:5555.

The peer advertises a full Ethernet MSS (route advmss 1460 / 1440) although its own link
is 1280: so the prober sends segments that only fit up to the router, where they need
an ICMP error to shrink (Packet Too Big in IPv6, fragmentation needed in IPv4). Drop
the ICMPv6 one on the router and IPv6 has a path-MTU black hole, while IPv4 recovers.
Only documentation prefixes; links are created inside the namespaces.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .dnsserver import DnsConfig, Record, start_dns
from .netns import Namespace, add_address, add_veth
from .resources import LabRun, Resources
from .responder import start_serve
from .topology import NO_DAD

PEER4 = "198.51.100.101"
PEER6 = "2001:db8:0:5::1"
PROBER4, PROBER6 = "192.0.2.33", "2001:db8:1:4::1"
ROUTER_OUT4, ROUTER_OUT6 = "192.0.2.41", "2001:db8:1:5::1"  # the router's address toward q
DNS4 = "198.51.100.53"
# a name whose IPv4 address greets (voltprobe serve) and whose IPv6 address is silent,
# on MIXED_PORT: a path that accepts IPv6 and forwards nothing
MIXED_NAME = "volt-mixed.lab.example"
MIXED_PORT = 5603
TUNNEL_MTU = 1280
DR_PORT = 5555
TABLE = "vpath"
HERE = Path(__file__).resolve().parent
FORWARDING = {
    "net.ipv4.ip_forward": "1",
    "net.ipv6.conf.all.forwarding": "1",
    # packets the delay line writes back arrive on its TUN device, not on vy0
    "net.ipv4.conf.all.rp_filter": "0",
    "net.ipv4.conf.default.rp_filter": "0",
}
DELAY_DEV = "vdelay0"
DELAY_TABLE = "100"


@dataclass
class PathLab:
    resources: Resources
    prober: Namespace
    router: Namespace
    peer: Namespace

    def set_router_rules(self, body: str) -> None:
        """Replace the router's nftables table with `body` (chains), in one transaction."""
        script = f"add table inet {TABLE}\ndelete table inet {TABLE}\ntable inet {TABLE} {{\n{body}\n}}\n"
        self.router.run("nft", "-f", "-", stdin=script)

    def drop_packet_too_big(self) -> None:
        self.set_router_rules(
            "  chain output {\n    type filter hook output priority 0; policy accept;\n"
            "    icmpv6 type packet-too-big drop\n  }"
        )

    def masquerade(self) -> None:
        self.set_router_rules(
            "  chain postrouting {\n    type nat hook postrouting priority 100; policy accept;\n"
            '    oifname "vz0" masquerade\n  }'
        )

    def reset(self) -> None:
        self.set_router_rules("")
        # forget path MTUs learned from ICMP in earlier tests
        self.prober.ip("-4", "route", "flush", "cache")
        self.prober.ip("-6", "route", "flush", "cache")

    def start_listener(
        self, behaviour: str, port: int, address: str = "::"
    ) -> subprocess.Popen[bytes]:
        proc = self.resources.start(
            self.peer,
            [sys.executable, str(HERE / "tcplisten.py"), behaviour, address, str(port)],
            f"listen-{behaviour}-{port}.log",
        )
        check = subprocess.run(
            self.peer.exec_args(sys.executable, str(HERE / "nscheck.py"), "tcp", PEER6, str(port), "10"),
            capture_output=True, text=True, timeout=20, check=False,
        )  # fmt: skip
        if check.returncode != 0:
            raise RuntimeError(f"listener {behaviour} on {port} not ready: {check.stderr}")
        return proc

    def start_delay_line(self, delay_ms: float, destination: str) -> subprocess.Popen[bytes]:
        """Delay packets from the prober to `destination` (one address) by `delay_ms` on the
        router: a TUN device whose reader writes them back later (delayline.py)."""
        log_name = f"delay-{DELAY_DEV}.log"
        proc = self.resources.start(
            self.router,
            [sys.executable, str(HERE / "delayline.py"), DELAY_DEV, str(delay_ms), "120"],
            log_name,
        )
        deadline = time.monotonic() + 10
        while "ready" not in self.resources.log_text(log_name):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"delay line did not start: {self.resources.log_text(log_name)}")
            time.sleep(0.05)
        self.router.ip("link", "set", DELAY_DEV, "up")
        family = "-6" if ":" in destination else "-4"
        # from the prober's side only: what the delay line writes back comes in on the TUN
        # device and follows the main table to the peer
        self.router.ip(family, "rule", "add", "iif", "vy0", "to", destination,
                       "table", DELAY_TABLE, "priority", "100")  # fmt: skip
        self.router.ip(family, "route", "add", "default", "dev", DELAY_DEV, "table", DELAY_TABLE)
        return proc

    def stop_delay_line(self, proc: subprocess.Popen[bytes], destination: str) -> None:
        family = "-6" if ":" in destination else "-4"
        self.router.ip(family, "rule", "del", "priority", "100")
        proc.terminate()
        proc.wait(10)

    def close(self) -> list[str]:
        return self.resources.close()


def _link(a: Namespace, a_if: str, b: Namespace, b_if: str, index: int, mtu: int) -> None:
    add_veth(a, a_if, b, b_if)
    for ns, ifname, host in ((a, a_if, 1), (b, b_if, 2)):
        ns.ip("link", "set", ifname, "mtu", str(mtu))
        add_address(ns, f"192.0.2.{8 * index + host}/29", ifname)
        add_address(ns, f"2001:db8:1:{index:x}::{host}/64", ifname)


def build_path_lab(run: LabRun) -> PathLab:
    """Build it; on any error, undo what was built and re-raise."""
    resources = Resources(run)
    try:
        return _build(resources)
    except BaseException:
        resources.close()
        raise


def _build(resources: Resources) -> PathLab:
    prober, router, peer = (resources.namespace(role) for role in ("dp", "dr", "dq"))
    for ns in (prober, router, peer):
        ns.sysctl(NO_DAD)
    router.sysctl(FORWARDING)
    _link(prober, "vx0", router, "vy0", 4, 1500)
    _link(router, "vz0", peer, "vw0", 5, TUNNEL_MTU)
    add_address(peer, f"{PEER4}/32", "lo")
    add_address(peer, f"{PEER6}/128", "lo")
    prober.ip("-4", "route", "add", "198.51.100.0/24", "via", "192.0.2.34")
    prober.ip("-6", "route", "add", "2001:db8:0:5::/64", "via", "2001:db8:1:4::2")
    router.ip("-4", "route", "add", "198.51.100.0/24", "via", "192.0.2.42")
    router.ip("-6", "route", "add", "2001:db8:0:5::/64", "via", "2001:db8:1:5::2")
    # the peer advertises an Ethernet MSS although its link is a 1280-byte tunnel
    peer.ip("-4", "route", "add", "192.0.2.32/29", "via", ROUTER_OUT4, "advmss", "1460")
    peer.ip("-6", "route", "add", "2001:db8:1:4::/64", "via", ROUTER_OUT6, "advmss", "1440")
    add_address(peer, f"{DNS4}/32", "lo")
    prober.write_etc("resolv.conf", f"nameserver {DNS4}\noptions timeout:1 attempts:1\n")
    lab = PathLab(resources, prober, router, peer)
    lab.reset()
    start_dns(
        resources, peer, DnsConfig(listen=(DNS4,), records=(Record(MIXED_NAME, (PEER4, PEER6)),))
    )
    start_serve(resources, peer, DR_PORT, ready_address=PEER4)
    start_serve(resources, peer, MIXED_PORT, ready_address=PEER4, binds=(PEER4,))
    lab.start_listener("silent", MIXED_PORT, PEER6)
    return lab
