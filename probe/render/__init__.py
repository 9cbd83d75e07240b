"""Renderers: one module per output format. They format a Report; they decide nothing.

json, yaml and values are views of the report's JSON form, so a report read back from
a Job's log (`voltprobe job`) renders exactly like one made here.
"""

from __future__ import annotations

import json
from typing import Any

from probe.model import Report

FORMATS = ("table", "json", "yaml", "values")


def render(report: Report, fmt: str, verbose: bool = False) -> str:
    if fmt == "table":
        from probe.render.table import render_table

        return render_table(report, verbose)
    return render_document(report.to_json(), fmt)


def render_document(document: dict[str, Any], fmt: str) -> str:
    """json, yaml or values from the report's JSON form."""
    if fmt == "json":
        return dumps_lines(document)
    if fmt == "yaml":
        import yaml

        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    if fmt == "values":
        from probe.render.values import render_values

        return render_values(document)
    raise ValueError(f"unknown format {fmt!r}")


def render_json(report: Report) -> str:
    return render_document(report.to_json(), "json")


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
