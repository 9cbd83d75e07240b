"""Run the lab's helper commands (ip, nft, sysctl) and fail loudly with their output."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence


class LabCommandError(RuntimeError):
    """A lab setup command failed; the message holds the command and its stderr."""


def run(args: Sequence[str], stdin: str | None = None, timeout: float = 30.0) -> str:
    """Run one command, return its stdout; raise LabCommandError on a non-zero exit."""
    proc = subprocess.run(
        list(args), input=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        output = proc.stderr.strip() or proc.stdout.strip()
        raise LabCommandError(f"{' '.join(args)} exited {proc.returncode}: {output}")
    return proc.stdout
