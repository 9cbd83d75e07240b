"""nftables rules on a peer, per family, per address and per port, as data.

All rules live in one `inet voltlab` table in the peer's input hook. `apply()` replaces
the whole table in one nft transaction, so each test starts from exactly its own rules.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from probe.model import DEFAULT_DR_PORT, Family

from .netns import Namespace

TABLE = "voltlab"


class Action(str, enum.Enum):
    DROP = "drop"
    # icmpx picks the ICMP or ICMPv6 code of the packet's family:
    ADMIN_PROHIBITED = "admin-prohibited"  # v4 3/13, v6 1/1
    PORT_UNREACHABLE = "port-unreachable"  # v4 3/3,  v6 1/4
    HOST_UNREACHABLE = "host-unreachable"  # v4 3/1,  v6 1/3 (addr-unreachable)
    NO_ROUTE = "no-route"  # v4 3/0 (net-unreachable), v6 1/0

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Rule:
    """Drop or reject packets to the peer. None means "any" for family, address, port and
    interface (`interface`: the peer's link they arrive on, so a rule can drop one
    neighbour's packets and not another's)."""

    action: Action
    family: Family | None = None
    address: str | None = None  # destination address on the peer
    port: int | None = DEFAULT_DR_PORT
    protocol: str = "tcp"
    interface: str | None = None

    def nft(self) -> str:
        parts: list[str] = []
        if self.interface is not None:
            parts.append(f'iifname "{self.interface}"')
        if self.address is not None:
            parts.append(f"{'ip6' if ':' in self.address else 'ip'} daddr {self.address}")
        elif self.family is not None:
            parts.append(f"meta nfproto {'ipv4' if self.family is Family.IPV4 else 'ipv6'}")
        if self.port is not None:
            parts.append(f"{self.protocol} dport {self.port}")
        else:
            parts.append(f"meta l4proto {self.protocol}")
        if self.action is Action.DROP:
            parts.append("drop")
        else:
            parts.append(f"reject with icmpx type {self.action.value}")
        return " ".join(parts)


def drop(
    family: Family | None = None,
    address: str | None = None,
    port: int | None = DEFAULT_DR_PORT,
    interface: str | None = None,
) -> Rule:
    return Rule(Action.DROP, family, address, port, interface=interface)


def reject(
    action: Action,
    family: Family | None = None,
    address: str | None = None,
    port: int | None = DEFAULT_DR_PORT,
) -> Rule:
    return Rule(action, family, address, port)


def silent_dns() -> tuple[Rule, ...]:
    """The DNS server stops answering (clients time out)."""
    return (Rule(Action.DROP, port=53, protocol="udp"), Rule(Action.DROP, port=53, protocol="tcp"))


def ruleset(rules: Sequence[Rule]) -> str:
    """A script that replaces our table atomically (add+delete makes 'delete' never fail)."""
    body = "\n".join(f"    {rule.nft()}" for rule in rules)
    return (
        f"add table inet {TABLE}\n"
        f"delete table inet {TABLE}\n"
        f"table inet {TABLE} {{\n"
        f"  chain input {{\n"
        f"    type filter hook input priority 0; policy accept;\n"
        f"{body}\n"
        f"  }}\n"
        f"}}\n"
    )


def apply(ns: Namespace, rules: Sequence[Rule]) -> None:
    ns.run("nft", "-f", "-", stdin=ruleset(rules))


def listing(ns: Namespace) -> str:
    return ns.run("nft", "list", "table", "inet", TABLE)
