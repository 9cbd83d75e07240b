"""`voltprobe report`: merge reports made in different clusters into one verdict.

    voltprobe report A.json B.json [C.json ...]   direction x family matrix, values per cluster
    voltprobe report ONE.json -o markdown         one report in another format
    voltprobe report --diff OLD.json NEW.json     what changed between two runs of one cluster

Inputs: `check` reports (JSON or YAML, any voltprobe/v1 including 0.1's), a Job's raw
log (the report between its marker lines) and `voltprobe inventory` output (what a
cluster advertises). Exit codes: 0 every cluster has a family; 1 any has none; 3 a
direction could not be measured (the matrix says which); 2 bad input (one line naming
the file). With --diff, and for a single report, the (new) report's own code.

--fail-on warning|error (as `check`'s): exit 4 instead of 0 when a finding of that
severity or worse is in the merge (every input report's findings, as the merge lists
them), in the single report, or with --diff in the NEW report (the state the gate is
about, whether or not OLD had it too).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from probe.cli.args import add_fail_on_option, add_report_options

if TYPE_CHECKING:
    from probe.model import Severity

FORMATS = ("table", "json", "yaml", "markdown", "junit")


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "report",
        help="merge the reports of every cluster: both directions, values per cluster",
        description="Merge `voltprobe check` reports (or Job logs) made in different clusters "
        "into a direction x family matrix and one recommendation per cluster: cluster X's "
        "ipFamilies is a family in which every other cluster reached every DR endpoint X "
        "advertises. Exit 0: every cluster has a family; 1: one has none; 3: a direction "
        "was not measured; 2: bad input; 4: --fail-on tripped (a finding in any input "
        "report; with --diff, in NEW).",
    )
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="reports (JSON/YAML), Job logs or inventories; '-' reads stdin",
    )
    parser.add_argument(
        "--diff",
        action="store_true",
        help="compare two runs of the same cluster: OLD NEW (states, findings, recommendation)",
    )
    add_report_options(
        parser,
        FORMATS,
        "table",
        "table is the direction x family matrix and each cluster's Helm snippet in 80 "
        "columns, markdown a ticket, junit one test case per direction x family for CI "
        "gates, json and yaml the merged result (one report alone: that report in the "
        "format)",
        verbose_help="every detail in the table: full cluster names, every check",
        color=False,
    )
    add_fail_on_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from probe import __version__
    from probe.cli.deliver import exit_code, merged_exit_code
    from probe.documents import InventoryReport, read_document
    from probe.errors import UsageError
    from probe.merge.matrix import Input, merge
    from probe.model import Report
    from probe.render import render, without_controls
    from probe.render.merged import render_merged

    if args.files.count("-") > 1:
        raise UsageError("stdin ('-') can be given once")
    inputs = [Input(path, read_document(path)) for path in args.files]
    if args.diff:
        return _diff(args, inputs)
    if len(inputs) == 1:
        (only,) = inputs
        if isinstance(only.document, InventoryReport):
            raise UsageError(
                f"{only.name}: an inventory alone has nothing to merge: give the reports "
                "of the clusters that probed it"
            )
        assert isinstance(only.document, Report)
        sys.stdout.write(render(only.document, args.output, args.verbose))
        return _gated(args, exit_code(only.document, False, _fail_on(args)))
    merged = merge(inputs, __version__)
    sys.stdout.write(without_controls(render_merged(merged, args.output, args.verbose)))
    sys.stdout.flush()
    if args.output != "table":
        print(f"voltprobe report: {merged.verdict}", file=sys.stderr)
    return _gated(args, merged_exit_code(merged, _fail_on(args)))


def _fail_on(args: argparse.Namespace) -> Severity | None:
    from probe.model import Severity

    return Severity(args.fail_on) if args.fail_on else None


def _gated(args: argparse.Namespace, code: int) -> int:
    """The exit code, saying on stderr when --fail-on is why it is 4."""
    from probe.cli.deliver import FAIL_ON_EXIT

    if code == FAIL_ON_EXIT:
        print(
            f"voltprobe report: --fail-on {args.fail_on}: a finding of that severity (exit 4)",
            file=sys.stderr,
        )
    return code


def _diff(args: argparse.Namespace, inputs: list[Any]) -> int:
    from probe.cli.deliver import exit_code
    from probe.errors import UsageError
    from probe.merge.diff import diff
    from probe.model import Report
    from probe.render import without_controls
    from probe.render.merged import render_diff

    if len(inputs) != 2:
        raise UsageError(f"--diff takes two reports (OLD NEW), not {len(inputs)}")
    old, new = inputs
    for item in inputs:
        if not isinstance(item.document, Report):
            raise UsageError(f"{item.name}: --diff compares reports, not inventories")
    if args.output == "junit":
        raise UsageError("--diff has no junit format (use table, json, yaml or markdown)")
    change = diff(old.document, new.document, old.name, new.name)
    sys.stdout.write(without_controls(render_diff(change, args.output)))
    # the gate is on NEW: the state the runs reached (change.exit_code is NEW's own)
    return _gated(args, exit_code(new.document, False, _fail_on(args)))
