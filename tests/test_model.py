"""Reading a report back is total: any JSON either reads as a Report that every renderer
can format, or raises ReportFormatError naming the field (never another exception)."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from probe.model import Report, ReportFormatError
from probe.render import FORMATS, render
from tests.test_pipeline import OPTIONS, FakeProbing, Family, ProbeState, run_check

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def real_report() -> dict[str, Any]:
    fake = FakeProbing({Family.IPV4: ProbeState.OPEN, Family.IPV6: ProbeState.FILTERED})
    return json.loads(render(run_check(OPTIONS, probing=fake.stage()), "json"))


REAL = real_report()
PATHS = [
    (key, index, field)
    for key in ("probes", "dns", "findings", "targets")
    for index, item in enumerate(REAL[key][:1])
    for field in item
]


def read_and_render(document: Any) -> None:
    try:
        report = Report.from_json(document)
    except ReportFormatError as exc:
        assert "\n" not in str(exc)
        return
    for fmt in FORMATS:
        render(report, fmt, verbose=True)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_any_json_reads_or_names_the_problem(document: Any) -> None:
    read_and_render(document)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(PATHS), json_values)
def test_a_real_report_with_one_field_replaced(path: tuple[str, int, str], value: Any) -> None:
    document = copy.deepcopy(REAL)
    key, index, field = path
    document[key][index][field] = value
    read_and_render(document)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["local", "options", "recommendation", "timings"]), json_values)
def test_a_real_report_with_one_section_replaced(key: str, value: Any) -> None:
    document = copy.deepcopy(REAL)
    document[key] = value
    read_and_render(document)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"probes": [None]}, "probes[0] is not an object"),
        ({"error": "interrupted", "exitCode": 0}, "exitCode 0 does not fit"),
        ({"exitCode": 3}, "exitCode 3 does not fit error None"),
        ({"schema": "voltprobe/v2"}, "schema is 'voltprobe/v2'"),
    ],
)
def test_known_damage_is_named(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ReportFormatError, match=re.escape(message)):
        Report.from_json({**REAL, **change})


def test_a_real_report_reads_back_to_the_same_document() -> None:
    assert Report.from_json(REAL).to_json() == REAL


def test_control_characters_never_reach_a_text_format() -> None:
    """A name from a hostile kubeconfig or pod log carries ESC: every text format (and the
    JUnit XML, which may not hold it at all) shows a replacement character instead."""
    import xml.etree.ElementTree as ET
    from dataclasses import replace as replaced

    report = Report.from_json(REAL)
    evil = replaced(report.targets[0], text="a\x1b[2Jevil\x07")
    hostile = replaced(report, targets=(evil, *report.targets[1:]))
    hostile = replaced(
        hostile, probes=tuple(replaced(p, target="a\x1b[2Jevil\x07") for p in report.probes)
    )
    for fmt in ("table", "wide", "short", "markdown", "junit"):
        text = render(hostile, fmt, verbose=True)
        assert "\x1b" not in text and "\x07" not in text, fmt
    ET.fromstring(render(hostile, "junit"))  # well-formed


def test_deeply_nested_json_is_a_named_error_not_a_crash(tmp_path) -> None:
    from probe.documents import parse_document
    from probe.errors import UsageError

    with pytest.raises(UsageError, match=r"d\.json: .*nested deeper"):
        parse_document("[" * 100_000 + "]" * 100_000, "d.json")
