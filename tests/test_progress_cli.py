"""The probe stage's live count (`n of m answered`) from the real CLI, on loopback: in a
pseudo-terminal of 80 columns, and as -v lines in a pipe."""

from __future__ import annotations

import os
import re

from tests.lab.test_terminal import in_terminal
from tests.support.blackhole import blackhole
from tests.support.processes import VOLTPROBE, closed_port, responder, run_cli

ANSI = re.compile(r"\033\[[0-9;]*[mK]")
COUNTED = re.compile(r"voltprobe: probing 2 address\(es\) on the DR port: (\d) of 2 answered")


def test_a_pipe_with_verbose_ends_the_probe_stage_on_m_of_m() -> None:
    closed = closed_port()
    with responder() as port:
        done = run_cli(
            "check", "--no-kube", "--mode", "connect", "-v",
            "--peer", f"127.0.0.1:{port},127.0.0.1:{closed}",
        )  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr  # one closed
    lines = done.stderr.splitlines()
    assert "voltprobe: probing 2 address(es) on the DR port" in lines
    final = [line for line in lines if COUNTED.match(line)]
    assert len(final) == 1 and final[0].startswith(
        "voltprobe: probing 2 address(es) on the DR port: 2 of 2 answered in "
    ), done.stderr


def test_a_terminal_shows_the_count_while_a_probe_waits() -> None:
    """One probe answers at once (reset), one never does (a full accept queue): for the
    2 s timeout the live line says 1 of 2 answered, within 80 columns."""
    closed = closed_port()
    with blackhole() as silent:
        argv = [
            VOLTPROBE, "check", "--no-kube", "--mode", "connect", "--timeout", "2",
            "--data-path", "off", "--peer", f"127.0.0.1:{closed},127.0.0.1:{silent}",
        ]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
        _code, output = in_terminal(argv, {**env, "TERM": "xterm", "LANG": "C.UTF-8"})
    drawn = re.split(r"[\r\n]", ANSI.sub("", output))
    counted = [line for line in drawn if COUNTED.match(line)]
    assert counted, output
    assert all(COUNTED.match(line).group(1) == "1" for line in counted), output  # type: ignore[union-attr]
    assert all(re.fullmatch(r".*answered\.\.\. \d s", line) for line in counted), output
    assert all(len(line) <= 80 for line in drawn), output
