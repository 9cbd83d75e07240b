"""The merged result as people and CI read it: the 80-column matrix with long cluster
names, JUnit that follows the merge's own reasoning, the mode actually used in the
Markdown environment, and each command's -o help naming only its own formats."""

from __future__ import annotations

import argparse
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from probe.cli import build_parser
from probe.documents import parse_document
from probe.merge.matrix import Input, Merged, merge
from probe.model import Family
from probe.render.aliases import short_names, substitute
from probe.render.merged import render_merged
from tests.support.reports import V4, V6, lb_service, local, report

ALL_FORMATS = ("table", "wide", "short", "json", "yaml", "values", "markdown", "junit")


def subcommand(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:  # argparse keeps its subparsers here only
        if isinstance(action, argparse._SubParsersAction) and name in action.choices:
            found: argparse.ArgumentParser = action.choices[name]
            return found
    raise AssertionError(f"no subcommand {name}")


@pytest.mark.parametrize("command", ["report", "inventory", "check"])
def test_output_help_names_only_the_commands_own_formats(command: str) -> None:
    parser = subcommand(build_parser(), command)
    (output,) = [a for a in parser._actions if "--output" in a.option_strings]
    assert output.choices is not None and output.help is not None
    named = {f for f in ALL_FORMATS if re.search(rf"\b{f}\b", output.help)}
    assert named <= set(output.choices), (command, named - set(output.choices))
    if command != "check":  # check's help describes its human formats only
        assert named == set(output.choices), (command, set(output.choices) - named)


# -- JUnit follows the merge's reasoning -----------------------------------------------

X4, X6, Y4, Y6 = "192.0.2.40", "2001:db8::40", "198.51.100.50", "2001:db8:1::50"


def merged_of(*docs: tuple[str, dict[str, Any]]) -> Merged:
    return merge([Input(name, parse_document(json.dumps(doc), name)) for name, doc in docs])


def junit_of(merged: Merged) -> dict[str, ET.Element]:
    root = ET.fromstring(render_merged(merged, "junit"))
    return {str(c.get("name")): c for c in root.iter("testcase")}


def test_junit_skips_a_family_the_destination_cannot_serve_even_when_it_is_open() -> None:
    # x cannot give its Services an IPv4 address; y reaches x over IPv4 but not IPv6
    x_local = local(lb_service(X4, X6), services_cap={V4: "no", V6: "yes"})
    x = report("x", "y", {Y4: "open", Y6: "open"}, x_local)
    y = report("y", "x", {X4: "open", X6: "filtered"}, local(lb_service(Y4, Y6)))
    merged = merged_of(("x.json", x), ("y.json", y))
    assert merged.cluster("x").ip_families == ()  # the merge: IPv4 does not qualify
    assert "x cannot give Services an IPv4 address" in " ".join(merged.cluster("x").rationale)
    cases = junit_of(merged)
    v4 = cases["y -> x IPv4"].find("skipped")
    assert v4 is not None, ET.tostring(cases["y -> x IPv4"])
    assert "x cannot serve IPv4: x cannot give Services an IPv4 address" in v4.get("message", "")
    assert cases["y -> x IPv6"].find("failure") is not None  # needed, and filtered


def test_junit_says_cannot_serve_rather_than_not_needed_when_that_family_fails() -> None:
    # x cannot serve IPv6 and y's IPv6 to x is filtered; IPv4 works and is recommended
    x_local = local(lb_service(X4, X6), services_cap={V4: "yes", V6: "no"})
    x = report("x", "y", {Y4: "open", Y6: "open"}, x_local)
    y = report("y", "x", {X4: "open", X6: "filtered"}, local(lb_service(Y4, Y6)))
    merged = merged_of(("x.json", x), ("y.json", y))
    assert merged.cluster("x").ip_families == (Family.IPV4,)
    skipped = junit_of(merged)["y -> x IPv6"].find("skipped")
    assert skipped is not None
    message = skipped.get("message", "")
    assert message.startswith("x cannot serve IPv6: x cannot give Services an IPv6 address")
    assert "not needed" not in message


# -- the mode actually used, and why ---------------------------------------------------

RAW_NOTE = "raw SYN probing is not allowed here: not root (uid 1000) and no CAP_NET_RAW"


def with_mode(doc: dict[str, Any], mode: str, method: str, note: str = "") -> dict[str, Any]:
    doc["options"]["mode"] = mode
    if note:
        doc["options"]["rawNotUsed"] = note
    for row in doc["probes"]:
        row["method"] = method
    return doc


def environment_rows(markdown: str) -> dict[str, str]:
    """{cluster: its row} of the merged Markdown's environment table."""
    section = markdown.split("## Environment")[1].split("## Matrix")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    return {row.split(" | ")[0][2:]: row for row in rows[1:]}


def test_markdown_environment_says_the_mode_used_and_why() -> None:
    x = with_mode(
        report("x", "y", {Y4: "open"}, local(lb_service(X4))), "auto", "connect", RAW_NOTE
    )
    y = with_mode(report("y", "x", {X4: "open"}, local(lb_service(Y4))), "auto", "raw")
    merged = merged_of(("x.json", x), ("y.json", y))
    assert merged.environments[0].methods == ("connect",)
    rows = environment_rows(render_merged(merged, "markdown"))
    assert f"| auto -> connect ({RAW_NOTE}) |" in rows["x"], rows["x"]
    assert "| auto -> raw (raw sockets could be opened) |" in rows["y"], rows["y"]
    z = with_mode(report("x", "y", {Y4: "open"}, local(lb_service(X4))), "connect", "connect")
    rows = environment_rows(render_merged(merged_of(("x.json", z), ("y.json", y)), "markdown"))
    assert "| connect | probe 2 s" in rows["x"], rows["x"]  # asked for, and used


def test_single_report_markdown_says_the_mode_used_and_why() -> None:
    from probe.render import render

    x = with_mode(
        report("x", "y", {Y4: "open"}, local(lb_service(X4))), "auto", "connect", RAW_NOTE
    )
    document = parse_document(json.dumps(x), "x.json")
    text = render(document, "markdown", False)  # type: ignore[arg-type]
    assert f"| mode | auto -> connect ({RAW_NOTE}) |" in text, text


# -- the 80-column matrix with realistic cluster names ---------------------------------

ARN_A = "arn:aws:eks:us-east-1:123456789012:cluster/volt-a"
ARN_B = "arn:aws:eks:eu-west-1:123456789012:cluster/volt-b"
A4, A6, B4, B6 = "192.0.2.10", "2001:db8::10", "198.51.100.20", "2001:db8:1::20"


def one_way_each(name_a: str, name_b: str) -> list[tuple[str, dict[str, Any]]]:
    """a reaches b only over IPv4, b reaches a only over IPv6."""
    a = report(name_a, name_b, {B4: "open", B6: "filtered"}, local(lb_service(A4, A6)))
    b = report(name_b, name_a, {A4: "filtered", A6: "open"}, local(lb_service(B4, B6)))
    return [("a.json", a), ("b.json", b)]


def legend_of(lines: list[str]) -> dict[str, str]:
    """{label: full name} from the legend above the matrix ({} when there is none)."""
    if "Clusters (short names in this table):" not in lines:
        return {}
    start = lines.index("Clusters (short names in this table):") + 1
    legend: dict[str, str] = {}
    label = ""
    for line in lines[start:]:
        if line.startswith("      ") and label:  # a name longer than a line (-v), wrapped
            legend[label] += line.strip()
        elif line.startswith("  ") and " = " in line:
            label, name = line.strip().split(" = ", 1)
            legend[label] = name
        else:
            break
    return legend


def matrix_of(lines: list[str]) -> list[tuple[str, str]]:
    """(from, to) of each matrix row, asserting the header, the dashes and every row are
    one line each (no continuation lines) with a cell per family."""
    head = next(i for i, line in enumerate(lines) if line.startswith("DIRECTION"))
    assert lines[head].split() == ["DIRECTION", "IPv4", "IPv6"], lines[head]
    assert set(lines[head + 1]) == {"-", " "} and len(lines[head + 1].split()) == 3
    pairs = []
    for line in lines[head + 2 :]:
        if line.startswith("  ") or not line:  # the cells' details
            break
        cells = re.split(r" {2,}", line)
        assert len(cells) == 3 and " -> " in cells[0], line
        assert all(c.split()[0] in ("ok", "FAIL") for c in cells[1:]), line
        source, target = cells[0].split(" -> ")
        pairs.append((source, target))
    return pairs


@pytest.mark.parametrize(
    "names",
    [
        (ARN_A, ARN_B),
        ("alpha-production-cluster-east", "alpha-production-cluster-west"),
        (ARN_A.removesuffix("-a"), ARN_B.removesuffix("-b")),  # differ only in the region
        ("x" * 120, "y" * 100),
    ],
    ids=["eks-arns", "29-characters", "same-last-part", "very-long"],
)
def test_long_cluster_names_get_short_labels_and_the_matrix_rows_stay_one_line(
    names: tuple[str, str],
) -> None:
    merged = merged_of(*one_way_each(*names))
    full = legend_of(render_merged(merged, "table", True).splitlines())
    assert sorted(full.values()) == sorted(names), full  # -v keeps the full names whole
    assert all(len(label) <= 20 for label in full), full
    for verbose in (False, True):
        lines = render_merged(merged, "table", verbose).splitlines()
        assert max(len(line) for line in lines) <= 80, "\n".join(lines)
        legend = legend_of(lines)
        assert set(legend) == set(full), "\n".join(lines)
        for label, shown in legend.items():  # whole, or elided once in the middle
            head, _, tail = shown.partition("…")
            assert shown == full[label] or (
                full[label].startswith(head) and full[label].endswith(tail)
            ), shown
        rows = matrix_of(lines)
        assert sorted((full[s], full[t]) for s, t in rows) == sorted(
            (d.source, d.target) for d in merged.directions
        )
        # the names do not come back anywhere else: the values sections use the labels
        body = [line for line in lines if " = " not in line]
        assert not any(name in line for line in body for name in names), "\n".join(body)
        by_name = {name: label for label, name in full.items()}
        for name in names:
            assert any(line.startswith(f"Cluster {by_name[name]}: ipFamilies ") for line in lines)
            assert f"  Helm values for {by_name[name]}:" in lines
        assert lines[0] == lines[-1] and lines[0].startswith("PASS")  # the verdict, one line


def test_short_names_fit_unchanged_and_the_full_names_stay_in_markdown_and_json() -> None:
    merged = merged_of(*one_way_each("volt-east", "volt-west"))
    lines = render_merged(merged, "table").splitlines()
    assert legend_of(lines) == {}  # fitting names are shown as they are
    assert matrix_of(lines) == [("volt-east", "volt-west"), ("volt-west", "volt-east")]
    merged = merged_of(*one_way_each(ARN_A, ARN_B))
    markdown = render_merged(merged, "markdown")
    assert f"| {ARN_A} -> {ARN_B} | ok 1/1 |" in markdown
    document = json.loads(render_merged(merged, "json"))
    assert {c["name"] for c in document["clusters"]} == {ARN_A, ARN_B}


def test_the_matrix_of_eks_clusters_fits_an_80_column_terminal(tmp_path: Path) -> None:
    from tests.lab.responder import voltprobe_script
    from tests.lab.test_terminal import in_terminal

    files = []
    for name, doc in one_way_each(ARN_A, ARN_B):
        (tmp_path / name).write_text(json.dumps(doc))
        files.append(str(tmp_path / name))
    env = {**os.environ, "TERM": "xterm", "LANG": "C.UTF-8"}
    code, output = in_terminal([str(voltprobe_script()), "report", *files], env)
    assert code == 0, output
    lines = output.splitlines()
    assert all(len(line) <= 80 for line in lines), output
    assert legend_of(lines) == {"volt-a": ARN_A, "volt-b": ARN_B}, output
    assert matrix_of(lines) == [("volt-b", "volt-a"), ("volt-a", "volt-b")], output


def test_short_names_take_the_shortest_unique_end_then_letters() -> None:
    assert short_names([ARN_A, ARN_B], 40) == {ARN_A: "volt-a", ARN_B: "volt-b"}
    assert short_names([ARN_A, ARN_B], 12) == {ARN_A: "a", ARN_B: "b"}
    assert short_names(["volt-a", "x/volt-a"], 12) == {"volt-a": "A", "x/volt-a": "B"}
    assert short_names(["A", "b-long-name", "c-long-name"], 12) == {
        "A": "B",
        "b-long-name": "C",
        "c-long-name": "D",
    }  # a letter that is a cluster's name is not a label
    assert short_names(["a", "b"], 20) == {"a": "a", "b": "b"}


def test_substitute_replaces_whole_names_only() -> None:
    labels = {"us-east": "east", "x": "x"}
    text = "us-east's DR; us-east->y; not us-east-2, eu.us-east nor us-east.example; us-east:"
    assert substitute(text, labels) == (
        "east's DR; east->y; not us-east-2, eu.us-east nor us-east.example; east:"
    )


def test_markdown_is_ascii_so_any_stdout_takes_it() -> None:
    """A ticket may be written through an ASCII-only stdout (PYTHONIOENCODING=ascii): the
    markdown's own words are ASCII (a reviewer's run ended with exit 3 on an arrow)."""
    from pathlib import Path

    import probe.render.markdown as markdown

    assert Path(markdown.__file__).read_text(encoding="utf-8").isascii()
