"""End to end: the installed `voltprobe check` in a prober namespace, one scenario each."""

from __future__ import annotations

import pytest

from .scenarios import SCENARIOS, Scenario
from .topology import Lab
from .voltcheck import compare, run_check

pytestmark = pytest.mark.lab


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_scenario(clean_lab: Lab, scenario: Scenario) -> None:
    clean_lab.set_rules(scenario.rules)
    run = run_check(clean_lab.prober(scenario.prober), scenario.check_args())
    problems = compare(scenario, run)
    assert not problems, "\n".join(problems) + "\n\n" + run.describe()
