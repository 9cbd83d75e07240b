"""`-o values`: only the Helm values snippet, for `helm upgrade -f FILE`."""

from __future__ import annotations

from typing import Any

import yaml


def render_values(document: dict[str, Any]) -> str:
    """The snippet from a report's JSON form; a YAML comment saying why when nothing works."""
    rec = document.get("recommendation") or {}
    verdict = document.get("verdict", "")
    if not rec.get("ipFamilies"):
        reasons = rec.get("rationale") or ["no IP family works"]
        lines = ["# voltprobe: no ipFamilies value can be recommended", f"# {verdict}"]
        lines += [f"# - {reason}" for reason in reasons]
        return "\n".join(lines) + "\n"
    header = f"# voltprobe {document.get('version', '')}: {verdict}\n"
    return header + yaml.safe_dump(rec.get("helmValues") or {}, sort_keys=False)
