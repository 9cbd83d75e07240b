"""`-o junit`: JUnit XML for CI gates, one test case per direction x family.

A family the destination needs and that does not work fails, with the finding; a family
it cannot serve (the merge's `ClusterResult.unservable`, whatever the network did), does
not need (another is recommended) or does not offer is skipped with the reason, so a
single-stack pipeline is not always red; a direction that was not measured is an error.
Renders a merged result or a single check report (one direction).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from probe.merge.cells import CellStatus
from probe.merge.matrix import Merged
from probe.model import FAMILIES, Family, ProbeState, Report, Severity, format_endpoint


@dataclass(frozen=True)
class Case:
    suite: str  # "a -> b"
    name: str  # "a -> b IPv6"
    outcome: str  # pass | failure | skipped | error
    message: str = ""
    kind: str = ""  # the finding id (failure type)
    text: str = ""  # details


def merged_cases(merged: Merged) -> list[Case]:
    cases = []
    for direction in merged.directions:
        suite = f"{direction.source} -> {direction.target}"
        target = merged.cluster(direction.target)
        for family in FAMILIES:
            cell = direction.cell(family)
            name = f"{suite} {family}"
            unservable = dict(target.unservable)
            if family not in target.allocatable:
                # the merge's own reason: whatever the network does, XDCR cannot use it
                why = unservable.get(family) or f"its Services or pods are not {family}"
                message = f"{target.name} cannot serve {family}: {why} ({cell.summary()})"
                cases.append(Case(suite, name, "skipped", message))
            elif cell.ok:
                cases.append(Case(suite, name, "pass", text=cell.detail))
            elif cell.status is CellStatus.UNKNOWN:
                cases.append(Case(suite, name, "error", f"not measured: {cell.detail}"))
            elif target.ip_families:
                chosen = target.ip_families[0]
                why = f"not needed: {target.name} is recommended {chosen}"
                cases.append(Case(suite, name, "skipped", f"{why} ({cell.summary()})"))
            elif cell.status is CellStatus.NONE:
                why = f"{target.name} {cell.detail}: nothing to test in {family}"
                cases.append(Case(suite, name, "skipped", why))
            else:
                message = f"{cell.summary()}: {cell.detail}"
                text = f"{message}\nlikely cause: {cell.cause}" if cell.cause else message
                kind = ",".join(cell.findings) or f"{cell.status}-{cell.stage or 'none'}"
                cases.append(Case(suite, name, "failure", message, kind, text))
    return cases


def report_cases(report: Report) -> list[Case]:
    """One direction: this cluster to its peer, one case per family."""
    source = report.cluster.name or "local"
    suite = f"{source} -> {report.cluster.peer or 'peer'}"
    chosen = report.recommendation.ip_families
    cases = []
    for family in FAMILIES:
        name = f"{suite} {family}"
        why = _family_sentence(report, family)
        if report.error is not None:
            cases.append(Case(suite, name, "error", f"the check stopped: {report.error}"))
        elif family in chosen:
            cases.append(Case(suite, name, "pass", text=why))
        elif chosen:
            cases.append(Case(suite, name, "skipped", f"not needed: {chosen[0]} is recommended"))
        elif _local_cannot_serve(report, family):
            cases.append(Case(suite, name, "skipped", f"the local cluster cannot serve {family}"))
        elif all(p.state is ProbeState.NO_ADDRESS for p in report.probes if p.family is family):
            why = f"the peer offers no {family} endpoint: nothing to test in {family}"
            cases.append(Case(suite, name, "skipped", why))
        else:
            errors = [f for f in report.findings if f.severity is Severity.ERROR]
            named = {
                format_endpoint(p.address, p.port)
                for p in report.probes
                if p.address and p.family is family
            }
            related = [
                f for f in errors if any(n in s for s in f.subjects for n in named)
            ] or errors
            text = "\n".join([why] + [f"{f.id}: {f.message} (fix: {f.remedy})" for f in related])
            kind = ",".join(dict.fromkeys(f.id for f in related)) or "no-family"
            cases.append(Case(suite, name, "failure", why, kind, text))
    return cases


def _family_sentence(report: Report, family: Family) -> str:
    for sentence in report.recommendation.rationale:
        if sentence.startswith(f"{family} "):
            return sentence
    return f"{family}: no rationale recorded"


def _local_cannot_serve(report: Report, family: Family) -> bool:
    capability = (report.local.get("families") or {}).get(family.value) or {}
    return "no" in (capability.get("services"), capability.get("pods"))


def render_junit(cases: Sequence[Case], name: str = "voltprobe") -> str:
    """The cases as JUnit XML (testsuites > testsuite per direction > testcase)."""
    root = ET.Element("testsuites", {"name": name, **_counts(cases)})
    suites: dict[str, ET.Element] = {}
    for case in cases:
        if case.suite not in suites:
            members = [c for c in cases if c.suite == case.suite]
            suites[case.suite] = ET.SubElement(
                root, "testsuite", {"name": f"xdcr {case.suite}", **_counts(members)}
            )
        element = ET.SubElement(
            suites[case.suite], "testcase", classname=f"voltprobe.{case.suite}", name=case.name
        )
        if case.outcome == "failure":
            failure = ET.SubElement(element, "failure", message=case.message, type=case.kind)
            failure.text = case.text
        elif case.outcome == "skipped":
            ET.SubElement(element, "skipped", message=case.message)
        elif case.outcome == "error":
            ET.SubElement(element, "error", message=case.message, type="not-measured")
        elif case.text:
            ET.SubElement(element, "system-out").text = case.text
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _counts(cases: Sequence[Case]) -> dict[str, str]:
    def count(outcome: str) -> str:
        return str(sum(1 for c in cases if c.outcome == outcome))

    return {
        "tests": str(len(cases)),
        "failures": count("failure"),
        "errors": count("error"),
        "skipped": count("skipped"),
    }
