"""The vocabulary of voltprobe: families, targets, DNS answers, probe results,
findings, the recommendation and the report, plus their JSON form.

Every stage of the pipeline (targets -> resolve -> inventory -> probe -> checks ->
recommend -> render) takes and returns these plain, frozen values.
"""

from __future__ import annotations

import enum
import math
import socket
import statistics
from dataclasses import dataclass, field
from typing import Any

NUMBER = (int, float)

SCHEMA = "voltprobe/v1"
DEFAULT_DR_PORT = 5555
# `check --log-json` prints the JSON report between these lines (read back by `voltprobe job`)
REPORT_BEGIN = "----- BEGIN VOLTPROBE REPORT -----"
REPORT_END = "----- END VOLTPROBE REPORT -----"


CANNOT_RUN = 3  # the exit code of a run that stopped without a more precise one
STOPPED_EXIT_CODES = (2, 3, 130)  # bad input, could not run, Ctrl-C


class ReportFormatError(ValueError):
    """A report document that is not a readable voltprobe/v1 report; the message names the
    field (a JSON path such as `probes[3].state`) and what is wrong with it."""


def _field(document: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """document[key], checked to be of `kind` (raises ReportFormatError naming the path)."""
    if not isinstance(document, dict):
        raise ReportFormatError(f"{where or 'the report'} is not an object")
    value = document.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _kinds(kind)):
        raise ReportFormatError(
            f"{where}.{key}".lstrip(".") + f" is missing or not {_kind_name(kind)}"
        )
    return value


def _optional(document: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(document, dict):
        raise ReportFormatError(f"{where or 'the report'} is not an object")
    return None if document.get(key) is None else _field(document, key, kind, where)


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "true/false",
        list: "a list",
        dict: "an object",
    }
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in _kinds(kind)))


def _enum(cls: Any, document: dict[str, Any], key: str, where: str) -> Any:
    text = _field(document, key, str, where)
    try:
        return cls(text)
    except ValueError:
        raise ReportFormatError(
            f"{where}.{key}".lstrip(".") + f": unknown value {text[:40]!r}"
        ) from None


def _items(document: Any, key: str, where: str) -> list[tuple[str, dict[str, Any]]]:
    """(path, item) for each item of the list document[key]; every item must be an object."""
    items = []
    for index, item in enumerate(_field(document, key, list, where)):
        path = f"{where}{key}[{index}]"
        if not isinstance(item, dict) and key != "ipFamilies":
            raise ReportFormatError(f"{path} is not an object")
        items.append((path, item))
    return items


