"""Renderers: one module per output format. They format a Report; they decide nothing."""

from __future__ import annotations

import json

from probe.model import Report

FORMATS = ("table", "json", "yaml", "values")


def render(report: Report, fmt: str, verbose: bool = False) -> str:
    if fmt == "json":
        return render_json(report)
    if fmt == "yaml":
        import yaml

        return yaml.safe_dump(report.to_json(), sort_keys=False, allow_unicode=True)
    if fmt == "values":
        from probe.render.values import render_values

        return render_values(report)
    from probe.render.table import render_table

    return render_table(report, verbose)


def render_json(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2) + "\n"
