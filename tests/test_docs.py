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


def _sample(output: str, port: int) -> str:
    """A real run's table with the run-to-run noise made stable (port, version)."""
    from probe import __version__

    text = output.replace(str(port), "5555").replace(f"voltprobe {__version__}", "voltprobe X.Y.Z")
    return "```text\n" + text + "```\n"


def _block(name: str) -> str:
    return README.split(f"<!-- {name}:begin -->\n")[1].split(f"<!-- {name}:end -->")[0]


def test_readme_samples_are_real_runs() -> None:
    """Regenerate with VOLTPROBE_REGEN_README=1 (the test then rewrites README.md)."""
    import os

    from tests.support.processes import closed_port, run_cli

    done = run_cli("demo", env={"NO_COLOR": "1"})
    port = int(re.search(r"127\.0\.0\.1:(\d+) and", done.stderr).group(1))  # type: ignore[union-attr]
    closed = closed_port()
    failed = run_cli("check", "--peer", f"127.0.0.1:{closed},[::1]:{closed}", "--no-kube",
                     "--mode", "connect", env={"NO_COLOR": "1"})  # fmt: skip
    samples = {"sample": _sample(done.stdout, port), "sample-fail": _sample(failed.stdout, closed)}
    if os.environ.get("VOLTPROBE_REGEN_README"):
        text = README
        for name, sample in samples.items():
            text = text.replace(
                f"<!-- {name}:begin -->\n{_block(name)}", f"<!-- {name}:begin -->\n{sample}"
            )
        (ROOT / "README.md").write_text(text)
        return
    for name, sample in samples.items():
        assert _block(name) == sample, f"regenerate with VOLTPROBE_REGEN_README=1 ({name})"
    assert all(len(line) <= 80 for line in done.stdout.splitlines())
