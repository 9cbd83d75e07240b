"""The merged result as people and CI read it: the 80-column matrix with long cluster
names, JUnit that follows the merge's own reasoning, the mode actually used in the
Markdown environment, and each command's -o help naming only its own formats."""

from __future__ import annotations

import argparse
import json
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from probe.cli import build_parser
from probe.documents import parse_document
from probe.merge.matrix import Input, Merged, merge
from probe.model import Family
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
    assert f"| auto → connect ({RAW_NOTE}) |" in rows["x"], rows["x"]
    assert "| auto → raw (raw sockets could be opened) |" in rows["y"], rows["y"]
    z = with_mode(report("x", "y", {Y4: "open"}, local(lb_service(X4))), "connect", "connect")
    rows = environment_rows(render_merged(merged_of(("x.json", z), ("y.json", y)), "markdown"))
    assert "| connect (as asked) |" in rows["x"], rows["x"]


def test_single_report_markdown_says_the_mode_used_and_why() -> None:
    from probe.render import render

    x = with_mode(
        report("x", "y", {Y4: "open"}, local(lb_service(X4))), "auto", "connect", RAW_NOTE
    )
    document = parse_document(json.dumps(x), "x.json")
    text = render(document, "markdown", False)  # type: ignore[arg-type]
    assert f"| mode | auto → connect ({RAW_NOTE}) |" in text, text
