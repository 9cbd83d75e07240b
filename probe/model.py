"""The vocabulary of voltprobe: families, targets, DNS answers, probe results,
findings, the recommendation and the report, plus their JSON form.

Every stage of the pipeline (targets -> resolve -> inventory -> probe -> checks ->
recommend -> render) takes and returns these plain, frozen values.
"""

from __future__ import annotations

import enum
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from probe.datapath.types import DataPath

SCHEMA = "voltprobe/v1"
DEFAULT_DR_PORT = 5555
# `check --log-json` prints the JSON report between these lines (read back by `voltprobe job`)
REPORT_BEGIN = "----- BEGIN VOLTPROBE REPORT -----"
REPORT_END = "----- END VOLTPROBE REPORT -----"


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
            return family, socket.inet_ntop(af, socket.inet_pton(af, text))
        except (OSError, ValueError):  # ValueError: an embedded NUL
            continue
    return None


FAMILIES: tuple[Family, ...] = (Family.IPV4, Family.IPV6)


class ProbeState(str, enum.Enum):
    """What one probe of (address, port) found. Outcomes are values, not exceptions."""

    OPEN = "open"  # handshake completed / SYN-ACK
    CLOSED = "closed"  # RST / ECONNREFUSED: reachable, nothing listening
    FILTERED = "filtered"  # no answer in time
    UNREACHABLE = "unreachable"  # an ICMP error came back
    NO_ROUTE = "no-route"  # this host has no route or address in that family
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
    TIMEOUT = "timeout"
    ERROR = "error"
    LITERAL = "literal"  # an IP literal: DNS was not asked

    def __str__(self) -> str:
        return self.value


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

    @property
    def is_literal(self) -> bool:
        return self.literal_family is not None

    def families(self) -> tuple[Family, ...]:
        """The families this target can have addresses in."""
        return (self.literal_family,) if self.literal_family else FAMILIES

    def endpoint_text(self) -> str:
        """host:port, with brackets around IPv6 literals."""
        return format_endpoint(self.host, self.port)


@dataclass(frozen=True)
class DnsAnswer:
    """The outcome of looking up one family of one target."""

    target: str  # Target.text
    family: Family
    outcome: DnsOutcome
    addresses: tuple[str, ...] = ()
    detail: str = ""  # e.g. the name that answered, or the error text
    elapsed_ms: float = 0.0


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
        return row


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


@dataclass(frozen=True)
class Recommendation:
    ip_families: tuple[Family, ...]
    helm_key: str
    helm_values: dict[str, Any]
    rationale: tuple[str, ...] = ()
    connection_source: dict[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ipFamilies": [f.value for f in self.ip_families],
            "helmKey": self.helm_key,
            "helmValues": self.helm_values,
            "rationale": list(self.rationale),
            "connectionSource": self.connection_source,
        }


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
    skipped_checks: tuple[dict[str, str], ...] = ()
    version: str = ""
    error: str | None = None  # set when the run stopped early: the report is partial
    error_exit_code: int = 3  # the stopping error's exit code (130 for Ctrl-C)
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
        """0 when a family qualifies, 1 when none does; the error's code if the run stopped."""
        if self.error is not None:
            return self.error_exit_code
        return 0 if self.recommendation.ip_families else 1

    @property
    def verdict(self) -> str:
        if self.error is not None:
            return f"INCOMPLETE: {self.error}"
        rec = self.recommendation
        if rec.ip_families:
            families = ",".join(f.value for f in rec.ip_families)
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
            "error": self.error,
            "options": self.options,
            "targets": [
                {
                    "target": t.text,
                    "host": t.host,
                    "port": t.port,
                    "literal": t.is_literal,
                }
                for t in self.targets
            ],
            "dns": [
                {
                    "target": a.target,
                    "family": a.family.value,
                    "outcome": a.outcome.value,
                    "addresses": list(a.addresses),
                    "detail": a.detail,
                }
                for a in self.dns
            ],
            "probes": self._probes_json(),
            "dataPath": [d.to_json() for d in self.data_path],
            "local": self.local,
            "findings": [f.to_json() for f in self.findings],
            "skippedChecks": list(self.skipped_checks),
            "recommendation": self.recommendation.to_json(),
            "timings": {k: round(v, 1) for k, v in self.timings.items()},
        }