def format_endpoint(address: str, port: int) -> str:
    """address:port, with brackets around an IPv6 address."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


class Family(str, enum.Enum):
    """An IP family, spelled as Kubernetes spells it."""

    IPV4 = "IPv4"
    IPV6 = "IPv6"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def of(cls, address: str) -> Family:
        """The family of an IP address literal (raises ValueError if not one)."""
        parsed = parse_ip(address)
        if parsed is None:
            raise ValueError(f"{address!r} is not an IP address")
        return parsed[0]

    @classmethod
    def make(cls, text: str) -> Family:
        """Accept 'IPv4', 'ipv6', '4', '6' and return the Family."""
        normalized = text.strip().lower().removeprefix("ip")
        if normalized in ("v4", "4"):
            return cls.IPV4
        if normalized in ("v6", "6"):
            return cls.IPV6
        raise ValueError(f"not an IP family: {text!r} (use IPv4 or IPv6)")


def parse_ip(text: str) -> tuple[Family, str] | None:
    """The family and canonical text (RFC 5952) of an IP address literal, or None.

    The C library's inet_pton, not `ipaddress`: as strict (no leading zeros, no
    zone index) and ~30 times faster, which counts with a thousand peers.
    """
    for family, af in ((Family.IPV4, socket.AF_INET), (Family.IPV6, socket.AF_INET6)):
        try:
            canonical = socket.inet_ntop(af, socket.inet_pton(af, text))
        except (OSError, ValueError):  # ValueError: an embedded NUL
            continue
        if family is Family.IPV6 and "." in canonical and not canonical.startswith("::ffff:"):
            # glibc writes ::/96 in the deprecated IPv4-compatible form (::0.1.85.85);
            # RFC 5952 5 keeps dotted quads for IPv4-mapped addresses only
            import ipaddress  # here: the common path stays without it (start-up time)

            canonical = ipaddress.IPv6Address(canonical).compressed
        return family, canonical
    return None


def unmapped_ipv4(address: str) -> str | None:
    """'192.0.2.1' for the IPv4-mapped '::ffff:192.0.2.1' (RFC 4291 2.5.5.2), the form
    the kernel dials it in; None for any other address."""
    import ipaddress  # here: model is imported at start-up, mapped addresses are rare

    ip = ipaddress.ip_address(address)
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return str(mapped) if mapped else None


FAMILIES: tuple[Family, ...] = (Family.IPV4, Family.IPV6)


class ProbeState(str, enum.Enum):
    """What one probe of (address, port) found. Outcomes are values, not exceptions."""

    OPEN = "open"  # handshake completed / SYN-ACK
    CLOSED = "closed"  # RST / ECONNREFUSED: reachable, nothing listening
    FILTERED = "filtered"  # no answer in time
    UNREACHABLE = "unreachable"  # an ICMP error came back
    NO_ROUTE = "no-route"  # this host has no route or address in that family
    LOCAL_DENY = "local-deny"  # a rule on this host refused to send (EPERM/EACCES)
    NO_ADDRESS = "no-address"  # DNS had no address in that family
    DNS_ERROR = "dns-error"  # DNS failed (nxdomain, servfail, timeout)
    ERROR = "error"  # anything else; the reason says what

    def __str__(self) -> str:
        return self.value


class Method(str, enum.Enum):
    CONNECT = "connect"
    RAW = "raw"

    def __str__(self) -> str:
        return self.value


class DnsOutcome(str, enum.Enum):
    OK = "ok"
    NO_ADDRESS = "no-address"  # NOERROR without data (NODATA)
    NXDOMAIN = "nxdomain"
    SERVFAIL = "servfail"
    REFUSED = "refused"  # every server answered REFUSED (RCODE 5, RFC 1035 4.1.1): policy
    TIMEOUT = "timeout"
    NAMESERVER_UNREACHABLE = "nameserver-unreachable"  # no nameserver could be sent to
    ERROR = "error"
    LITERAL = "literal"  # an IP literal: DNS was not asked

    def __str__(self) -> str:
        return self.value


# a lookup that failed (the name, the server or the path), not a name without records
DNS_FAILURES = frozenset(
    {
        DnsOutcome.NXDOMAIN,
        DnsOutcome.SERVFAIL,
        DnsOutcome.REFUSED,
        DnsOutcome.TIMEOUT,
        DnsOutcome.NAMESERVER_UNREACHABLE,
    }
)


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Target:
    """One peer endpoint the user named: a DNS name or an IP literal, and a port.

    `text` is the host as the user gave it (without the port); `host` is the
    normalised form used for lookups (IDNA-encoded, lower case, canonical IP).
    """

    text: str
    host: str
    port: int
    literal_family: Family | None = None  # set when host is an IP literal
    cluster: str | None = None  # the peer cluster that advertises it (--peer-report)
    warning: str = ""  # how the text may be misread (e.g. an unbracketed IPv6 with a port)

    @property
    def is_literal(self) -> bool:
        return self.literal_family is not None

    def families(self) -> tuple[Family, ...]:
        """The families this target can have addresses in."""
        return (self.literal_family,) if self.literal_family else FAMILIES

    def endpoint_text(self) -> str:
        """host:port, with brackets around IPv6 literals."""
        return format_endpoint(self.host, self.port)

    def to_json(self) -> dict[str, Any]:
        family = self.literal_family.value if self.literal_family else None
        doc: dict[str, Any] = {
            "target": self.text,
            "host": self.host,
            "port": self.port,
            "literal": self.is_literal,
            "literalFamily": family,
            **({"warning": self.warning} if self.warning else {}),
        }
        if self.cluster is not None:
            doc["cluster"] = self.cluster
        return doc

    @classmethod
    def from_json(cls, doc: Any, where: str = "") -> Target:
        host = _field(doc, "host", str, where)
        family = (
            Family(doc["literalFamily"]) if doc.get("literalFamily") in ("IPv4", "IPv6") else None
        )
        if family is None and _field(doc, "literal", bool, where):
            parsed = parse_ip(host)  # a report of 0.1 has no literalFamily
            family = parsed[0] if parsed else None
        return cls(
            _field(doc, "target", str, where),
            host,
            _field(doc, "port", int, where),
            family,
            _optional(doc, "cluster", str, where),
            str(doc.get("warning") or ""),
        )


@dataclass(frozen=True)
class DnsLens:
    """What a direct DNS query (dnspython) said about one record type of the name the
    system resolver settled on: the diagnostic view beside getaddrinfo's answer."""

    name: str  # the name queried (absolute, without the trailing dot)
    outcome: DnsOutcome
    addresses: tuple[str, ...] = ()
    server: str = ""  # the nameserver that answered, or the ones that failed
    elapsed_ms: float = 0.0
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "outcome": self.outcome.value,
            "addresses": list(self.addresses),
            "server": self.server,
            "ms": round(self.elapsed_ms, 1),
            "detail": self.detail,
        }

    @classmethod
    def from_json(cls, doc: Any, where: str = "") -> DnsLens:
        ms = _optional(doc, "ms", NUMBER, where)
        return cls(
            _field(doc, "name", str, where),
            _enum(DnsOutcome, doc, "outcome", where),
            tuple(str(a) for a in doc.get("addresses") or ()),
            str(doc.get("server") or ""),
            0.0 if ms is None else float(ms),
            str(doc.get("detail") or ""),
        )


