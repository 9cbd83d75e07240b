"""`voltprobe report --diff OLD NEW`: what changed between two runs of the same cluster
(probe states, findings, the recommendation), for tickets that compare before and after.

    diff(old, new, old_name, new_name) -> ReportDiff   raises UsageError for two clusters
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from probe.errors import UsageError
from probe.model import SCHEMA, Finding, ProbeResult, Report, format_endpoint


@dataclass(frozen=True)
class Change:
    """One difference: `kind` is probe, finding or recommendation; `old`/`new` are ''
    when the item is absent on that side."""

    kind: str
    key: str
    old: str
    new: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "key": self.key, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class ReportDiff:
    old_name: str
    new_name: str
    cluster: str | None
    old_verdict: str
    new_verdict: str
    changes: tuple[Change, ...]
    exit_code: int  # the new report's own

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "kind": "diff",
            "old": self.old_name,
            "new": self.new_name,
            "cluster": self.cluster,
            "oldVerdict": self.old_verdict,
            "newVerdict": self.new_verdict,
            "exitCode": self.exit_code,
            "changes": [c.to_json() for c in self.changes],
        }


def diff(old: Report, new: Report, old_name: str = "OLD", new_name: str = "NEW") -> ReportDiff:
    """The changes from `old` to `new`, probes first, then findings, then the
    recommendation. Raises UsageError when the reports name two different clusters."""
    a, b = old.cluster.name, new.cluster.name
    if a and b and a != b:
        raise UsageError(
            f"{old_name} is cluster {a}, {new_name} is cluster {b}: --diff compares two runs "
            "of the same cluster (to compare clusters, merge them: voltprobe report A B)"
        )
    changes = _compare("probe", _probes(old), _probes(new))
    changes += _compare("finding", _findings(old), _findings(new))
    changes += _compare("recommendation", _recommendation(old), _recommendation(new))
    return ReportDiff(
        old_name, new_name, a or b, old.verdict, new.verdict, tuple(changes), new.exit_code
    )


def _compare(kind: str, old: dict[str, str], new: dict[str, str]) -> list[Change]:
    keys = list(old) + [k for k in new if k not in old]
    return [
        Change(kind, key, old.get(key, ""), new.get(key, ""))
        for key in keys
        if old.get(key, "") != new.get(key, "")
    ]


def _probes(report: Report) -> dict[str, str]:
    return {_probe_key(p): p.state_and_reason() for p in report.probes}


def _probe_key(row: ProbeResult) -> str:
    where = format_endpoint(row.address, row.port) if row.address else f"(port {row.port})"
    return f"{row.target} {row.family} {where}"


def _findings(report: Report) -> dict[str, str]:
    return {_finding_key(f): f"{f.severity}: {f.message}" for f in report.findings}


def _finding_key(finding: Finding) -> str:
    return f"{finding.id} {', '.join(finding.subjects)}".strip()


def _recommendation(report: Report) -> dict[str, str]:
    rec = report.recommendation
    source = rec.connection_source["value"] if rec.connection_source else ""
    return {
        "ipFamilies": ",".join(f.value for f in rec.ip_families) or "none",
        "helmKey": rec.helm_key,
        "connectionSource": source,
        "verdict": report.verdict.split(":")[0],
    }
