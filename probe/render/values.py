"""`-o values`: only the Helm values snippet, for `helm upgrade -f FILE`."""

from __future__ import annotations

import yaml

from probe.model import Report


def render_values(report: Report) -> str:
    """The snippet; a YAML comment saying why when nothing works."""
    rec = report.recommendation
    if not rec.ip_families:
        reasons = rec.rationale or ("no IP family works",)
        lines = ["# voltprobe: no ipFamilies value can be recommended", f"# {report.verdict}"]
        lines += [f"# - {reason}" for reason in reasons]
        return "\n".join(lines) + "\n"
    header = f"# voltprobe {report.version}: {report.verdict}\n"
    return header + yaml.safe_dump(rec.helm_values, sort_keys=False)
