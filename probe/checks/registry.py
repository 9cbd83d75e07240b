"""The checks framework: specs registered by decorator, requirements, the runner.

A check is a pure function `(Facts, Choice) -> Iterable[Hit]`: the evidence, and the
family the choice stage settled on (checks never recompute it). It is registered with a
stable id (VP1xx local cluster, VP2xx DNS, VP3xx reachability, VP4xx Services
and load balancers, VP5xx recommendation caveats), a severity, a title, the
facts it requires, a long explanation and a remedy. A check whose required
facts are missing is skipped with a reason, never failed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from probe.choice import Choice
from probe.facts import Facts
from probe.model import Finding, PassedCheck, Severity, SkippedCheck

_ID = re.compile(r"VP[1-5]\d\d")


@dataclass(frozen=True)
class Hit:
    """One thing a check found; the runner turns it into a Finding."""

    message: str
    subjects: tuple[str, ...] = ()
    severity: Severity | None = None  # overrides the spec's default
    remedy: str | None = None  # overrides the spec's remedy


CheckFunc = Callable[[Facts, Choice], Iterable[Hit]]
Requirement = Callable[[Facts, Choice], tuple[bool, str]]


def _needs_cluster(facts: Facts, choice: Choice) -> tuple[bool, str]:
    inv = facts.inventory
    if inv.available:
        return True, ""
    return False, f"no Kubernetes facts ({inv.reason})"


def _needs_dr_services(facts: Facts, choice: Choice) -> tuple[bool, str]:
    ok, reason = _needs_cluster(facts, choice)
    if not ok:
        return ok, reason
    if not facts.inventory.dr_services:
        return False, "no local DR Service found"
    return True, ""


def _needs_endpoint_slices(facts: Facts, choice: Choice) -> tuple[bool, str]:
    ok, reason = _needs_dr_services(facts, choice)
    if not ok:
        return ok, reason
    if facts.inventory.slices_unread:
        return False, f"the EndpointSlices were not read: {facts.inventory.slices_unread}"
    return True, ""


def _needs_named_targets(facts: Facts, choice: Choice) -> tuple[bool, str]:
    if any(not t.is_literal for t in facts.targets):
        return True, ""
    return False, "every peer is an IP literal: no DNS was asked"


def _needs_probes(facts: Facts, choice: Choice) -> tuple[bool, str]:
    if any(p.address is not None for p in facts.probes):
        return True, ""
    return False, "nothing was probed"


def _needs_data_path(facts: Facts, choice: Choice) -> tuple[bool, str]:
    if facts.data_path:
        return True, ""
    if not facts.options.data_path.enabled:
        return False, "--data-path off"
    return False, "no endpoint was open: no data path to read"


def _needs_recommendation(facts: Facts, choice: Choice) -> tuple[bool, str]:
    if choice.family is None:
        return False, "no family is recommended"
    return True, ""


def _needs_policies(facts: Facts, choice: Choice) -> tuple[bool, str]:
    ok, reason = _needs_cluster(facts, choice)
    if not ok:
        return ok, reason
    policies = facts.inventory.policies
    if policies is None:
        return False, "the NetworkPolicies were not read"
    if policies.problem is not None:
        return False, f"the NetworkPolicies could not be read ({policies.problem.reason})"
    if not facts.inventory.volt_pods:
        return False, "no Volt pods found: nothing for a policy to select"
    return True, ""


REQUIREMENTS: dict[str, Requirement] = {
    "policies": _needs_policies,
    "cluster": _needs_cluster,
    "data-path": _needs_data_path,
    "dr-services": _needs_dr_services,
    "endpoint-slices": _needs_endpoint_slices,
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
class CheckResults:
    findings: tuple[Finding, ...]
    skipped: tuple[SkippedCheck, ...]
    passed: tuple[PassedCheck, ...]


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

    def run(self, facts: Facts, choice: Choice) -> CheckResults:
        """Every check over the same facts and choice: findings, skipped and passed checks."""
        findings: list[Finding] = []
        skipped: list[SkippedCheck] = []
        passed: list[PassedCheck] = []
        for spec in self.specs():
            reason = unmet_requirement(spec, facts, choice)
            if reason:
                skipped.append(SkippedCheck(spec.id, spec.title, reason))
                continue
            found = [spec.finding(hit) for hit in spec.func(facts, choice)]
            if not found:
                passed.append(PassedCheck(spec.id, spec.title))
            findings.extend(found)
        return CheckResults(tuple(findings), tuple(skipped), tuple(passed))


def unmet_requirement(spec: CheckSpec, facts: Facts, choice: Choice) -> str:
    """The first unmet requirement's reason, or '' when the check can run."""
    for name in spec.requires:
        ok, reason = REQUIREMENTS[name](facts, choice)
        if not ok:
            return reason
    return ""


DEFAULT_REGISTRY = Registry()
check = DEFAULT_REGISTRY.check
