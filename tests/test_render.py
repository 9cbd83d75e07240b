"""Renderers format; they never lose or change what the report says."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from probe.render import dumps_lines

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_line_json_parses_back_to_the_same_document(document: dict) -> None:
    assert json.loads(dumps_lines(document)) == document


def test_line_json_puts_one_row_per_line() -> None:
    rows = [{"state": "open", "n": i} for i in range(3)]
    lines = dumps_lines({"schema": "voltprobe/v1", "probes": rows, "empty": []}).splitlines()
    assert lines[2] == '  "probes": ['
    assert lines[3:6] == [
        f'    {{"state": "open", "n": {i}}}' + ("," if i < 2 else "") for i in range(3)
    ]
    assert lines[-2] == '  "empty": []'
