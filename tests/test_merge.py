"""`voltprobe report`: hand-made pairs of reports merged into a direction x family matrix
and one recommendation per cluster; exit codes; bad input is one line and exit 2."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from probe.documents import parse_document
from probe.merge.matrix import Input, merge
from probe.model import Family
from probe.schema import validate
from tests.support.processes import run_cli
from tests.support.reports import V4, V6, lb_service, local, report

A4, A6, B4, B6 = "192.0.2.10", "2001:db8::10", "198.51.100.20", "2001:db8:1::20"
C4, C6 = "203.0.113.30", "2001:db8:2::30"
A_LOCAL = local(lb_service(A4, A6))
B_LOCAL = local(lb_service(B4, B6))


def write(tmp_path: Path, name: str, doc: dict[str, Any] | str) -> str:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(path)


def edited(text: str, section: str, index: int | None, key: str, value: Any) -> str:
    """`text` (a JSON report) with one field of one section changed, as by hand."""
    document = json.loads(text)
    part = document[section] if index is None else document[section][index]
    part[key] = value
    return json.dumps(document)


def merged_of(*docs: tuple[str, dict[str, Any]]) -> Any:
    return merge([Input(name, parse_document(json.dumps(doc), name)) for name, doc in docs])


def one_way_each() -> tuple[dict[str, Any], dict[str, Any]]:
    """A reaches B only over IPv4; B reaches A only over IPv6."""
    a = report("a", "b", {B4: "open", B6: "filtered"}, A_LOCAL, recommended=(V4,))
    b = report("b", "a", {A4: "filtered", A6: "open"}, B_LOCAL, recommended=(V6,))
    return a, b


def test_one_way_failures_in_different_families_give_each_cluster_its_own_family() -> None:
    a, b = one_way_each()
    merged = merged_of(("a.json", a), ("b.json", b))
    # A's DR Service is dialled by B: B reaches A over IPv6 only
    assert merged.cluster("a").ip_families == (Family.IPV6,)
    assert merged.cluster("b").ip_families == (Family.IPV4,)
    assert merged.exit_code == 0
    a_to_b = merged.direction("a", "b")
    assert a_to_b.cell(Family.IPV4).summary() == "ok 1/1"
    assert a_to_b.cell(Family.IPV6).summary() == "FAIL tcp 0/1"
    # A dials B in B's family, B dials A in A's family
    assert merged.cluster("a").connection_source == f"{B4}:5555"
    assert merged.cluster("b").connection_source == f"[{A6}]:5555"
    values = merged.cluster("a").helm_values
    assert values["cluster"]["serviceSpec"]["dr"]["ipFamilies"] == ["IPv6"]
    assert values["cluster"]["config"]["deployment"]["dr"]["connection"]["source"] == f"{B4}:5555"
    assert any(s.startswith("a -> b works over IPv4, b -> a does not") for s in merged.asymmetries)
    assert any(s.startswith("b -> a works over IPv6, a -> b does not") for s in merged.asymmetries)
    assert "filtered" in " ".join(merged.asymmetries)


def test_a_cluster_no_family_reaches_is_exit_1_and_named() -> None:
    a = report("a", "b", {B4: "filtered", B6: "closed"}, A_LOCAL)
    b = report("b", "a", {A4: "open", A6: "open"}, B_LOCAL, recommended=(V4,))
    merged = merged_of(("a.json", a), ("b.json", b))
    assert merged.cluster("b").ip_families == ()
    assert merged.cluster("a").ip_families == (Family.IPV4,)  # both work; IPv4 for the JVM
    assert merged.exit_code == 1
    assert merged.verdict.startswith("FAIL: no family for b")
    assert merged.direction("a", "b").cell(Family.IPV6).cause.startswith("a reset")


def test_a_direction_not_measured_is_exit_3_and_the_matrix_says_which() -> None:
    a = report("a", "b", {}, A_LOCAL, error="the Job did not finish")
    b = report("b", "a", {A4: "open", A6: "filtered"}, B_LOCAL, recommended=(V4,))
    merged = merged_of(("a.json", a), ("b.json", b))
    assert not merged.direction("a", "b").measured
    assert merged.direction("b", "a").measured
    assert merged.cluster("a").ip_families == (Family.IPV4,)
    assert merged.cluster("b").undecided and merged.cluster("b").ip_families == ()
    assert merged.exit_code == 3
    assert "a->b" in merged.verdict


def test_a_missing_report_is_an_unknown_direction() -> None:
    b = report("b", "a", {A4: "open", A6: "filtered"}, B_LOCAL, recommended=(V4,))
    inventory = {
        "schema": "voltprobe/v1",
        "kind": "inventory",
        "version": "0.2.0",
        "cluster": {"name": "a"},
        "local": A_LOCAL,
    }
    merged = merged_of(("b.json", b), ("a-inventory.json", inventory))
    assert merged.cluster("a").ip_families == (Family.IPV4,)  # b probed every IPv4 endpoint
    assert not merged.direction("a", "b").measured
    assert "no report from a probing b" in merged.direction("a", "b").cell(Family.IPV4).detail
    assert merged.exit_code == 3


def test_advertised_endpoints_the_peer_did_not_probe_fail_the_family() -> None:
    per_pod = local(lb_service(A4), lb_service("192.0.2.11", name="volt-dr-1", families=(V4,)))
    a = report("a", "b", {B4: "open"}, per_pod)
    b = report("b", "a", {A4: "open"}, B_LOCAL)  # only the discovery endpoint
    merged = merged_of(("a.json", a), ("b.json", b))
    cell = merged.direction("b", "a").cell(Family.IPV4)
    assert cell.summary() == "FAIL not-probed 1/2"
    assert "192.0.2.11:5555" in cell.detail and "--peer-report" in cell.cause
    assert merged.cluster("a").ip_families == ()


def test_reports_of_0_1_without_cluster_names_pair_by_file_name() -> None:
    a, b = one_way_each()
    del a["cluster"], b["cluster"]
    merged = merged_of(("/tmp/east.json", a), ("/tmp/west.json", b))
    assert [c.name for c in merged.clusters] == ["east", "west"]
    assert merged.cluster("east").ip_families == (Family.IPV6,)


def test_three_clusters_pair_by_advertised_addresses() -> None:
    c_local = local(lb_service(C4, C6))
    a = report("a", None, {B4: "open", B6: "open"}, A_LOCAL)
    a2 = report("a", "c", {C4: "open", C6: "open"}, A_LOCAL)
    b = report("b", None, {A4: "open", A6: "open"}, B_LOCAL)
    assert b["cluster"]["peer"] is None
    docs = [
        ("a.json", a),
        ("a2.json", a2),
        ("b.json", b),
        ("c.json", report("c", "b", {B4: "open", B6: "filtered"}, c_local)),
    ]
    merged = merged_of(*docs)
    assert merged.direction("a", "b").measured and merged.direction("b", "a").measured
    assert not merged.direction("c", "a").measured  # nobody in c probed a
    assert merged.exit_code == 3


def test_the_merge_does_not_guess_around_two_reports_of_one_direction(tmp_path: Path) -> None:
    a, b = one_way_each()
    files = [write(tmp_path, n, d) for n, d in (("a.json", a), ("a2.json", a), ("b.json", b))]
    done = run_cli("report", *files)
    assert done.returncode == 2 and "give one report per direction" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("mangle", "expected"),
    [
        (lambda text: text[: len(text) // 2], "not valid JSON"),
        (lambda text: text.replace('"voltprobe/v1"', '"voltprobe/v2"'), "voltprobe/v2"),
        (lambda text: text.replace('"state": "open"', '"state": "opne"', 1), "probes[0].state"),
        (lambda text: text.replace('"probes"', '"probez"'), "probes is missing"),
        (lambda text: "", "empty file"),
        (lambda text: "\x00\xff", "not UTF-8"),
        # a reviewer's 1.8 KB YAML crashed PyYAML's recursive composer (a traceback)
        (lambda text: "x: " + "[" * 900 + "]" * 900, "nested deeper than 64 levels"),
        (lambda text: "x:\n" + "".join("  " * i + "- \n" for i in range(200)), "nested deeper"),
        (lambda text: "a: &a [1, 2]\nb: [*a, *a]\n", "no `schema` field"),
        # hand-edited rows that contradict themselves, and a name that would break lines
        (lambda text: edited(text, "probes", 0, "address", "not-an-ip"), "not an IP address"),
        (lambda text: edited(text, "probes", 0, "family", "IPv6"), "is not an IPv6 address"),
        (lambda text: edited(text, "cluster", None, "name", "a\n```"), "printable"),
        (lambda text: text.replace('"timeout": 2.0', '"timeout": NaN'), "NaN is not a JSON number"),
        (lambda text: text.replace('"rttMs": 0.5', '"rttMs": Infinity'), "Infinity is not"),
        (lambda text: yaml.safe_dump(json.loads(text)).replace("rttMs: 0.5", "rttMs: .nan"),
         "not a JSON-compatible document"),
    ],
)  # fmt: skip
def test_bad_input_names_the_file_and_the_problem_exit_2(
    tmp_path: Path, mangle: Any, expected: str
) -> None:
    a, b = one_way_each()
    good = write(tmp_path, "b.json", b)
    path = tmp_path / "a.json"
    text = mangle(json.dumps(a, indent=1))
    path.write_bytes(text.encode("latin-1") if "\xff" in text else text.encode())
    done = run_cli("report", str(path), good)
    assert done.returncode == 2, done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert str(path) in lines[0] and expected in lines[0], lines[0]


def test_exit_codes_and_formats_through_the_cli(tmp_path: Path) -> None:
    a, b = one_way_each()
    files = [write(tmp_path, "a.json", a), write(tmp_path, "b.json", b)]
    table = run_cli("report", *files)
    assert table.returncode == 0, table.stderr
    assert "a -> b" in table.stdout and "FAIL tcp 0/1" in table.stdout
    as_json = run_cli("report", *files, "-o", "json")
    document = json.loads(as_json.stdout)
    validate(document)  # the merged result is under the published schema too
    assert document["kind"] == "merge" and document["exitCode"] == 0
    assert yaml.safe_load(run_cli("report", *files, "-o", "yaml").stdout) == document
    markdown = run_cli("report", *files, "-o", "markdown").stdout
    assert "| a -> b | ok 1/1 | FAIL tcp 0/1:" in markdown
    assert "```yaml\ncluster:\n  serviceSpec:\n    dr:\n      ipFamilies:\n      - IPv6" in markdown
    assert "v1.31.2" in markdown and "probe 2 s, DNS 3 s" in markdown


def test_junit_fails_what_is_needed_and_skips_what_is_not(tmp_path: Path) -> None:
    a, b = one_way_each()
    files = [write(tmp_path, "a.json", a), write(tmp_path, "b.json", b)]
    root = ET.fromstring(run_cli("report", *files, "-o", "junit").stdout)
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert set(cases) == {f"{d} {f}" for d in ("a -> b", "b -> a") for f in (V4, V6)}
    assert cases["a -> b IPv4"].find("skipped") is None and not list(
        cases["a -> b IPv4"].iter("failure")
    )
    skipped = cases["a -> b IPv6"].find("skipped")
    assert skipped is not None and "b is recommended IPv4" in skipped.get("message", "")
    assert root.get("failures") == "0" and root.get("skipped") == "2"
    # b reached by nothing: the needed families fail with the finding
    finding = {
        "id": "VP303",
        "severity": "error",
        "title": "filtered",
        "message": "m",
        "remedy": "r",
        "subjects": [f"{B4} {B4}:5555 IPv4"],
    }
    bad = report("a", "b", {B4: "filtered", B6: "filtered"}, A_LOCAL, findings=[finding])
    files[0] = write(tmp_path, "a.json", bad)
    done = run_cli("report", *files, "-o", "junit")
    assert done.returncode == 1
    root = ET.fromstring(done.stdout)
    failures = {c.get("name"): c.find("failure") for c in root.iter("testcase")}
    failure = failures["a -> b IPv4"]
    assert failure is not None and failure.get("type") == "VP303"
    assert root.get("failures") == "2"


def test_junit_skips_a_family_the_cluster_cannot_serve(tmp_path: Path) -> None:
    b_v4 = local(lb_service(B4, families=(V4,)), services_cap={V4: "yes", V6: "no"})
    a = report("a", "b", {B4: "filtered"}, A_LOCAL)
    b = report("b", "a", {A4: "open", A6: "open"}, b_v4)
    files = [write(tmp_path, "a.json", a), write(tmp_path, "b.json", b)]
    root = ET.fromstring(run_cli("report", *files, "-o", "junit").stdout)
    cases = {c.get("name"): c for c in root.iter("testcase")}
    skipped = cases["a -> b IPv6"].find("skipped")
    assert skipped is not None and "cannot serve IPv6" in skipped.get("message", "")
    assert cases["a -> b IPv4"].find("failure") is not None


def test_a_job_log_with_markers_is_accepted(tmp_path: Path) -> None:
    a, b = one_way_each()
    log = "starting\nvoltprobe: probing\n----- BEGIN VOLTPROBE REPORT -----\n"
    log += json.dumps(a, indent=1) + "\n----- END VOLTPROBE REPORT -----\nbye\n"
    files = [write(tmp_path, "a.log", log), write(tmp_path, "b.json", b)]
    done = run_cli("report", *files, "-o", "json")
    assert done.returncode == 0, done.stderr
    cut = write(tmp_path, "a.log", log.split("----- END")[0])
    done = run_cli("report", cut, files[1])
    assert done.returncode == 2 and "cut off" in done.stderr


def test_current_dr_services_that_disagree_are_named() -> None:
    a_v4 = local(lb_service(A4, families=(V4,)))
    a = report("a", "b", {B4: "open", B6: "open"}, a_v4)
    b = report("b", "a", {A4: "filtered"}, B_LOCAL)
    merged = merged_of(("a.json", a), ("b.json", b))
    assert merged.cluster("a").ip_families == ()
    a_dual = local(lb_service(A4, A6, families=(V4, V6)))
    a = report("a", "b", {B4: "open", B6: "open"}, a_dual)
    b = report("b", "a", {A4: "filtered", A6: "open"}, B_LOCAL)
    merged = merged_of(("a.json", a), ("b.json", b))
    assert merged.cluster("a").ip_families == (Family.IPV6,)
    (text,) = merged.cluster("a").disagreements
    assert "volt/volt-dr is [IPv4, IPv6]: its primary family is IPv4" in text


def test_diff_says_what_changed_between_two_runs(tmp_path: Path) -> None:
    before = report("a", "b", {B4: "open", B6: "filtered"}, A_LOCAL, recommended=(V4,))
    after = report("a", "b", {B4: "open", B6: "open"}, A_LOCAL, recommended=(V6,))
    files = [write(tmp_path, "old.json", before), write(tmp_path, "new.json", after)]
    done = run_cli("report", "--diff", *files, "-o", "json")
    assert done.returncode == 0, done.stderr
    changes = json.loads(done.stdout)["changes"]
    assert {
        "kind": "probe",
        "key": f"{B6} IPv6 [{B6}]:5555",
        "old": "filtered (no-response)",
        "new": "open (syn-ack)",
    } in changes
    assert {"kind": "recommendation", "key": "ipFamilies", "old": "IPv4", "new": "IPv6"} in changes
    other = write(tmp_path, "other.json", report("b", "a", {A4: "open"}, B_LOCAL))
    done = run_cli("report", "--diff", files[0], other)
    assert done.returncode == 2 and "same cluster" in done.stderr
    assert "No changes." in run_cli("report", "--diff", files[0], files[0]).stdout


def test_the_merged_table_fits_80_columns_even_with_unknown_directions() -> None:
    from probe.render.merged import merged_table

    a, b = one_way_each()
    stopped = report("a", "b", {}, A_LOCAL, error="the Job did not finish " + "x" * 200)
    for pair in ((a, b), (stopped, b)):
        text = merged_table(merged_of(("a.json", pair[0]), ("b.json", pair[1])), verbose=True)
        assert max(len(line) for line in text.splitlines()) <= 80, text
        lines = text.splitlines()
        assert lines[0] == lines[-1]  # the verdict first and last


def test_a_cell_reason_that_starts_with_its_state_is_not_repeated() -> None:
    from probe.merge.cells import _row_text
    from probe.model import Method, ProbeResult, ProbeState

    row = ProbeResult("b", Family.IPV6, 5555, ProbeState.NO_ROUTE, "no-route (ENETUNREACH)",
                      Method.RAW, B6)  # fmt: skip
    assert _row_text(row) == f"[{B6}]:5555 no-route (ENETUNREACH)"


def test_a_cluster_with_both_kinds_of_dr_service_gets_both_helm_keys() -> None:
    """A discovery DR Service and per-pod DR Services: both ipFamilies keys, as `check`
    gives them (a reviewer's merge printed the per-pod key only)."""
    per_pod = {**lb_service(A4, A6, name="volt-dr-0"), "perPod": True}
    a_local = local(lb_service(A4, A6), per_pod)
    a = report("a", "b", {B4: "open", B6: "filtered"}, a_local, recommended=(V4,))
    b = report("b", "a", {A4: "filtered", A6: "open"}, B_LOCAL, recommended=(V6,))
    merged = merged_of(("a.json", a), ("b.json", b))
    result = merged.cluster("a")
    assert result.helm_key == (
        "cluster.serviceSpec.dr.ipFamilies and cluster.serviceSpec.perpod.dr.ipFamilies"
    )
    spec = result.helm_values["cluster"]["serviceSpec"]
    assert spec["dr"]["ipFamilies"] == ["IPv6"] and spec["perpod"]["dr"]["ipFamilies"] == ["IPv6"]
    assert merged.cluster("b").helm_key == "cluster.serviceSpec.dr.ipFamilies"


def test_no_route_to_some_addresses_of_a_working_family_is_not_called_incapable() -> None:
    """b reaches one of a's IPv4 addresses and has no route to the other: the cause is a
    missing route, not 'b's pods are not IPv4-capable' (a reviewer's misleading merge)."""
    from probe.merge.cells import likely_cause
    from probe.model import Method, ProbeResult, ProbeState

    row = ProbeResult("a", Family.IPV4, 5555, ProbeState.NO_ROUTE, "no-route (ENETUNREACH)",
                      Method.CONNECT, A4)  # fmt: skip
    assert "route is missing, the family itself works" in likely_cause([row], "b", True)
    assert "not IPv4-capable" in likely_cause([row], "b", False)
