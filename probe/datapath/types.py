"""Data-path values: what came after the handshake, RTT samples, NAT, the MTU ladder.

Frozen values with `to_json`/`from_json` (camelCase keys, as the rest of the report).
`from_json` raises ValueError (or KeyError/TypeError) on a malformed document.
"""

from __future__ import annotations

import enum
import math
import statistics
from dataclasses import dataclass
from typing import Any

from probe.model import Family


class AfterHandshake(str, enum.Enum):
    """What an `open` endpoint did after a fresh handshake, within the wait."""

    GREETING = "greeting"  # a voltprobe responder greeted (a later close is normal)
    SILENT = "silent"  # nothing arrived: normal for a real DR listener
    CLOSED = "closed"  # FIN right after accept, before any byte
    RESET = "reset"  # RST right after accept
    OTHER = "other"  # bytes that are not a voltprobe greeting
    FAILED = "failed"  # the follow-up connect() did not complete

    def __str__(self) -> str:
        return self.value


class PathQuality(str, enum.Enum):
    """--path-quality: RTT samples and the MTU ladder."""

    AUTO = "auto"  # for endpoints that greet as a voltprobe responder
    ON = "on"  # RTT samples for every open endpoint, the ladder where one greets
    OFF = "off"

    def __str__(self) -> str:
        return self.value


class Nat(str, enum.Enum):
    """The client address the responder saw, compared with our source address."""

    NONE = "none"  # the responder saw our own source address
    SNAT = "snat"  # same family, another address (pod egress SNAT, masquerade)
    NAT64 = "nat64"  # we sent IPv6, the responder saw IPv4
    NAT46 = "nat46"  # we sent IPv4, the responder saw IPv6

    def __str__(self) -> str:
        return self.value


GREETING_WAIT = 0.3  # seconds to wait for the first byte after the handshake
DEFAULT_SAMPLES = 5
# IP packet sizes: IPv6's minimum MTU, common tunnel sizes, Ethernet, jumbo frames
MTU_LADDER = (1280, 1400, 1480, 1500, 9000)


@dataclass(frozen=True)
class DataPathOptions:
    enabled: bool = True
    responder: bool = False  # the user declares every peer a voltprobe responder
    path_quality: PathQuality = PathQuality.AUTO
    samples: int = DEFAULT_SAMPLES
    wait: float = GREETING_WAIT  # seconds for the greeting
    timeout: float = 2.0  # seconds for a connect, and for one MTU step's echo
    concurrency: int = 256  # first (read-only) connections in flight at once
    quality_concurrency: int = 64  # RTT and MTU-ladder connections in flight at once


