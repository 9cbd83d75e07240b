"""The local families when there is no cluster to ask: this pod's POD_IPS, or this
host's own addresses. Reading the interfaces never raises: an environment without
them (no /proc, no AF_INET sockets) simply shows no address."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence

from probe.inventory.parse import families_of
from probe.inventory.types import Capability, FamilyCapability, Inventory
from probe.model import FAMILIES, Family


def host_families() -> tuple[Family, ...]:
    """Families in which this host has a global-scope address (not loopback, not link-local)."""
    found: set[Family] = set()
    for family, address in _interface_addresses():
        ip = ipaddress.ip_address(address.split("%")[0])
        if not (ip.is_loopback or ip.is_link_local or ip.is_unspecified):
            found.add(family)
    return tuple(f for f in FAMILIES if f in found)


def _interface_addresses() -> list[tuple[Family, str]]:
    """Addresses from /proc (IPv6) and the kernel's routing choice (IPv4), no extra packages."""
    addresses: list[tuple[Family, str]] = []
    try:
        with open("/proc/net/if_inet6", encoding="ascii") as lines:
            for line in lines:
                hexaddr = line.split()[0]
                text = ":".join(hexaddr[i : i + 4] for i in range(0, 32, 4))
                addresses.append((Family.IPV6, str(ipaddress.ip_address(text))))
    except (OSError, ValueError, IndexError):
        pass  # no /proc, or a line this parser does not know: no IPv6 address seen
    addresses.extend((Family.IPV4, a) for a in _ipv4_addresses())
    return addresses


def _ipv4_addresses() -> list[str]:
    """IPv4 addresses of the interfaces, via SIOCGIFADDR on each interface name
    (none when this environment has no AF_INET sockets or no interface list)."""
    import fcntl
    import struct

    result = []
    siocgifaddr = 0x8915
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for _index, name in socket.if_nameindex():
                try:
                    packed = fcntl.ioctl(
                        sock.fileno(), siocgifaddr, struct.pack("256s", name.encode()[:15])
                    )
                except OSError:
                    continue
                result.append(socket.inet_ntoa(packed[20:24]))
    except OSError:
        return []
    return result


def host_inventory(reason: str, families: Sequence[Family] | None = None) -> Inventory:
    """The inventory of this host: `families` are its global-address families (the
    interfaces are scanned when None). A family it lacks is "unknown", never "no":
    the pods of a cluster may still have it."""
    found = host_families() if families is None else tuple(families)
    return _local_inventory(
        reason,
        found,
        source="interfaces",
        missing="unknown",
        evidence=lambda f: (
            f"pods: this host {'has' if f in found else 'has no'} global {f} address"
        ),
    )


def pod_ips_inventory(reason: str, pod_ips: Sequence[str]) -> Inventory:
    """The inventory of a pod that knows only its own POD_IPS (downward API): the
    families those addresses have are "yes", the others "no"."""
    return _local_inventory(
        reason,
        families_of(pod_ips),
        source="POD_IPS",
        missing="no",
        evidence=lambda f: f"pods: POD_IPS {','.join(pod_ips)}",
    )


def _local_inventory(
    reason: str,
    found: tuple[Family, ...],
    source: str,
    missing: Capability,
    evidence: Callable[[Family], str],
) -> Inventory:
    """No cluster facts: only the pod families, from `source`."""
    capabilities = {
        f: FamilyCapability(
            pods="yes" if f in found else missing,
            evidence=(evidence(f),),
            pods_rung=source,  # the ladder's rung for this answer: POD_IPS or interfaces
        )
        for f in FAMILIES
    }
    return Inventory(
        available=False,
        reason=reason,
        source="host",
        pod_families=found,
        pod_families_source=source,
        families=capabilities,
    )
