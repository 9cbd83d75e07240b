"""The vocabulary of voltprobe: families, targets, DNS answers, probe results,
findings, the recommendation and the report, plus their JSON form.

Every stage of the pipeline (targets -> resolve -> inventory -> probe -> checks ->
recommend -> render) takes and returns these plain, frozen values.
"""

from __future__ import annotations

import enum
import socket
from dataclasses import dataclass, field
from typing import Any

NUMBER = (int, float)

SCHEMA = "voltprobe/v1"
DEFAULT_DR_PORT = 5555
# `check --log-json` prints the JSON report between these lines (read back by `voltprobe job`)
REPORT_BEGIN = "----- BEGIN VOLTPROBE REPORT -----"
REPORT_END = "----- END VOLTPROBE REPORT -----"


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


def _optional(document: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
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


def _items(document: Any, key: str, where: str) -> list[tuple[str, Any]]:
    """(path, item) for each item of the list document[key]."""
    return [
        (f"{where}{key}[{i}]", item) for i, item in enumerate(_field(document, key, list, where))
    ]


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

    def to_json(self) -> dict[str, Any]:
        family = self.literal_family.value if self.literal_family else None
        return {
            "target": self.text,
            "host": self.host,
            "port": self.port,
            "literal": self.is_literal,
            "literalFamily": family,
        }

    @classmethod
    def from_json(cls, doc: Any, where: str = "") -> Target:
        host = _field(doc, "host", str, where)
        family = (
            Family(doc["literalFamily"]) if doc.get("literalFamily") in ("IPv4", "IPv6") else None
        )
        if family is None and _field(doc, "literal", bool, where):
            parsed = parse_ip(host)  # a report of 0.1 has no literalFamily
            family = parsed[0] if parsed else None
        return cls(_field(doc, "target", str, where), host, _field(doc, "port", int, where), family)


@dataclass(frozen=True)
class DnsAnswer:
    """The outcome of looking up one family of one target."""

    target: str  # Target.text
    family: Family
    outcome: DnsOutcome
    addresses: tuple[str, ...] = ()
    detail: str = ""  # e.g. the name that answered, or the error text
    elapsed_ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "family": self.family.value,
            "outcome": self.outcome.value,
            "addresses": list(self.addresses),
            "detail": self.detail,
        }

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

    @classmethod
    def from_json(cls, doc: Any, where: str = "") -> ProbeResult:
        rtt = _optional(doc, "rttMs", NUMBER, where)
        icmp = doc.get("icmp")
        return cls(
            _field(doc, "target", str, where),
            _enum(Family, doc, "family", where),
            _field(doc, "port", int, where),
            _enum(ProbeState, doc, "state", where),
            _field(doc, "reason", str, where),
            _enum(Method, doc, "method", where),
            _optional(doc, "address", str, where),
            None if rtt is None else float(rtt),
            None if icmp is None else IcmpError.from_json(icmp, f"{where}.icmp"),
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

    def to_json(self) -> dict[str, Any]:
        return {
            "ipFamilies": [f.value for f in self.ip_families],
            "helmKey": self.helm_key,
            "helmValues": self.helm_values,
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
    version: str = ""
    error: str | None = None  # set when the run stopped early: the report is partial
    error_exit_code: int = 3  # the stopping error's exit code (130 for Ctrl-C)

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
            "probes": [p.to_json() for p in self.probes],
            "local": self.local,
            "findings": [f.to_json() for f in self.findings],
            "skippedChecks": [s.to_json() for s in self.skipped_checks],
            "recommendation": self.recommendation.to_json(),
            "timings": {k: round(v, 1) for k, v in self.timings.items()},
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
            version=str(doc.get("version") or ""),
            error=error,
            error_exit_code=exit_code if error is not None else 3,
        )
