"""Markdown views of the check registry, for the README (kept in sync by a test)."""

from __future__ import annotations

from probe.checks.registry import Registry


def checks_table(registry: Registry) -> str:
    lines = ["| id | severity | title | requires |", "|---|---|---|---|"]
    for spec in registry.specs():
        requires = ", ".join(spec.requires) or "-"
        lines.append(f"| {spec.id} | {spec.severity.value} | {spec.title} | {requires} |")
    return "\n".join(lines) + "\n"
