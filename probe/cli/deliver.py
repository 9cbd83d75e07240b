"""Run the check and deliver its report: the files first, then stdout; the exit code.

A ticket's report must not depend on stdout still being open, so the files are written
before anything is printed. A file that cannot be written makes the run exit 3 (the
report exists but was not delivered); otherwise the exit code is the report's own.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from probe.errors import CannotRunError
from probe.model import REPORT_BEGIN, REPORT_END, Report
from probe.options import CheckOptions, OutputOptions

TERMINATION_LOG_LIMIT = 4000  # Kubernetes keeps at most 4096 bytes


def run_and_deliver(options: CheckOptions, output: OutputOptions) -> int:
    """Run the pipeline, write every requested output (partial or not), pick the exit code."""
    from probe.pipeline import run_check

    def progress(message: str) -> None:
        if output.verbose:
            print(f"voltprobe: {message}", file=sys.stderr, flush=True)

    return deliver(run_check(options, progress), output)


def deliver(report: Report, output: OutputOptions) -> int:
    """Write the files, print the report; the exit code (`Report.exit_code`, or 3 when a
    requested file could not be written)."""
    from probe.render import render, render_json

    unwritten = write_files(report, output)
    sys.stdout.write(render(report, output.format, output.verbose, output.color, output.unicode))
    if output.log_json:
        sys.stdout.write(f"{REPORT_BEGIN}\n{render_json(report)}{REPORT_END}\n")
    sys.stdout.flush()
    for problem in unwritten:
        print(f"voltprobe: error: {problem}", file=sys.stderr)
    if report.error is not None:
        print(f"voltprobe: error: {report.error}", file=sys.stderr)
    if unwritten and report.error is None:
        return CannotRunError.exit_code
    return report.exit_code


def write_files(report: Report, output: OutputOptions) -> list[str]:
    """Write the requested files; returns what could not be written (each is tried)."""
    from probe.render import render

    outputs: list[tuple[str | None, Callable[[], str]]] = [
        (output.report_file, lambda: render(report, "json")),
        (output.values_out, lambda: render(report, "values")),
        (output.termination_log, lambda: termination_message(report.verdict)),
    ]
    unwritten = []
    for path, content in outputs:
        if not path:
            continue
        try:
            with open(path, "w", encoding="utf-8") as out:
                out.write(content())
        except OSError as exc:
            unwritten.append(f"cannot write {path}: {exc.strerror}")
    return unwritten


def termination_message(verdict: str) -> str:
    """The verdict cut to what Kubernetes keeps of a termination message (bytes, not chars)."""
    return verdict.encode()[:TERMINATION_LOG_LIMIT].decode(errors="ignore") + "\n"
