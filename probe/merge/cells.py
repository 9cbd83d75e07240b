"""One direction in one family: how many of the destination's DR endpoints the source's
report found open, and the first stage that failed. Pure functions of a `Report`.

    measure(report, targets, family, expected) -> Cell

A cell is `ok` (every endpoint open), `fail` (the first failing stage: DNS, then TCP,
then advertised endpoints the report did not probe), `none` (the destination offers
nothing in that family) or `unknown` (no report measured the direction, or it stopped).
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from probe.merge.advertised import Advertised
from probe.model import Family, ProbeResult, ProbeState, Report, Severity, format_endpoint


class CellStatus(str, enum.Enum):
    OK = "ok"
    FAIL = "fail"
    NONE = "none"  # nothing offered in this family
    UNKNOWN = "unknown"  # not measured

    def __str__(self) -> str:
        return self.value


class Stage(str, enum.Enum):
    """The first stage that failed, in the order a connection goes through them."""

    DNS = "dns"
    TCP = "tcp"
    NOT_PROBED = "not-probed"  # the destination advertises endpoints the report did not probe

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Cell:
    family: Family
    status: CellStatus
    open: int = 0
    total: int = 0
    stage: Stage | None = None
    detail: str = ""  # what was seen, one sentence
    cause: str = ""  # the likely cause of a failure
    findings: tuple[str, ...] = ()  # ids of the source report's findings about it
    # how many of `total` are the voltprobe responder's stand-in endpoints (job run
    # --responder), not the DR Service's
    responder: int = 0

    @property
    def ok(self) -> bool:
        return self.status is CellStatus.OK

    def summary(self) -> str:
        """`ok 3/3`, `fail tcp 1/3`, `none`, `unknown`: for the matrix; `ok 1/1 responder`
        when every endpoint was the responder's, `ok 3/3 (1 responder)` when some were."""
        if self.status is CellStatus.OK:
            return f"ok {self.open}/{self.total}{self._responder_text()}"
        if self.status is CellStatus.FAIL:
            return f"FAIL {self.stage} {self.open}/{self.total}{self._responder_text()}"
        return str(self.status)

    def _responder_text(self) -> str:
        if not self.responder:
            return ""
        return " responder" if self.responder == self.total else f" ({self.responder} responder)"

    def to_json(self) -> dict[str, Any]:
        return {
            "family": self.family.value,
            "status": self.status.value,
            "open": self.open,
            "total": self.total,
            "stage": self.stage.value if self.stage else None,
            "detail": self.detail,
            "cause": self.cause,
            "findings": list(self.findings),
            "responder": self.responder,
        }


# What a cell's `responder` endpoints are, for the notes under a matrix.
RESPONDER_NOTE = (
    "endpoints of the voltprobe responder (job run --responder: voltprobe serve behind a "
    "stand-in dual-stack Service, deleted after the run), not of the DR Service: what the "
    "network carries to the cluster in each family before the DR Service is changed"
)


def unknown(family: Family, why: str) -> Cell:
    return Cell(family, CellStatus.UNKNOWN, detail=why)


TargetKey = tuple[str, int]  # (Target.text, port): which peer cluster a row probed


def measure(
    report: Report,
    targets: Sequence[TargetKey],
    family: Family,
    expected: Sequence[Advertised] | None,
    source: str = "the source",
) -> Cell:
    """The cell for the report's rows of `targets` ((Target.text, port)) in `family`.

    `expected`: the destination's advertised endpoints (all families), or None when its
    inventory is not known; an advertised endpoint the report did not probe fails the cell
    (replication dials every advertised address, not only the discovery endpoint).
    The cell counts how many of its endpoints are the voltprobe responder's (`responder`)."""
    cell = _measure(report, targets, family, expected, source)
    stand_ins = [e for e in expected or () if e.responder]
    if not stand_ins or cell.status in (CellStatus.NONE, CellStatus.UNKNOWN):
        return cell
    keys = {e.key for e in stand_ins}
    hosts = {e.host for e in stand_ins}  # a hostname ingress: its rows carry the name
    names = set(targets)
    rows = [r for r in report.probes if (r.target, r.port) in names and r.family is family]
    probed = {(r.address, r.port) for r in rows if r.address is not None}
    theirs = {
        (r.address, r.port)
        for r in rows
        if r.address is not None and ((r.address, r.port) in keys or r.target in hosts)
    }
    missing = [e for e in stand_ins if e.family is family and e.key not in probed]
    count = len(theirs) + len(missing)
    return replace(cell, responder=count) if count else cell


