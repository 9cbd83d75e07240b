"""`voltprobe report --fail-on warning|error`: exit 4 when a merge (or a single report, or
--diff's NEW report) that would exit 0 has a finding of that severity or worse; every other
code unchanged. Real CLI processes on hand-made reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.processes import run_cli
from tests.support.reports import V4, V6, lb_service, local, report

A4, A6, B4, B6 = "192.0.2.10", "2001:db8::10", "198.51.100.20", "2001:db8:1::20"
A_LOCAL = local(lb_service(A4, A6))
B_LOCAL = local(lb_service(B4, B6))


def finding(id_: str, severity: str) -> dict[str, Any]:
    return {
        "id": id_,
        "severity": severity,
        "title": "t",
        "message": f"{id_} message",
        "remedy": "r",
        "subjects": [f"{B6} {B6}:5555 IPv6"],
    }


def write(tmp_path: Path, name: str, doc: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def pair(tmp_path: Path, a_findings: list[dict[str, Any]]) -> list[str]:
    """a -> b and b -> a both pass over IPv4 (exit 0); a's report carries `a_findings`."""
    a = report(
        "a", "b", {B4: "open", B6: "filtered"}, A_LOCAL, recommended=(V4,), findings=a_findings
    )
    b = report("b", "a", {A4: "open", A6: "open"}, B_LOCAL, recommended=(V4, V6))
    return [write(tmp_path, "a.json", a), write(tmp_path, "b.json", b)]


def test_a_merge_trips_on_a_finding_in_any_input_report(tmp_path: Path) -> None:
    files = pair(tmp_path, [finding("VP303", "warning")])
    plain = run_cli("report", *files)
    warning = run_cli("report", *files, "--fail-on", "warning")
    error = run_cli("report", *files, "--fail-on", "error")
    assert plain.returncode == 0, plain.stderr
    assert warning.returncode == 4 and "--fail-on warning" in warning.stderr, warning.stderr
    assert warning.stdout == plain.stdout  # the gate changes the code, not the report
    assert error.returncode == 0, error.stderr


def test_info_findings_never_trip_and_vp502_is_not_the_merges(tmp_path: Path) -> None:
    # VP502 (one direction only) is dropped by the merge, which covers both directions
    files = pair(tmp_path, [finding("VP100", "info"), finding("VP502", "warning")])
    assert run_cli("report", *files, "--fail-on", "warning").returncode == 0


def test_a_failing_merge_keeps_exit_1(tmp_path: Path) -> None:
    a = report(
        "a", "b", {B4: "filtered", B6: "filtered"}, A_LOCAL, findings=[finding("VP303", "error")]
    )
    b = report("b", "a", {A4: "open", A6: "open"}, B_LOCAL, recommended=(V4, V6))
    files = [write(tmp_path, "a.json", a), write(tmp_path, "b.json", b)]
    assert run_cli("report", *files, "--fail-on", "warning").returncode == 1


def test_one_report_and_diff_gate_on_the_report_and_on_new(tmp_path: Path) -> None:
    clean = report("a", "b", {B4: "open", B6: "open"}, A_LOCAL, recommended=(V4, V6))
    warned = report(
        "a", "b", {B4: "open", B6: "filtered"}, A_LOCAL, recommended=(V4,),
        findings=[finding("VP303", "warning")],
    )  # fmt: skip
    old, new = write(tmp_path, "old.json", warned), write(tmp_path, "new.json", clean)
    assert run_cli("report", old, "--fail-on", "warning").returncode == 4
    assert run_cli("report", new, "--fail-on", "warning").returncode == 0
    # --diff: NEW's findings decide; a warning only OLD had does not trip
    fixed = run_cli("report", "--diff", old, new, "--fail-on", "warning")
    assert fixed.returncode == 0, fixed.stderr
    broke = run_cli("report", "--diff", new, old, "--fail-on", "warning")
    assert broke.returncode == 4 and "--fail-on warning" in broke.stderr, broke.stderr
    assert run_cli("report", "--diff", new, old).returncode == 0
    assert run_cli("report", "--diff", new, old, "--fail-on", "error").returncode == 0


def test_a_bad_fail_on_value_is_exit_2(tmp_path: Path) -> None:
    files = pair(tmp_path, [])
    done = run_cli("report", *files, "--fail-on", "info")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