@dataclass(frozen=True)
class DnsAnswer:
    """The outcome of looking up one family of one target.

    `addresses` are what the system resolver (getaddrinfo) returned, in its order;
    `lens` is what DNS itself said for this record type (None for literals)."""

    target: str  # Target.text
    family: Family
    outcome: DnsOutcome
    addresses: tuple[str, ...] = ()
    detail: str = ""  # e.g. the name that answered, or the error text
    elapsed_ms: float = 0.0
    canonical_name: str = ""  # the name getaddrinfo settled on (AI_CANONNAME)
    rank: int | None = None  # position of this family's first address in getaddrinfo's list
    ignored: tuple[str, ...] = ()  # addresses returned but not probed (e.g. IPv4-mapped)
    lens: DnsLens | None = None
    nat64_prefix: str = ""  # set when the IPv6 addresses are DNS64-synthesized under it
    # IPv4 addresses known only from IPv4-mapped AAAA records (a JVM asking for A alone,
    # -Djava.net.preferIPv4Stack=true, never sees them)
    from_mapped: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "target": self.target,
            "family": self.family.value,
            "outcome": self.outcome.value,
            "addresses": list(self.addresses),
            "detail": self.detail,
        }
        if self.outcome is not DnsOutcome.LITERAL:
            doc["ms"] = round(self.elapsed_ms, 1)
            doc["canonicalName"] = self.canonical_name
            doc["rank"] = self.rank
            doc["ignored"] = list(self.ignored)
            doc["lens"] = None if self.lens is None else self.lens.to_json()
            doc["nat64Prefix"] = self.nat64_prefix
            if self.from_mapped:
                doc["fromMappedAaaa"] = list(self.from_mapped)
        return doc

    @classmethod
    def from_json(cls, doc: Any, where: str = "") -> DnsAnswer:
        addresses = _field(doc, "addresses", list, where)
        if not all(isinstance(a, str) for a in addresses):
            raise ReportFormatError(f"{where}.addresses holds a non-string")
        return cls(
            _field(doc, "target", str, where),
            _enum(Family, doc, "family", where),
            _enum(DnsOutcome, doc, "outcome", where),
            tuple(addresses),
            str(doc.get("detail") or ""),
            float(doc.get("ms") or 0.0) if isinstance(doc.get("ms"), NUMBER) else 0.0,
            str(doc.get("canonicalName") or ""),
            doc.get("rank") if isinstance(doc.get("rank"), int) else None,
            tuple(str(a) for a in doc.get("ignored") or ()),
            None if doc.get("lens") is None else DnsLens.from_json(doc["lens"], f"{where}.lens"),
            str(doc.get("nat64Prefix") or ""),
            tuple(str(a) for a in doc.get("fromMappedAaaa") or ()),
        )


