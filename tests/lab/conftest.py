"""Every test under tests/lab/ gets the lab fixtures (see fixtures.py); every test marked
`lab` goes through the lab's precondition check (skip, or fail under VOLTPROBE_REQUIRE_LAB=1),
even if it uses none of the fixtures.
"""

from __future__ import annotations

import pytest

from .fixtures import clean_lab, lab, lab_run

__all__ = ["clean_lab", "lab", "lab_run"]


@pytest.fixture(autouse=True)
def _lab_preconditions(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("lab") is not None:
        request.getfixturevalue("lab_run")
