"""`-o short`: the verdict and one line per problem, for an issue template or a chat."""

from __future__ import annotations

from probe.model import Report, Severity
from probe.render.table import short_verdict


def render_short(report: Report) -> str:
    lines = [short_verdict(report)]
    for finding in report.findings:
        if finding.severity is Severity.INFO:
            continue
        subjects = f" [{', '.join(finding.subjects)}]" if finding.subjects else ""
        lines.append(f"{finding.id} {finding.severity.value} {finding.title}{subjects}")
    return "\n".join(lines) + "\n"
