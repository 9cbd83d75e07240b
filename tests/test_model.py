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
