"""The README stays true: its checks table, its commands and its JSON keys."""

from __future__ import annotations

import re
from pathlib import Path

from probe.checks import DEFAULT_REGISTRY
from probe.render.markdown import checks_table

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_checks_table_matches_the_registry() -> None:
    block = README.split("<!-- checks:begin -->\n")[1].split("<!-- checks:end -->")[0]
    assert block == checks_table(DEFAULT_REGISTRY), "regenerate with `voltprobe explain --markdown`"


def test_readme_starts_with_two_setup_commands_and_ci_runs_the_test_one() -> None:
    commands = re.findall(r"```sh\n(.+?)\n```", README)
    demo, tests = commands[0], commands[1]
    assert demo.endswith("voltprobe demo")
    assert "pytest" in tests
    ci = (ROOT / ".ci" / "run").read_text()
    assert tests in ci, ".ci/run must call exactly the README's test command"


def test_every_state_in_the_model_is_documented() -> None:
    from probe.model import ProbeState

    for state in ProbeState:
        assert f"| `{state.value}` |" in README, state
