"""The checks framework: specs registered by decorator, requirements, the runner.

A check is a pure function `Facts -> Iterable[Hit]`. It is registered with a
stable id (VP1xx local cluster, VP2xx DNS, VP3xx reachability, VP4xx Services
and load balancers, VP5xx recommendation caveats), a severity, a title, the
facts it requires, a long explanation and a remedy. A check whose required
facts are missing is skipped with a reason, never failed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from probe.facts import Facts
from probe.model import Finding, Severity

_ID = re.compile(r"VP[1-5]\d\d")


@dataclass(frozen=True)
class Hit:
    """One thing a check found; the runner turns it into a Finding."""

    message: str
    subjects: tuple[str, ...] = ()
    severity: Severity | None = None  # overrides the spec's default
    remedy: str | None = None  # overrides the spec's remedy


CheckFunc = Callable[[Facts], Iterable[Hit]]
Requirement = Callable[[Facts], tuple[bool, str]]


def _needs_cluster(facts: Facts) -> tuple[bool, str]:
    inv = facts.inventory
    if inv.available:
        return True, ""
    return False, f"no Kubernetes facts ({inv.reason})"


def _needs_dr_services(facts: Facts) -> tuple[bool, str]:
    ok, reason = _needs_cluster(facts)
    if not ok:
        return ok, reason
    if not facts.inventory.dr_services:
        return False, "no local DR Service found"
    return True, ""


def _needs_named_targets(facts: Facts) -> tuple[bool, str]:
    if any(not t.is_literal for t in facts.targets):
        return True, ""
    return False, "every peer is an IP literal: no DNS was asked"


def _needs_probes(facts: Facts) -> tuple[bool, str]:
    if any(p.address is not None for p in facts.probes):
        return True, ""
    return False, "nothing was probed"


def _needs_data_path(facts: Facts) -> tuple[bool, str]:
    if facts.data_path:
        return True, ""
    if not facts.options.data_path.enabled:
        return False, "--data-path off"
    return False, "no endpoint was open: no data path to read"


def _needs_recommendation(facts: Facts) -> tuple[bool, str]:
    if facts.recommended is None:
        return False, "no family is recommended"
    return True, ""


REQUIREMENTS: dict[str, Requirement] = {
    "cluster": _needs_cluster,
    "data-path": _needs_data_path,
    "dr-services": _needs_dr_services,
    "named-targets": _needs_named_targets,
    "probes": _needs_probes,
    "recommendation": _needs_recommendation,
}


@dataclass(frozen=True)
class CheckSpec:
    id: str
    title: str
    severity: Severity
    func: CheckFunc
    requires: tuple[str, ...] = ()
    explain: str = ""
    remedy: str = ""

    def finding(self, hit: Hit) -> Finding:
        return Finding(
            id=self.id,
            severity=hit.severity or self.severity,
            title=self.title,
            message=hit.message,
            remedy=self.remedy if hit.remedy is None else hit.remedy,
            subjects=hit.subjects,
        )


@dataclass(frozen=True)
class Skipped:
    id: str
    title: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "title": self.title, "reason": self.reason}


class Registry:
    """An ordered set of checks. Tests build their own; the default one is filled on import."""

    def __init__(self) -> None:
        self._specs: dict[str, CheckSpec] = {}

    def check(
        self,
        id: str,
        title: str,
        severity: Severity,
        *,
        requires: tuple[str, ...] = (),
        explain: str = "",
        remedy: str = "",
    ) -> Callable[[CheckFunc], CheckFunc]:
        """Register a check; the arguments are validated at once (at import time)."""
        if not _ID.fullmatch(id):
            raise ValueError(f"check id {id!r} must look like VP1xx..VP5xx")
        unknown = [r for r in requires if r not in REQUIREMENTS]
        if unknown:
            raise ValueError(f"check {id} requires unknown facts {unknown}")

        def register(func: CheckFunc) -> CheckFunc:
            if id in self._specs:
                raise ValueError(f"check id {id} registered twice")
            doc = explain or (func.__doc__ or "").strip()
            self._specs[id] = CheckSpec(id, title, severity, func, requires, doc, remedy)
            return func

        return register

    def specs(self) -> list[CheckSpec]:
        return sorted(self._specs.values(), key=lambda s: s.id)

    def get(self, id: str) -> CheckSpec | None:
        return self._specs.get(id.upper())

    def run(self, facts: Facts) -> tuple[list[Finding], list[Skipped]]:
        findings: list[Finding] = []
        skipped: list[Skipped] = []
        for spec in self.specs():
            reason = unmet_requirement(spec, facts)
            if reason:
                skipped.append(Skipped(spec.id, spec.title, reason))
                continue
            findings.extend(spec.finding(hit) for hit in spec.func(facts))
        return findings, skipped


def unmet_requirement(spec: CheckSpec, facts: Facts) -> str:
    """The first unmet requirement's reason, or '' when the check can run."""
    for name in spec.requires:
        ok, reason = REQUIREMENTS[name](facts)
        if not ok:
            return reason
    return ""


DEFAULT_REGISTRY = Registry()
check = DEFAULT_REGISTRY.check
