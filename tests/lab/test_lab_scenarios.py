"""End to end: the installed `voltprobe check` in a prober namespace, one scenario each.

A raw-vs-connect differential test reuses the same data:
    run = run_scenario(clean_lab, scenario, Method.RAW); compare(scenario, run, Method.RAW)
"""

from __future__ import annotations

import pytest

from .scenarios import SCENARIOS, Scenario
from .topology import Lab
from .voltcheck import compare, run_scenario

pytestmark = pytest.mark.lab


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_scenario(clean_lab: Lab, scenario: Scenario) -> None:
    run = run_scenario(clean_lab, scenario)
    problems = compare(scenario, run)
    assert not problems, "\n".join(problems) + "\n\n" + run.describe()
