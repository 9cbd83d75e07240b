"""Run the installed `voltprobe check` inside a prober namespace and compare its JSON
report with a scenario. `compare()` returns the list of disagreements (empty = pass).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from probe.model import SCHEMA, Family, Method

from .netns import Namespace
from .responder import voltprobe_script
from .scenarios import Expect, Scenario
from .topology import Lab

PROBE_TIMEOUT = "1"  # seconds per probe: filtered rows cost this much
RUN_TIMEOUT = 60.0  # seconds for one `voltprobe check` (a hang is a failure)


@dataclass(frozen=True)
class CheckRun:
    argv: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def report(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.stdout)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def describe(self) -> str:
        """The command, exit code and probe rows: what a failing test should show."""
        lines = [f"$ {' '.join(self.argv)}", f"exit {self.exit_code} in {self.seconds:.2f}s"]
        report = self.report
        if report is None:
            lines += ["stdout:", self.stdout[-2000:]]
        else:
            for row in report.get("probes", []):
                lines.append(
                    f"  {row.get('target')} {row.get('family')} {row.get('address')} "
                    f"{row.get('state')} [{row.get('reason')}] ({row.get('method')})"
                )
            for row in report.get("dns", []):
                lines.append(f"  dns {row.get('target')} {row.get('family')} {row.get('outcome')}")
            lines.append(f"  recommendation {report.get('recommendation', {}).get('ipFamilies')}")
        if self.stderr.strip():
            lines += ["stderr:", self.stderr[-2000:]]
        return "\n".join(lines)


def run_check(ns: Namespace, args: Sequence[str], method: Method = Method.CONNECT) -> CheckRun:
    argv = ns.exec_args(
        str(voltprobe_script()), "check", "--no-kube", "-o", "json",
        "--mode", method.value, "--timeout", PROBE_TIMEOUT, *args,
    )  # fmt: skip
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    return CheckRun(
        tuple(argv), proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started
    )


def run_scenario(lab: Lab, scenario: Scenario, method: Method = Method.CONNECT) -> CheckRun:
    """Set the scenario's firewall rules, then run its check from its prober."""
    lab.set_rules(scenario.rules)
    return run_check(lab.prober(scenario.prober), scenario.check_args(), method)


def compare(scenario: Scenario, run: CheckRun, method: Method = Method.CONNECT) -> list[str]:
    report = run.report
    if report is None:
        return [f"stdout is not a JSON report (exit {run.exit_code})"]
    problems: list[str] = []
    if report.get("schema") != SCHEMA:
        problems.append(f"schema {report.get('schema')!r}, expected {SCHEMA!r}")
    if run.exit_code != scenario.exit_code:
        problems.append(f"exit code {run.exit_code}, expected {scenario.exit_code}")
    recommendation = report.get("recommendation") or {}
    families = [f.value for f in scenario.families]
    if recommendation.get("ipFamilies") != families:
        problems.append(f"ipFamilies {recommendation.get('ipFamilies')}, expected {families}")
    if families and not recommendation.get("helmValues"):
        problems.append("a family is recommended but helmValues is empty")
    rows: list[dict[str, Any]] = report.get("probes", [])
    problems += _row_coverage(scenario, rows)
    for expect in scenario.expect:
        problems += _check_expect(expect, scenario, rows, method)
    for dns in scenario.dns:
        outcomes = [
            a.get("outcome")
            for a in report.get("dns", [])
            if a.get("target") == dns.target and a.get("family") == dns.family.value
        ]
        if outcomes != [dns.outcome.value]:
            problems.append(f"dns {dns.target} {dns.family}: {outcomes}, expected [{dns.outcome}]")
    wrong_method = {row.get("method") for row in rows} - {method.value}
    if wrong_method:
        problems.append(f"rows with method {sorted(map(str, wrong_method))}, expected {method}")
    return problems


def _row_coverage(scenario: Scenario, rows: list[dict[str, Any]]) -> list[str]:
    """The report has rows for exactly the (target, family) pairs the scenario expects."""
    expected = {(e.target, e.family.value) for e in scenario.expect}
    seen = {(row.get("target"), row.get("family")) for row in rows}
    problems = [f"no probe row for {t} {f}" for t, f in sorted(expected - seen)]
    problems += [f"unexpected probe rows for {t} {f}" for t, f in sorted(seen - expected, key=str)]
    problems += [
        f"{row.get('target')}: address {row['address']} in a {row.get('family')} row"
        for row in rows
        if row.get("address") and Family.of(str(row["address"])).value != row.get("family")
    ]
    return problems


def _check_expect(
    expect: Expect, scenario: Scenario, rows: list[dict[str, Any]], method: Method
) -> list[str]:
    pinned = {
        e.address
        for e in scenario.expect
        if e.address and (e.target, e.family) == (expect.target, expect.family)
    }

    def wanted(row: dict[str, Any]) -> bool:
        if (row.get("target"), row.get("family")) != (expect.target, expect.family.value):
            return False
        address = row.get("address")
        return address == expect.address if expect.address else address not in pinned

    matching = [row for row in rows if wanted(row)]
    where = f"{expect.target} {expect.family}" + (f" {expect.address}" if expect.address else "")
    if not matching:
        return [f"{where}: no probe row"]
    problems: list[str] = []
    for row in matching:
        state, reason = row.get("state"), str(row.get("reason") or "")
        label = f"{where} ({row.get('address')})"
        if state != expect.state.value:
            problems.append(f"{label}: state {state} [{reason}], expected {expect.state}")
            continue
        if expect.reason and expect.reason not in reason:
            problems.append(f"{label}: reason {reason!r} lacks {expect.reason!r}")
        named = any(errno in reason for errno in expect.errnos)
        if method is Method.CONNECT and expect.errnos and not named:
            problems.append(f"{label}: reason {reason!r} names none of {list(expect.errnos)}")
    return problems
