"""`voltprobe explain`: what a finding id means and what to do about it."""

from __future__ import annotations

import argparse
from typing import Any

from probe.errors import UsageError


def add_parser(commands: Any) -> None:
    explain = commands.add_parser("explain", help="explain a finding id (VPxxx), or list them")
    explain.add_argument("check_id", nargs="?", metavar="VPxxx")
    explain.add_argument(
        "--markdown",
        action="store_true",
        help="print the table of checks as Markdown (as in the README)",
    )
    explain.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from probe.checks import DEFAULT_REGISTRY

    if args.markdown:
        from probe.render.markdown import checks_table

        print(checks_table(DEFAULT_REGISTRY), end="")
        return 0
    if not args.check_id:
        for spec in DEFAULT_REGISTRY.specs():
            print(f"{spec.id}  {spec.severity.value:<7}  {spec.title}")
        return 0
    found = DEFAULT_REGISTRY.get(args.check_id)
    if found is None:
        raise UsageError(f"unknown check id {args.check_id!r}: `voltprobe explain` lists them")
    print(_paragraph(f"{found.id}: {found.title} (severity: {found.severity.value})") + "\n")
    print(_paragraph(found.explain) + "\n")
    print(_paragraph(f"Remedy: {found.remedy}"))
    return 0


def _paragraph(text: str) -> str:
    """A docstring or remedy as one paragraph in 80 columns (docstrings keep their
    source indentation after the first line)."""
    import textwrap

    return textwrap.fill(" ".join(text.split()), width=80, break_on_hyphens=False)
