"""A real DNS server for the lab: dnsmasq (Debian dnsmasq-base) in the peer namespace.

- `records`: names with A and AAAA, only A, or only AAAA (several addresses allowed);
- every other name is NXDOMAIN (`local=/#/`), as a cluster DNS would answer for a
  missing Service; no query ever leaves the lab;
- names under a `servfail_zone` are forwarded to a tiny upstream on the peer's
  loopback that answers SERVFAIL, which dnsmasq relays;
- silence (timeouts) is a firewall knob: `firewall.silent_dns()`.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .netns import Namespace
from .resources import Resources

SERVFAIL_UPSTREAM_PORT = 5300
READY_SECONDS = 10.0
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Record:
    name: str  # fully qualified, without the trailing dot
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class DnsConfig:
    listen: tuple[str, ...]  # addresses in the peer namespace
    records: tuple[Record, ...]
    servfail_zones: tuple[str, ...] = ()


def dnsmasq_conf(config: DnsConfig) -> str:
    lines = [
        "no-hosts",
        "no-resolv",
        "bind-interfaces",
        "port=53",
        "cache-size=0",  # every query reaches the config or the upstream
        "local=/#/",  # unknown names are NXDOMAIN, never forwarded
    ]
    lines += [f"listen-address={address}" for address in config.listen]
    lines += [
        f"server=/{zone}/127.0.0.1#{SERVFAIL_UPSTREAM_PORT}" for zone in config.servfail_zones
    ]
    for record in config.records:
        # one host-record line per address: dnsmasq merges them into one RRset per type
        lines += [f"host-record={record.name},{address}" for address in record.addresses]
    return "\n".join(lines) + "\n"


def start_dns(
    resources: Resources, ns: Namespace, config: DnsConfig
) -> list[subprocess.Popen[bytes]]:
    """Start dnsmasq (and the SERVFAIL upstream) in `ns`; return once they answer."""
    started: list[subprocess.Popen[bytes]] = []
    if config.servfail_zones:
        started.append(
            resources.start(
                ns,
                [
                    sys.executable, str(HERE / "servfail_upstream.py"),
                    "127.0.0.1", str(SERVFAIL_UPSTREAM_PORT),
                ],
                "servfail-upstream.log",
            )
        )  # fmt: skip
    conf = resources.workdir / f"dnsmasq-{ns.name}.conf"
    conf.write_text(dnsmasq_conf(config))
    started.append(
        resources.start(
            ns,
            [
                "dnsmasq", "--keep-in-foreground", f"--conf-file={conf}", "--pid-file=",
                "--user=root", "--group=root", "--log-facility=-", "--log-queries",
            ],
            "dnsmasq.log",
        )
    )  # fmt: skip
    wait_dns(resources, ns, config.listen[0], started)
    return started


def wait_dns(
    resources: Resources,
    ns: Namespace,
    server: str,
    procs: Sequence[subprocess.Popen[bytes]],
) -> None:
    """Ready when a query is answered (any rcode) from inside the namespace."""
    check = subprocess.run(
        ns.exec_args(
            sys.executable, str(HERE / "nscheck.py"), "dns", server, "ready.lab.invalid",
            str(READY_SECONDS),
        ),
        capture_output=True, text=True, timeout=READY_SECONDS + 10, check=False,
    )  # fmt: skip
    dead = [proc for proc in procs if proc.poll() is not None]
    if check.returncode != 0 or dead:
        raise RuntimeError(
            f"dnsmasq in {ns.name} not ready: {check.stderr.strip()}\n"
            f"{resources.log_text('dnsmasq.log')}{resources.log_text('servfail-upstream.log')}"
        )