@dataclass(frozen=True)
class Greeting:
    """The fields of a voltprobe responder's greeting line that the check uses."""

    protocol: int  # 0: a responder from before the protocol was versioned
    version: str
    client_address: str | None  # the source address the responder saw (unmapped)
    listener: str | None
    pod: str | None = None
    name: str | None = None
    busy: bool = False  # over the responder's connection caps: greeted and closed

    @property
    def echoes(self) -> bool:
        return self.protocol >= 1 and not self.busy

    @classmethod
    def parse(cls, line: dict[str, Any]) -> Greeting | None:
        """A greeting from a decoded JSON line, or None when it is not one."""
        if line.get("server") != "voltprobe":
            return None
        client = line.get("clientAddress")
        if client is None and isinstance(line.get("client"), str):  # protocol 0
            client = _host_of(line["client"])
        return cls(
            protocol=int(line.get("protocol", 0)),
            version=str(line.get("version", "")),
            client_address=str(client) if client else None,
            listener=str(line["listener"]) if line.get("listener") else None,
            pod=str(line["pod"]) if line.get("pod") else None,
            name=str(line["name"]) if line.get("name") else None,
            busy=bool(line.get("busy", False)),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol,
            "version": self.version,
            "clientAddress": self.client_address,
            "listener": self.listener,
            "pod": self.pod,
            "name": self.name,
            "busy": self.busy,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Greeting:
        return cls(
            protocol=int(data["protocol"]),
            version=str(data["version"]),
            client_address=data.get("clientAddress"),
            listener=data.get("listener"),
            pod=data.get("pod"),
            name=data.get("name"),
            busy=bool(data.get("busy", False)),
        )


def _host_of(endpoint: str) -> str:
    """The address of 'a.b.c.d:port' or '[v6]:port', IPv4-mapped addresses unmapped."""
    host = endpoint.rsplit(":", 1)[0].strip("[]")
    return host[7:] if host.lower().startswith("::ffff:") and "." in host else host


@dataclass(frozen=True)
class RttStats:
    """Handshake round trips in milliseconds, one per connection."""

    samples: tuple[float, ...]

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        """Nearest-rank 95th percentile."""
        ordered = sorted(self.samples)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]

    def to_json(self) -> dict[str, Any]:
        return {
            "samples": [round(s, 3) for s in self.samples],
            "minMs": round(self.min, 3),
            "medianMs": round(self.median, 3),
            "p95Ms": round(self.p95, 3),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RttStats:
        samples = tuple(float(s) for s in data["samples"])
        if not samples:
            raise ValueError("rtt without samples")
        return cls(samples)


class StepOutcome(str, enum.Enum):
    PASSED = "passed"  # every byte came back within the timeout
    STALLED = "stalled"  # connected and greeted, but the echo did not complete in time
    CAPPED = "capped"  # the route or the peer's MSS keeps segments below this size
    FAILED = "failed"  # no connection, no greeting, or a reset: says nothing about size

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class MtuStep:
    """One rung of the ladder: a connection whose full segments are `size`-byte IP packets."""

    size: int  # IP packet size in bytes (headers included)
    outcome: StepOutcome
    elapsed_ms: float | None = None  # the echo's duration, when it passed
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.outcome is StepOutcome.PASSED

    def to_json(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "outcome": self.outcome.value,
            "elapsedMs": None if self.elapsed_ms is None else round(self.elapsed_ms, 3),
            "detail": self.detail,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MtuStep:
        elapsed = data.get("elapsedMs")
        return cls(
            int(data["size"]),
            StepOutcome(data["outcome"]),
            None if elapsed is None else float(elapsed),
            str(data.get("detail", "")),
        )


@dataclass(frozen=True)
class DataPath:
    """What one open (address, port) did after the handshake, and what was measured."""

    address: str
    port: int
    family: Family
    after: AfterHandshake
    detail: str = ""  # e.g. the errno of a failed follow-up, the first bytes of `other`
    wait_ms: float = 0.0  # how long we waited for the first byte (or the close)
    greeting: Greeting | None = None
    source: str | None = None  # our own source address on that connection
    rtt: RttStats | None = None
    mtu: tuple[MtuStep, ...] = ()
    local_mtu: int | None = None  # the route's MTU towards the peer (bounds the ladder)

    @property
    def nat(self) -> Nat | None:
        """None without a greeting that names the client address, or without a source."""
        seen = self.greeting.client_address if self.greeting else None
        if not seen or not self.source:
            return None
        seen_family = Family.IPV6 if ":" in seen else Family.IPV4
        if seen_family is not self.family:
            return Nat.NAT64 if self.family is Family.IPV6 else Nat.NAT46
        return Nat.NONE if seen == self.source else Nat.SNAT

    @property
    def largest_passed(self) -> int | None:
        passed = [s.size for s in self.mtu if s.passed]
        return max(passed) if passed else None

    @property
    def black_hole(self) -> int | None:
        """The smallest size that stalled above a size that passed, or None.

        A rung that stalls while a smaller one echoes is the signature of a path-MTU
        black hole: the too-big packets are dropped and the ICMP error that would
        lower the path MTU (ICMPv6 Packet Too Big, ICMP fragmentation needed) never
        arrives (RFC 4890 section 4.3.1, RFC 8201).
        """
        largest = self.largest_passed
        if largest is None:
            return None
        stalled = [
            s.size for s in self.mtu if s.outcome is StepOutcome.STALLED and s.size > largest
        ]
        return min(stalled) if stalled else None

    def to_json(self) -> dict[str, Any]:
        nat = self.nat
        return {
            "address": self.address,
            "port": self.port,
            "family": self.family.value,
            "after": self.after.value,
            "detail": self.detail,
            "waitMs": round(self.wait_ms, 3),
            "greeting": self.greeting.to_json() if self.greeting else None,
            "source": self.source,
            "nat": nat.value if nat else None,
            "rtt": self.rtt.to_json() if self.rtt else None,
            "mtu": [s.to_json() for s in self.mtu],
            "localMtu": self.local_mtu,
            "largestPassed": self.largest_passed,
            "blackHole": self.black_hole,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DataPath:
        """The inverse of to_json (derived fields are recomputed, not read)."""
        return cls(
            address=str(data["address"]),
            port=int(data["port"]),
            family=Family.make(str(data["family"])),
            after=AfterHandshake(data["after"]),
            detail=str(data.get("detail", "")),
            wait_ms=float(data.get("waitMs", 0.0)),
            greeting=Greeting.from_json(data["greeting"]) if data.get("greeting") else None,
            source=data.get("source"),
            rtt=RttStats.from_json(data["rtt"]) if data.get("rtt") else None,
            mtu=tuple(MtuStep.from_json(s) for s in data.get("mtu", ())),
            local_mtu=None if data.get("localMtu") is None else int(data["localMtu"]),
        )