def _measure(
    report: Report,
    targets: Sequence[TargetKey],
    family: Family,
    expected: Sequence[Advertised] | None,
    source: str,
) -> Cell:
    if report.error is not None:
        return unknown(family, f"the check stopped: {report.error}")
    names = set(targets)
    rows = [r for r in report.probes if (r.target, r.port) in names and r.family is family]
    probed = {(r.address, r.port): r for r in rows if r.address is not None}
    offered = [e for e in expected or () if e.family is family]
    missing = [e for e in offered if e.key not in probed]
    total = len(probed) + len(missing)
    opened = sum(1 for r in probed.values() if r.state is ProbeState.OPEN)
    dns_failed = [r for r in rows if r.address is None and r.state is ProbeState.DNS_ERROR]
    no_record = [r for r in rows if r.address is None and r.state is ProbeState.NO_ADDRESS]
    if total == 0 and not dns_failed:
        why = "no address in this family" if no_record else "nothing to probe in this family"
        if expected is not None:
            why = f"advertises no {family} DR endpoint"
        return Cell(family, CellStatus.NONE, detail=why)
    if dns_failed or no_record:
        failed = dns_failed or no_record
        names_text = ", ".join(sorted({r.target for r in failed}))
        cause = (
            f"DNS failed for {names_text} ({failed[0].reason})"
            if dns_failed
            else f"{names_text} has no {_record(family)} record while {family} endpoints exist"
        )
        return _fail(report, family, Stage.DNS, opened, total, failed, cause)
    closed = [r for r in probed.values() if r.state is not ProbeState.OPEN]
    if closed:
        reaches = any(r.state is ProbeState.OPEN and r.family is family for r in report.probes)
        cause = likely_cause(closed, source, reaches)
        return _fail(report, family, Stage.TCP, opened, total, closed, cause)
    if missing:
        shown = ", ".join(e.endpoint for e in missing[:4])
        more = f" and {len(missing) - 4} more" if len(missing) > 4 else ""
        return Cell(
            family,
            CellStatus.FAIL,
            opened,
            total,
            Stage.NOT_PROBED,
            f"{len(missing)} advertised {family} endpoint(s) not probed: {shown}{more}",
            "the check was given only some endpoints: run it with --peer-report "
            "(the destination's inventory) so it probes every advertised endpoint",
        )
    return Cell(family, CellStatus.OK, opened, total, detail=f"{opened} of {total} open")


def _record(family: Family) -> str:
    return "A" if family is Family.IPV4 else "AAAA"


def _fail(
    report: Report,
    family: Family,
    stage: Stage,
    opened: int,
    total: int,
    failed: Sequence[ProbeResult],
    cause: str,
) -> Cell:
    shown = ", ".join(_row_text(r) for r in failed[:4])
    more = f" and {len(failed) - 4} more" if len(failed) > 4 else ""
    return Cell(
        family,
        CellStatus.FAIL,
        opened,
        total,
        stage,
        f"{shown}{more}",
        cause,
        _findings_about(report, failed),
    )


def _row_text(row: ProbeResult) -> str:
    where = format_endpoint(row.address, row.port) if row.address else row.target
    return f"{where} {row.state_and_reason()}"


def likely_cause(
    rows: Sequence[ProbeResult], source: str = "the source", family_works: bool = False
) -> str:
    """The most likely cause of failed TCP probes, from their most common state.
    `family_works`: the source reached other addresses in this family (then a missing
    route is to these addresses, not the source's family)."""
    state = Counter(r.state for r in rows).most_common(1)[0][0]
    family = rows[0].family
    port = rows[0].port
    if state is ProbeState.FILTERED:
        return (
            f"no answer: a firewall, security group or NetworkPolicy drops {family} to port "
            f"{port} on the way (or the load balancer does not forward {family})"
        )
    if state is ProbeState.UNREACHABLE:
        senders = sorted({r.icmp.sender for r in rows if r.icmp})
        by = f" from {', '.join(senders)}" if senders else ""
        return f"an ICMP error{by}: a reject rule or a missing route on the way"
    if state is ProbeState.CLOSED:
        return (
            f"a reset: the address answers, but nothing listens on port {port} in {family} "
            "(the DR Service has no endpoints in that family, or DR is not armed)"
        )
    if state is ProbeState.NO_ROUTE and family_works:
        return (
            f"{source} has no route to these {family} addresses, though it reaches other "
            f"{family} addresses: a route is missing, the family itself works"
        )
    if state is ProbeState.NO_ROUTE:
        return f"{source} has no {family} route or address: its pods are not {family}-capable"
    return "an unexpected probe error (see the report's findings)"


def _findings_about(report: Report, rows: Sequence[ProbeResult]) -> tuple[str, ...]:
    """Ids of the report's error and warning findings whose subjects name these rows."""
    needles = {format_endpoint(r.address, r.port) for r in rows if r.address} | {
        r.target for r in rows if r.address is None
    }
    ids = [
        f.id
        for f in report.findings
        if f.severity is not Severity.INFO
        and any(needle in subject for subject in f.subjects for needle in needles)
    ]
    return tuple(dict.fromkeys(ids))
