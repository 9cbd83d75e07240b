"""Renderers: one module per output format. Each takes a `Report` and decides nothing.

A report read back from a Job's log (`voltprobe job`, `Report.from_json`) is the same
typed value, so it renders exactly like one made here.
"""

from __future__ import annotations

import json
from typing import Any

from probe.model import Report

FORMATS = ("table", "wide", "short", "json", "yaml", "values", "markdown", "junit")


def render(
    report: Report, fmt: str, verbose: bool = False, color: bool = False, unicode: bool = True
) -> str:
    """The report in format `fmt` (one of FORMATS); raises ValueError for another.
    `color` and `unicode` shape the table's marks (the CLI knows the terminal). Control
    characters from the report's text (names from a hostile kubeconfig or pod log) never
    reach the terminal or an XML/Markdown file; json and yaml escape them themselves."""
    text = _render(report, fmt, verbose, color, unicode)
    return text if fmt in ("json", "yaml") else without_controls(text, keep_ansi=color)


def without_controls(text: str, keep_ansi: bool = False) -> str:
    """`text` with C0/C1 control characters other than newline and tab replaced by
    U+FFFD; `keep_ansi` keeps our own colour codes (ESC [ ... m) and nothing else."""
    import re

    if keep_ansi:
        parts = re.split(r"(\033\[[0-9;]*m)", text)
        return "".join(p if i % 2 else without_controls(p) for i, p in enumerate(parts))
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", "\ufffd", text)


def _render(report: Report, fmt: str, verbose: bool, color: bool, unicode: bool) -> str:
    if fmt == "table":
        from probe.render.table import Style, render_table

        return render_table(report, verbose, Style(unicode=unicode, color=color))
    if fmt == "wide":
        from probe.render.wide import render_wide

        return render_wide(report, verbose=True)
    if fmt == "short":
        from probe.render.short import render_short

        return render_short(report)
    if fmt == "json":
        return render_json(report)
    if fmt == "yaml":
        import yaml

        return yaml.safe_dump(report.to_json(), sort_keys=False, allow_unicode=True)
    if fmt == "values":
        from probe.render.values import render_values

        return render_values(report)
    if fmt == "markdown":
        from probe.render.markdown import report_markdown

        return report_markdown(report, verbose)
    if fmt == "junit":
        from probe.render.junit import render_junit, report_cases

        return render_junit(report_cases(report))
    raise ValueError(f"unknown format {fmt!r}")


def render_json(report: Report) -> str:
    return dumps_lines(report.to_json())


def dumps_lines(document: dict[str, Any]) -> str:
    """JSON with one list item (probe row, finding...) per line: two reports diff line
    by line, and the C encoder formats each row (indent=2 on 1,000 rows is slow)."""
    lines = ["{"]
    last = len(document) - 1
    for index, (key, value) in enumerate(document.items()):
        comma = "," if index < last else ""
        if isinstance(value, list) and value:
            items = ",\n".join("    " + json.dumps(item) for item in value)
            lines.append(f"  {json.dumps(key)}: [\n{items}\n  ]{comma}")
        elif isinstance(value, dict) and value:
            nested = json.dumps(value, indent=2).replace("\n", "\n  ")
            lines.append(f"  {json.dumps(key)}: {nested}{comma}")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"
