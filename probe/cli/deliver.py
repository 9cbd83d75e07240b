"""Run the check and deliver its report: the files first, then stdout; the exit code.

A ticket's report must not depend on stdout still being open, so the files are written
before anything is printed. `exit_code` is the one place the final code is decided.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from probe.errors import CannotRunError
from probe.model import REPORT_BEGIN, REPORT_END, Method, Report, Severity
from probe.options import CheckOptions, OutputOptions

TERMINATION_LOG_LIMIT = 4000  # Kubernetes keeps at most 4096 bytes


def run_and_deliver(options: CheckOptions, output: OutputOptions) -> int:
    """Run the pipeline, write every requested output (partial or not), pick the exit code."""
    from probe.pipeline import run_check
    from probe.progress import Progress

    progress = Progress(output.verbose)
    try:
        report = run_check(options, progress)
    finally:
        progress.close()
    return deliver(report, output)


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
    for warning in unused_options(report, output):
        print(f"voltprobe: warning: {warning}", file=sys.stderr)
    if report.error is not None:
        print(f"voltprobe: error: {report.error}", file=sys.stderr)
    return exit_code(report, bool(unwritten), output.fail_on)


FAIL_ON_EXIT = 4


def exit_code(report: Report, undelivered: bool, fail_on: Severity | None) -> int:
    """The process's exit code: the report's own (`Report.exit_code`: 0 a family works,
    1 none does, 2/3/130 the run stopped); 3 when a requested file could not be written;
    4 when `--fail-on` trips on a run that would exit 0."""
    if report.error is not None:
        return report.exit_code
    if undelivered:
        return CannotRunError.exit_code
    code = report.exit_code
    if code == 0 and fail_on is not None:
        order = list(Severity)  # error, warning, info
        if any(order.index(f.severity) <= order.index(fail_on) for f in report.findings):
            return FAIL_ON_EXIT
    return code


def unused_options(report: Report, output: OutputOptions) -> list[str]:
    """Options that did nothing because auto mode chose connect() (never silent)."""
    raw_used = any(p.method is Method.RAW and p.address for p in report.probes)
    options = report.options
    if raw_used or options.get("mode") != "auto":
        return []
    why = options.get("rawNotUsed") or "no address was probed"
    unused = [
        name
        for name, on in (("--pcap", options.get("pcap")), ("--quick", options.get("quick")))
        if on
    ]
    return [f"{name} had no effect: raw SYN probing was not used ({why})" for name in unused]


def write_files(report: Report, output: OutputOptions) -> list[str]:
    """Write the requested files; returns what could not be written (each is tried)."""
    from probe.render import render

    values_out = output.values_out
    if values_out and not report.recommendation.ip_families and os.path.exists(values_out):
        # a FAIL or an incomplete run never replaces values that may work with a comment
        print(
            f"voltprobe: warning: {values_out} left as it was: nothing to recommend",
            file=sys.stderr,
        )
        values_out = None
    outputs: list[tuple[str | None, Callable[[], str]]] = [
        (output.report_file, lambda: render(report, "json")),
        (values_out, lambda: render(report, "values")),
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