@dataclass(frozen=True)
class Endpoint:
    """One (address, port) to probe, with the target it came from."""

    target: str
    address: str
    family: Family
    port: int


@dataclass(frozen=True)
class IcmpError:
    """The ICMP/ICMPv6 error that answered a probe, and who sent it."""

    type: int
    code: int
    sender: str

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "code": self.code, "sender": self.sender}

    @classmethod
    def from_json(cls, doc: Any, where: str = "") -> IcmpError:
        return cls(
            _field(doc, "type", int, where),
            _field(doc, "code", int, where),
            _field(doc, "sender", str, where),
        )

    def is_admin_prohibited(self, family: Family) -> bool:
        """A rule rejected the packet on purpose: ICMP 3/9, 3/10, 3/13 or ICMPv6 1/1."""
        if family is Family.IPV4:
            return self.type == 3 and self.code in (9, 10, 13)
        return self.type == 1 and self.code == 1


@dataclass(frozen=True)
class ProbeResult:
    """One row of the report: a target in a family, at an address (or without one)."""

    target: str
    family: Family
    port: int
    state: ProbeState
    reason: str
    method: Method
    address: str | None = None
    rtt_ms: float | None = None
    icmp: IcmpError | None = None
    # raw mode: the SYN-ACK's MSS option, of whatever answered (the peer, or a load
    # balancer or proxy on the way, which may clamp it)
    mss: int | None = None

    def state_and_reason(self) -> str:
        """'filtered (no-response)'; a reason that already starts with the state
        ('no-route (ENETUNREACH)') is said once."""
        if self.reason.startswith(self.state.value):
            return self.reason
        return f"{self.state} ({self.reason})"

    def to_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "target": self.target,
            "address": self.address,
            "family": self.family.value,
            "port": self.port,
            "state": self.state.value,
            "reason": self.reason,
            "method": self.method.value,
            "rttMs": None if self.rtt_ms is None else round(self.rtt_ms, 3),
        }
        if self.icmp is not None:
            row["icmp"] = self.icmp.to_json()
        if self.mss is not None:
            row["synAckMss"] = self.mss
        return row

    @classmethod
    def from_json(cls, doc: Any, where: str = "") -> ProbeResult:
        rtt = _optional(doc, "rttMs", NUMBER, where)
        icmp = doc.get("icmp")
        family = _enum(Family, doc, "family", where)
        address = _optional(doc, "address", str, where)
        if address is not None:  # a hand-edited row must still say one thing
            parsed = parse_ip(address)
            if parsed is None:
                raise ReportFormatError(f"{where}.address {address[:60]!r} is not an IP address")
            if parsed[0] is not family:
                raise ReportFormatError(f"{where}.address {address} is not an {family} address")
        return cls(
            _field(doc, "target", str, where),
            family,
            _field(doc, "port", int, where),
            _enum(ProbeState, doc, "state", where),
            _field(doc, "reason", str, where),
            _enum(Method, doc, "method", where),
            address,
            None if rtt is None else float(rtt),
            None if icmp is None else IcmpError.from_json(icmp, f"{where}.icmp"),
            _optional(doc, "synAckMss", int, where),
        )


@dataclass(frozen=True)
class Finding:
    """Something a check concluded, with its evidence and what to do about it."""

    id: str
    severity: Severity
    message: str
    remedy: str = ""
    title: str = ""
    subjects: tuple[str, ...] = ()  # the targets, addresses:ports or objects it is about

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "severity": self.severity.value,
            "title": self.title,
            "message": self.message,
            "remedy": self.remedy,
            "subjects": list(self.subjects),
        }

    @classmethod
    def from_json(cls, doc: Any, where: str = "") -> Finding:
        subjects = _field(doc, "subjects", list, where)
        return cls(
            _field(doc, "id", str, where),
            _enum(Severity, doc, "severity", where),
            _field(doc, "message", str, where),
            str(doc.get("remedy") or ""),
            str(doc.get("title") or ""),
            tuple(str(x) for x in subjects),
        )


