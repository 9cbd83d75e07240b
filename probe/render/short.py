"""`-o short`: the verdict and one line per problem, for an issue template or a chat."""

from __future__ import annotations

from probe.model import Report, Severity
from probe.render.table import short_verdict

SUBJECTS = 5  # subjects listed per line; the JSON lists them all


def render_short(report: Report) -> str:
    """`VPxxx severity title [subject, ..., and N more]` per error and warning, after the
    verdict; at most SUBJECTS subjects a line, each whole."""
    lines = [short_verdict(report)]
    for finding in report.findings:
        if finding.severity is Severity.INFO:
            continue
        listed = list(finding.subjects[:SUBJECTS])
        if len(finding.subjects) > SUBJECTS:
            listed.append(f"and {len(finding.subjects) - SUBJECTS} more")
        subjects = f" [{', '.join(listed)}]" if listed else ""
        lines.append(f"{finding.id} {finding.severity.value} {finding.title}{subjects}")
    return "\n".join(lines) + "\n"
