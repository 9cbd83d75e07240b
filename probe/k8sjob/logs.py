"""The report in a probe pod's log: the human part, and the JSON between the marker lines.

`voltprobe check --log-json` prints the report, then the JSON report between
`REPORT_BEGIN` and `REPORT_END`. Kubernetes interleaves stderr lines into the same log,
so everything is located by whole marker lines, never by position. Pure functions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from probe.model import REPORT_BEGIN, REPORT_END, SCHEMA
from probe.render import render_document


@dataclass(frozen=True)
class PodReport:
    human: str  # what the check printed before the JSON (the table, any stderr lines)
    report: dict[str, Any]  # the JSON report, as `voltprobe check -o json` prints it

    @property
    def verdict(self) -> str:
        return str(self.report.get("verdict") or "no verdict in the report")

    @property
    def exit_code(self) -> int:
        """The check's own exit code; anything unexpected counts as "could not run" (3)."""
        code = self.report.get("exitCode")
        return code if isinstance(code, int) and code in (0, 1, 2, 3) else 3


class NoReport(Exception):
    """The log holds no complete, parseable report; the message says what is missing."""


def extract(log: str) -> PodReport:
    """The last complete report in `log`; raises NoReport when there is none."""
    lines = log.replace("\r\n", "\n").split("\n")
    begins = [i for i, line in enumerate(lines) if line.strip() == REPORT_BEGIN]
    if not begins:
        raise NoReport("no report marker in the log (the check did not get to the end)")
    start = begins[-1]
    ends = [i for i in range(start + 1, len(lines)) if lines[i].strip() == REPORT_END]
    if not ends:
        raise NoReport("the report in the log is cut off (no end marker)")
    text = "\n".join(lines[start + 1 : ends[0]])
    try:
        report = json.loads(text)
    except ValueError as exc:
        raise NoReport(f"the report between the markers is not valid JSON ({exc})") from None
    if not isinstance(report, dict) or report.get("schema") != SCHEMA:
        raise NoReport(f"the JSON between the markers is not a {SCHEMA} report")
    human = "\n".join(lines[:start]).rstrip("\n")
    return PodReport(human=human + "\n" if human else "", report=report)


def tail(log: str, lines: int = 5) -> str:
    """The last non-empty lines, joined on one line, for an error message."""
    kept = [line.strip() for line in log.splitlines() if line.strip()][-lines:]
    return " | ".join(kept)


def render(found: PodReport, fmt: str) -> str:
    """The report in `-o` format. table is the pod's own human report, verbatim."""
    if fmt == "table":
        return found.human or found.verdict + "\n"
    return render_document(found.report, fmt)
