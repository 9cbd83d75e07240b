"""Run the check and deliver its report: the files first, then stdout; the exit code.

A ticket's report must not depend on stdout still being open, so the files are written
before anything is printed (probe.outfile: a temporary file renamed into place, never
through a symlink; pipes and devices in place, never blocking past a bound). Every
destination is checked before the run starts (exit 2 naming the file). `exit_code` is
the one place the process's exit code is decided.

While the check runs, SIGTERM (what a Job's pod gets) and SIGINT (Ctrl-C) only ask the
run to stop (`probe.stop.RunStop`): the run keeps what it learned and the report is
written as usual, marked `"complete": false`, exit 3 (SIGTERM, the deadline) or 130
(Ctrl-C). An incomplete run writes no values file: it recommends nothing.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

from probe.errors import CannotRunError, Interrupted, sanitize
from probe.model import REPORT_BEGIN, REPORT_END, Finding, Method, Report, Severity
from probe.options import CheckOptions, OutputOptions
from probe.stop import RunStop

if TYPE_CHECKING:
    from probe.merge.matrix import Merged

TERMINATION_LOG_LIMIT = 4000  # Kubernetes keeps at most 4096 bytes
STDOUT = "-"  # --report-file -: the JSON report on stdout (with -o json)
FAIL_ON_EXIT = 4


def check_outputs(output: OutputOptions) -> None:
    """Raise UsageError (exit 2) for a destination that cannot be written, before the run."""
    from probe.outfile import check_destination

    for option, path in (
        ("--report-file", output.report_file),
        ("--values-out", output.values_out),
        ("--termination-log", output.termination_log),
    ):
        if path and path != STDOUT:
            check_destination(option, path)


def run_and_deliver(options: CheckOptions, output: OutputOptions) -> int:
    """Run the pipeline, write every requested output (partial or not), pick the exit code."""
    from probe.pipeline import run_check
    from probe.progress import Progress

    check_outputs(output)
    stop = RunStop.after(options.run_deadline())
    progress = Progress(output.verbose)
    with stop_on_signals(stop):
        try:
            report = run_check(options, progress, stop=stop)
        finally:
            progress.close()
        return deliver(report, output)


@contextmanager
def stop_on_signals(stop: RunStop) -> Iterator[None]:
    """SIGTERM and SIGINT ask `stop` to stop instead of killing the process (main thread
    only: elsewhere Python cannot install handlers, and the defaults stay)."""

    def on_signal(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if signum == signal.SIGINT:
            stop.request("interrupted", Interrupted.exit_code)
        else:
            stop.request(f"stopped by {name}")

    try:
        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def deliver(report: Report, output: OutputOptions) -> int:
    """Write the files, print the report; the exit code (see `exit_code`)."""
    from probe.render import render, render_json

    unwritten = write_files(report, output)
    try:
        if sys.stdout is None:  # started with file descriptor 1 closed
            raise OSError(errno.EBADF, "stdout is closed")
        style = (output.verbose, output.color, output.unicode)
        sys.stdout.write(render(report, output.format, *style))
        if output.log_json:
            sys.stdout.write(f"{REPORT_BEGIN}\n{render_json(report)}{REPORT_END}\n")
        sys.stdout.flush()
    except (OSError, ValueError) as exc:  # closed (ValueError), full (ENOSPC), broken pipe
        unwritten.append(f"cannot write the report to stdout: {_why(exc)}")
        # the interpreter flushes stdout again at exit: give it somewhere harmless
        sys.stdout = open(os.devnull, "w")
    for problem in unwritten:
        _say(f"voltprobe: error: {problem}")
    for warning in unused_options(report, output):
        _say(f"voltprobe: warning: {warning}")
    if report.error is not None:
        _say(f"voltprobe: error: {sanitize(report.error, 1000)}")
    code = exit_code(report, bool(unwritten), output.fail_on)
    if code == FAIL_ON_EXIT and output.fail_on is not None:
        _say(f"voltprobe: --fail-on {output.fail_on.value}: a finding of that severity (exit 4)")
    return code


def exit_code(report: Report, undelivered: bool, fail_on: Severity | None) -> int:
    """The process's exit code: the report's own (`Report.exit_code`: 0 a family works,
    1 none does, 2/3/130 the run stopped); 3 when a requested output could not be written;
    4 when `--fail-on` trips on a run that would exit 0."""
    if report.error is not None:
        return report.exit_code
    if undelivered:
        return CannotRunError.exit_code
    code = report.exit_code
    if code == 0 and fail_on_trips(report.findings, fail_on):
        return FAIL_ON_EXIT
    return code


def merged_exit_code(merged: Merged, fail_on: Severity | None) -> int:
    """`voltprobe report`'s and multi-context `job run`'s code: the merge's own (0 every
    cluster has a family, 1 one has none, 3 a direction was not measured); 4 when
    `--fail-on` trips on a merge that would exit 0. The findings it looks at are every
    input report's, as the merge lists them (`Merged.findings`: VP502, one direction
    only, is left out since the merge covers both); the merge adds none of its own."""
    code = merged.exit_code
    if code == 0 and fail_on_trips((f for _, f in merged.findings), fail_on):
        return FAIL_ON_EXIT
    return code


def fail_on_trips(findings: Iterable[Finding], fail_on: Severity | None) -> bool:
    """Whether a finding is of `fail_on`'s severity or worse (never when it is None)."""
    if fail_on is None:
        return False
    order = list(Severity)  # error, warning, info
    return any(order.index(f.severity) <= order.index(fail_on) for f in findings)


