"""The report in a probe pod's log: the human part, and the JSON between the marker lines.

`voltprobe check --log-json` prints the report, then the JSON report between
`REPORT_BEGIN` and `REPORT_END`; `extract` reads it back as a typed `Report`.
Kubernetes interleaves stderr lines into the same log,
so everything is located by whole marker lines, never by position. Pure functions.
"""

from __future__ import annotations

import re

from probe.jsondoc import DocumentError, load_json, printable
from probe.model import REPORT_BEGIN, REPORT_END, Report, ReportFormatError


class NoReport(Exception):
    """The log holds no complete, parseable report; the message says what is missing."""


def extract(log: str) -> Report:
    """The last complete report in `log`, typed; raises NoReport when there is none."""
    text = report_text(log)
    try:
        # printed on the user's terminal: a hostile log's escape sequences are escaped
        return Report.from_json(printable(load_json(text, "the report between the markers")))
    except ReportFormatError as exc:
        raise NoReport(f"the report between the markers is not readable: {exc}") from None
    except DocumentError as exc:
        raise NoReport(str(exc)) from None


# `kubectl logs --timestamps` puts an RFC 3339 time before every line
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) ")


def report_text(log: str) -> str:
    """The text between the last complete pair of marker lines (a log of two runs gives
    the later one), with `kubectl logs --timestamps` prefixes removed; raises NoReport."""
    lines = log.replace("\r\n", "\n").split("\n")
    if not any(line.strip() == REPORT_BEGIN for line in lines):
        lines = [_TIMESTAMP.sub("", line, count=1) for line in lines]
    begins = [i for i, line in enumerate(lines) if line.strip() == REPORT_BEGIN]
    if not begins:
        raise NoReport("no report marker in the log (the check did not get to the end)")
    start = begins[-1]
    ends = [i for i in range(start + 1, len(lines)) if lines[i].strip() == REPORT_END]
    if not ends:
        raise NoReport("the report in the log is cut off (no end marker)")
    return "\n".join(lines[start + 1 : ends[0]])


def tail(log: str, lines: int = 5) -> str:
    """The last non-empty lines, joined on one line, for an error message."""
    kept = [line.strip() for line in log.splitlines() if line.strip()][-lines:]
    return " | ".join(kept)
