"""Differential test: every lab scenario, probed with raw SYNs and with connect(), must
give the same state for every (target, family, address). Reasons may differ (raw ones
are richer: ICMP type/code and sender for every family); methods must be what was asked.
"""

from __future__ import annotations

from typing import Any

import pytest

from probe.model import Method

from .scenarios import SCENARIOS, Scenario
from .topology import Lab
from .voltcheck import CheckRun, compare, run_scenario

pytestmark = pytest.mark.lab


def states(run: CheckRun) -> dict[tuple[str, str, str | None], str]:
    report: dict[str, Any] = run.report or {}
    return {
        (row["target"], row["family"], row["address"]): row["state"]
        for row in report.get("probes", [])
    }


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_raw_and_connect_agree(clean_lab: Lab, scenario: Scenario) -> None:
    connect = run_scenario(clean_lab, scenario, Method.CONNECT)
    raw = run_scenario(clean_lab, scenario, Method.RAW)
    details = f"\n\nraw:\n{raw.describe()}\n\nconnect:\n{connect.describe()}"
    assert raw.report is not None, details
    assert states(raw) == states(connect), details
    assert raw.exit_code == connect.exit_code, details
    # every row, probed or not (no address, DNS error), carries the method of the run
    assert {row["method"] for row in raw.report["probes"]} <= {Method.RAW.value}, details
    problems = compare(scenario, raw, Method.RAW)
    assert not problems, "\n".join(problems) + details