def unused_options(report: Report, output: OutputOptions) -> list[str]:
    """Options that did nothing because auto mode chose connect() (never silent)."""
    raw_used = any(p.method is Method.RAW and p.address for p in report.probes)
    options = report.options
    if raw_used or options.get("mode") != "auto":
        return []
    why = options.get("rawNotUsed") or "no address was probed"
    asked = (("--pcap", options.get("pcap")), ("--quick", options.get("quick")))
    return [
        f"{name} had no effect: raw SYN probing was not used ({why})" for name, on in asked if on
    ]


def write_files(report: Report, output: OutputOptions) -> list[str]:
    """Write the requested files; returns what could not be written (each is tried).
    The values file only from a complete run that recommends a family: a FAIL never
    replaces values that may work with a comment."""
    from probe.outfile import write_output
    from probe.render import render

    unwritten = []
    values_out = output.values_out
    if values_out and not report.complete:
        unwritten.append(
            f"{sanitize(values_out)} not written: the run did not finish, so it recommends nothing"
        )
        values_out = None
    elif values_out and not report.recommendation.ip_families and os.path.exists(values_out):
        _say(f"voltprobe: warning: {sanitize(values_out)} left as it was: nothing to recommend")
        values_out = None
    outputs: list[tuple[str | None, Callable[[], str]]] = [
        (values_out, lambda: render(report, "values")),
        (output.termination_log, lambda: termination_message(report)),
    ]
    if output.report_file != STDOUT:  # `-` with -o json: stdout carries it
        outputs.insert(0, (output.report_file, lambda: render(report, "json")))
    for path, content in outputs:
        if not path:
            continue
        try:
            write_output(path, content().encode())
        except OSError as exc:
            unwritten.append(f"cannot write {sanitize(path)}: {_why(exc)}")
    return unwritten


def termination_message(report: Report) -> str:
    """The verdict on one line, cut to what Kubernetes keeps of a termination message
    (bytes, not chars); an incomplete run adds `{"complete": false, "exitCode": N}`."""
    extra = ""
    if not report.complete:
        extra = json.dumps({"complete": False, "exitCode": report.exit_code}) + "\n"
    room = TERMINATION_LOG_LIMIT - len(extra)
    line = sanitize(" ".join(report.verdict.split()), TERMINATION_LOG_LIMIT)
    return line.encode()[:room].decode(errors="ignore") + "\n" + extra


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)


def _say(line: str) -> None:
    """One line on stderr; a closed stderr is not worth a traceback."""
    if sys.stderr is None:
        return
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass
