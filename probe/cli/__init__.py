"""Command line: one module per command, arguments turned into frozen options at the edge.

    voltprobe check     probe/cli/check.py     (the report: probe/cli/deliver.py)
    voltprobe demo      probe/cli/demo.py
    voltprobe serve     probe/cli/serve.py
    voltprobe explain   probe/cli/explain.py
    voltprobe manifest  probe/cli/manifest.py
    voltprobe job       probe/cli/job.py
    voltprobe report    probe/cli/report.py     (the merge: probe/merge/)
    voltprobe inventory probe/cli/inventory.py

Exit codes: 0 a family qualifies; 1 none does (XDCR would not connect); 2 bad usage or
input; 3 the check could not run; 130 Ctrl-C. `main` alone catches `VoltprobeError` and
turns it into one line on stderr and its exit code; a report's own code is
`Report.exit_code`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from probe import __version__
from probe.cli import check, demo, explain, inventory, job, manifest, report, serve
from probe.cli.args import Parser
from probe.errors import CannotRunError, Interrupted, VoltprobeError, sanitize

COMMANDS = (check, report, inventory, demo, serve, explain, manifest, job)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="voltprobe",
        description="Check which IP family reaches a peer VoltDB cluster's XDCR (DR) port "
        "and print the Helm ipFamilies values to use.",
    )
    parser.add_argument("--version", action="version", version=f"voltprobe {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        # an ASCII-only terminal or PYTHONIOENCODING=ascii: a character it cannot show
        # (a name, an arrow) is escaped, never the end of the report (exit 3)
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help(sys.stderr)
            return 2
        return int(args.func(args))
    except VoltprobeError as exc:
        # messages echo input (a peer, a log, a file name): no control characters
        print(f"voltprobe: error: {sanitize(str(exc), 2000)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("voltprobe: interrupted", file=sys.stderr)
        return Interrupted.exit_code
    except BrokenPipeError:
        # the reader went away (`| head`): the report could not be delivered
        return CannotRunError.exit_code


def console() -> None:
    """The `voltprobe` command: `main`, then exit without waiting for worker threads.

    A stopped run may leave a stage's thread blocked in an API call or a DNS lookup;
    the interpreter's normal exit would run its finalisation beside such a daemon
    thread (SIGABRT when it holds stderr's lock), so the process exits at once once
    stdout and stderr are flushed. A stdout that is closed or full is not a traceback.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            code = code or CannotRunError.exit_code
    os._exit(code)


if __name__ == "__main__":
    console()
