"""The checklist as a person sees it: `voltprobe check` in a pseudo-terminal of 80 columns
inside the lab, on PASS, FAIL, DNS-error and many-endpoint scenarios.

Every line fits 80 columns, the verdict is the first line after the header and the last
line, every non-passing check has its hint, colour is used on the terminal and not with
NO_COLOR, and the JSON report of the same run keeps the full verdict.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from pathlib import Path

import pytest

from .responder import voltprobe_script
from .scenarios import SCENARIOS, Scenario
from .topology import Lab
from .voltcheck import PROBE_TIMEOUT

pytestmark = pytest.mark.lab

ANSI = re.compile(r"\033\[[0-9;]*m")
CHOSEN = (
    "both-open",
    "both-dropped",
    "dns-servfail",
    "per-pod-literals-one-ipv4-host-unreachable",
    "ipv4-rejected-admin-prohibited",
)


def in_terminal(argv: list[str], env: dict[str, str], columns: int = 80) -> tuple[int, str]:
    """Run argv with stdout and stderr on a pty of `columns` x 24; (exit code, output)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    proc = subprocess.Popen(argv, stdout=follower, stderr=follower, env=env, close_fds=True)
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        elif proc.poll() is not None:
            break
    code = proc.wait(timeout=10)
    os.close(leader)
    return code, b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


def problems_have_hints(lines: list[str]) -> None:
    """Each problem line is followed by its hint, past the finding's continuation lines
    (subjects that did not fit after the title, or a wrapped title), indented 6."""
    for index, line in enumerate(lines):
        problem = re.match("  [\u00d7\u203c] (VP\\d{3}) ", line)
        if not problem:
            continue
        after = lines[index + 1 : index + 4]
        hint = next(i for i, x in enumerate(after) if not x.startswith("      ") or "hint:" in x)
        assert after[hint].strip() == f"hint: voltprobe explain {problem.group(1)}", after


@pytest.mark.parametrize("verbose", [[], ["-v"]], ids=["plain", "verbose"])
@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.id in CHOSEN], ids=lambda s: s.id)
def test_the_checklist_fits_80_columns(
    clean_lab: Lab, scenario: Scenario, verbose: list[str], tmp_path: Path
) -> None:
    clean_lab.set_rules(scenario.rules)
    report_file = tmp_path / "report.json"
    argv = clean_lab.prober(scenario.prober).exec_args(
        str(voltprobe_script()), "check", "--no-kube", "--mode", "connect", *verbose,
        "--timeout", PROBE_TIMEOUT, "--report-file", str(report_file), *scenario.check_args(),
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    code, output = in_terminal(argv, {**env, "TERM": "xterm", "LANG": "C.UTF-8"})
    assert code == scenario.exit_code, output
    assert "\033[" in output  # coloured on a terminal
    lines = [ANSI.sub("", line) for line in output.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("voltprobe: ")]  # progress
    assert all(len(line) <= 80 for line in lines), "\n".join(lines)
    verdict = lines[1]
    assert verdict[2:6] in ("PASS", "FAIL") and lines[-1] == verdict, "\n".join(lines)
    problems_have_hints(lines)
    if verbose:  # the probe rows are there, whole
        assert any(line.startswith("Probe rows") for line in lines), "\n".join(lines)
        assert any(line.startswith("Timings: ") for line in lines), "\n".join(lines)
    report = json.loads(report_file.read_text())
    assert report["verdict"].startswith(verdict[2:].split(";")[0])  # the JSON keeps it whole

    code, plain = in_terminal(argv, {**env, "NO_COLOR": "1", "LANG": "C.UTF-8"})
    assert code == scenario.exit_code and "\033[3" not in plain


def test_demo_verbose_fits_80_columns() -> None:
    """`voltprobe demo -v`: the probe rows and the timings line within 80 columns, the
    timings broken between tokens (`inventory 33 ms`), never inside one."""
    env = {**os.environ, "TERM": "xterm", "LANG": "C.UTF-8"}
    code, output = in_terminal([str(voltprobe_script()), "demo", "-v"], env)
    assert code == 0, output
    lines = [ANSI.sub("", line) for line in output.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("voltprobe: ")]  # progress
    assert all(len(line) <= 80 for line in lines), "\n".join(lines)
    rows = [line for line in lines if re.match(r"(127\.0\.0\.1|::1) +IPv[46] ", line)]
    assert len(rows) in (1, 2), "\n".join(lines)  # ::1 when this host has it
    start = next(i for i, line in enumerate(lines) if line.startswith("Timings: "))
    timings = " ".join(line.strip() for line in lines[start:-1])
    assert "…" not in timings and re.fullmatch(r"Timings: (\w+ \d+ ms, )*\w+ \d+ ms", timings)