@dataclass(frozen=True)
class PassedCheck:
    """A check that ran and found nothing."""

    id: str
    title: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "title": self.title}

    @classmethod
    def from_json(cls, doc: Any, where: str = "") -> PassedCheck:
        return cls(_field(doc, "id", str, where), str(doc.get("title") or ""))


@dataclass(frozen=True)
class SkippedCheck:
    """A check that did not run, and the unmet requirement that says why."""

    id: str
    title: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "title": self.title, "reason": self.reason}

    @classmethod
    def from_json(cls, doc: Any, where: str = "") -> SkippedCheck:
        return cls(
            _field(doc, "id", str, where),
            str(doc.get("title") or ""),
            _field(doc, "reason", str, where),
        )


@dataclass(frozen=True)
class Recommendation:
    ip_families: tuple[Family, ...]
    helm_key: str
    helm_values: dict[str, Any]
    rationale: tuple[str, ...] = ()
    connection_source: dict[str, str] | None = None

    def helm_set(self) -> str:
        """The values as `helm --set` arguments: --set 'cluster.serviceSpec.dr.ipFamilies={IPv6}'
        (Helm's list syntax; quoted for a POSIX shell). Empty when nothing is recommended."""
        sets: list[str] = []

        def walk(prefix: str, value: Any) -> None:
            if isinstance(value, dict):
                for key, inner in value.items():
                    walk(f"{prefix}.{key}" if prefix else str(key), inner)
            elif isinstance(value, list):
                sets.append(f"--set '{prefix}={{{','.join(str(v) for v in value)}}}'")

        walk("", self.helm_values)
        return " ".join(sets)

    def to_json(self) -> dict[str, Any]:
        return {
            "ipFamilies": [f.value for f in self.ip_families],
            "helmKey": self.helm_key,
            "helmValues": self.helm_values,
            "helmSet": self.helm_set(),
            "rationale": list(self.rationale),
            "connectionSource": self.connection_source,
        }

    @classmethod
    def from_json(cls, doc: Any, where: str = "") -> Recommendation:
        families = []
        for path, item in _items(doc, "ipFamilies", where + "."):
            try:
                families.append(Family(item))
            except ValueError:
                raise ReportFormatError(f"{path}: not IPv4 or IPv6") from None
        source = _optional(doc, "connectionSource", dict, where)
        return cls(
            tuple(families),
            _field(doc, "helmKey", str, where),
            _field(doc, "helmValues", dict, where),
            tuple(str(x) for x in _field(doc, "rationale", list, where)),
            None if source is None else {str(k): str(v) for k, v in source.items()},
        )


# --- the data path: what followed the handshake of an open endpoint (probe/datapath) ---
# `from_json` of these raises ValueError, KeyError or TypeError on a malformed document;
# Report.from_json turns that into ReportFormatError.


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


class Nat(str, enum.Enum):
    """The client address the responder saw, compared with our source address."""

    NONE = "none"  # the responder saw our own source address
    SNAT = "snat"  # same family, another address (pod egress SNAT, masquerade)
    NAT64 = "nat64"  # we sent IPv6, the responder saw IPv4
    NAT46 = "nat46"  # we sent IPv4, the responder saw IPv6

    def __str__(self) -> str:
        return self.value


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
        if seen.lower().startswith("::ffff:") and "." in seen:  # an IPv4 client, mapped
            seen = seen[len("::ffff:") :]
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

        When no rung passed but one stalled, the greeting (a small segment) came through
        and full segments of even the smallest size did not: that stalls too, from the
        smallest size on ("replication connects, then stalls").
        """
        largest = self.largest_passed or 0
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


@dataclass(frozen=True)
class Vantage:
    """Where the probes were sent from, when not from where voltprobe itself ran: e.g.
    `kind` "volt-pod", an ephemeral `container` in Volt pod `namespace`/`pod`
    (`voltprobe job run --from-volt-pod`). JSON: `vantage` (absent when not set)."""

    kind: str
    pod: str
    namespace: str
    container: str = ""

    def to_json(self) -> dict[str, str]:
        doc = {"kind": self.kind, "pod": self.pod, "namespace": self.namespace}
        if self.container:
            doc["container"] = self.container
        return doc

    @classmethod
    def from_json(cls, doc: Any, where: str = "vantage") -> Vantage:
        return cls(
            _field(doc, "kind", str, where),
            _field(doc, "pod", str, where),
            _field(doc, "namespace", str, where),
            str(_optional(doc, "container", str, where) or ""),
        )


@dataclass(frozen=True)
class ClusterLabel:
    """Who probed whom: the cluster this run probed from and the peer cluster it probed
    (`check --cluster/--peer-cluster`, defaults from the kube context), so that reports
    made in different clusters can be paired by `voltprobe report`. None: not known."""

    name: str | None = None
    peer: str | None = None
    context: str | None = None  # the kubeconfig context the run used, if any

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "peer": self.peer, "context": self.context}

    @classmethod
    def from_json(cls, doc: Any, where: str = "cluster") -> ClusterLabel:
        if doc is None:  # a report of 0.1 has no cluster section
            return cls()
        names = [_optional(_object(doc, where), k, str, where) for k in ("name", "peer", "context")]
        for key, name in zip(("name", "peer", "context"), names, strict=True):
            # names land in headings, table lines and log lines: one visible line only
            if name is not None and not name.isprintable():
                raise ReportFormatError(f"{where}.{key} must be printable text on one line")
        return cls(*names)


def _object(doc: Any, where: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise ReportFormatError(f"{where} is not an object")
    return doc


@dataclass(frozen=True)
class Report:
    """Everything voltprobe learned in one run; the renderers only format it."""

    targets: tuple[Target, ...]
    dns: tuple[DnsAnswer, ...]
    probes: tuple[ProbeResult, ...]
    findings: tuple[Finding, ...]
    recommendation: Recommendation
    local: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    skipped_checks: tuple[SkippedCheck, ...] = ()
    passed_checks: tuple[PassedCheck, ...] = ()
    version: str = ""
    error: str | None = None  # set when the run stopped early: the report is partial
    error_exit_code: int = CANNOT_RUN  # the stopping error's exit code (130 for Ctrl-C)
    vantage: Vantage | None = None  # set by `job run --from-volt-pod`; None: where it ran
    cluster: ClusterLabel = ClusterLabel()
    data_path: tuple[DataPath, ...] = ()  # what open endpoints did after the handshake

    def after_handshake(self) -> dict[tuple[str, int], str]:
        """(address, port) -> what followed its handshake ('greeting', 'silent', ...)."""
        return {(d.address, d.port): d.after.value for d in self.data_path}

    def _probes_json(self) -> list[dict[str, Any]]:
        after = self.after_handshake()
        rows = []
        for row in self.probes:
            data = row.to_json()
            found = after.get((row.address or "", row.port))
            if found is not None:
                data["afterHandshake"] = found
            rows.append(data)
        return rows

    @property
    def exit_code(self) -> int:
        """The one rule for a report's exit code: 0 when a family qualifies, 1 when none
        does; the stopping error's code (2 bad input, 3 could not run, 130 Ctrl-C) if the
        run stopped."""
        if self.error is not None:
            return self.error_exit_code
        return 0 if self.recommendation.ip_families else 1

    @property
    def complete(self) -> bool:
        """False when the run stopped early (`error` says why, the verdict is INCOMPLETE):
        the report holds what was learned before, and recommends nothing."""
        return self.error is None

    @property
    def verdict(self) -> str:
        if self.error is not None:
            return f"INCOMPLETE: {self.error}"
        rec = self.recommendation
        if rec.ip_families:
            families = ",".join(f.value for f in rec.ip_families)
            if not rec.helm_values:  # e.g. a chart generation without an ipFamilies key
                return f"PASS: XDCR can use {families} (no Helm values: see the rationale)"
            return f"PASS: XDCR can use {families}; set {rec.helm_key}: [{families}]"
        # the rationale ends with the conclusion; the sentences before it say why
        why = " ".join(rec.rationale[:-1]) or "no family works."
        return f"FAIL: no IP family reaches every peer DR endpoint. {why}"

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "version": self.version,
            "verdict": self.verdict,
            "exitCode": self.exit_code,
            "complete": self.complete,
            "error": self.error,
            "options": self.options,
            "targets": [t.to_json() for t in self.targets],
            "dns": [a.to_json() for a in self.dns],
            "probes": self._probes_json(),
            "dataPath": [d.to_json() for d in self.data_path],
            "local": self.local,
            "findings": [f.to_json() for f in self.findings],
            "skippedChecks": [s.to_json() for s in self.skipped_checks],
            "passedChecks": [p.to_json() for p in self.passed_checks],
            "recommendation": self.recommendation.to_json(),
            "timings": {k: round(v, 1) for k, v in self.timings.items()},
            # optional, so reports without a vantage point read the same as before
            **({"vantage": self.vantage.to_json()} if self.vantage is not None else {}),
            "cluster": self.cluster.to_json(),
        }

    @classmethod
    def from_json(cls, doc: Any) -> Report:
        """A report read back from its JSON form (a file, a Job's log).

        Raises ReportFormatError naming the first field that is missing or malformed, or
        the schema when it is not voltprobe/v1. Timings are kept as written (rounded).
        """
        if not isinstance(doc, dict):
            raise ReportFormatError("not a JSON object")
        if doc.get("schema") != SCHEMA:
            raise ReportFormatError(f"schema is {str(doc.get('schema'))[:40]!r}, not {SCHEMA!r}")
        error = _optional(doc, "error", str, "")
        exit_code = _field(doc, "exitCode", int, "")
        expected = (0, 1) if error is None else STOPPED_EXIT_CODES
        if exit_code not in expected:
            raise ReportFormatError(f"exitCode {exit_code} does not fit error {error!r}")
        complete = _optional(doc, "complete", bool, "")  # optional: older reports lack it
        if complete is not None and complete != (error is None):
            raise ReportFormatError("complete disagrees with error")
        timings = _field(doc, "timings", dict, "")
        if not all(isinstance(v, NUMBER) for v in timings.values()):
            raise ReportFormatError("timings holds a non-number")
        return cls(
            targets=tuple(Target.from_json(d, p) for p, d in _items(doc, "targets", "")),
            dns=tuple(DnsAnswer.from_json(d, p) for p, d in _items(doc, "dns", "")),
            probes=tuple(ProbeResult.from_json(d, p) for p, d in _items(doc, "probes", "")),
            findings=tuple(Finding.from_json(d, p) for p, d in _items(doc, "findings", "")),
            recommendation=Recommendation.from_json(
                _field(doc, "recommendation", dict, ""), "recommendation"
            ),
            local=_field(doc, "local", dict, ""),
            options=_field(doc, "options", dict, ""),
            timings={str(k): float(v) for k, v in timings.items()},
            skipped_checks=tuple(
                SkippedCheck.from_json(d, p) for p, d in _items(doc, "skippedChecks", "")
            ),
            passed_checks=tuple(  # optional: reports of 0.1 have no passedChecks
                PassedCheck.from_json(d, p)
                for p, d in (_items(doc, "passedChecks", "") if "passedChecks" in doc else [])
            ),
            version=str(doc.get("version") or ""),
            error=error,
            error_exit_code=exit_code if error is not None else CANNOT_RUN,
            vantage=None
            if doc.get("vantage") is None
            else Vantage.from_json(doc["vantage"], "vantage"),
            cluster=ClusterLabel.from_json(doc.get("cluster")),
            data_path=_data_path_from_json(doc),
        )


def _data_path_from_json(doc: dict[str, Any]) -> tuple[DataPath, ...]:
    """The optional `dataPath` section (reports before the data path have none)."""
    if "dataPath" not in doc:
        return ()
    found = []
    for where, item in _items(doc, "dataPath", ""):
        try:
            found.append(DataPath.from_json(item))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ReportFormatError(f"{where}: {exc}") from None
    return tuple(found)
