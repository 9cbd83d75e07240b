"""Markdown: the check registry for the README (kept in sync by a test), and reports
(one check, a merged result, a diff) for tickets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from probe.checks.registry import Registry
from probe.merge.cells import RESPONDER_NOTE
from probe.merge.diff import ReportDiff
from probe.merge.matrix import Merged
from probe.model import FAMILIES, Finding, Report, Severity, format_endpoint


def checks_table(registry: Registry) -> str:
    lines = ["| id | severity | title | requires |", "|---|---|---|---|"]
    for spec in registry.specs():
        requires = ", ".join(spec.requires) or "-"
        lines.append(f"| {spec.id} | {spec.severity.value} | {spec.title} | {requires} |")
    return "\n".join(lines) + "\n"


# -- reports for tickets -------------------------------------------------------------


def _cell(text: object) -> str:
    """A table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|") if text not in (None, "") else "-"


def _yaml_block(values: dict[str, Any]) -> list[str]:
    import yaml

    return ["```yaml", yaml.safe_dump(values, sort_keys=False).rstrip(), "```"]


def mode_text(mode: str | None, methods: Sequence[str], note: str) -> str:
    """The mode asked for, how the probes were sent and why: `auto -> connect (raw SYN
    probing is not allowed here: no CAP_NET_RAW)`, `connect` (asked, and used), `-` when
    unknown.
    `methods`: the probe rows' methods, first use first; `note`: the report's rawNotUsed."""
    if not mode:
        return "-"
    if not methods:
        return f"{mode} -> nothing probed" + (f" ({note})" if note else "")
    used = " and ".join(methods)
    if used == mode and not note:  # --mode connect or raw, done as asked
        return mode
    why = note or ("raw sockets could be opened" if used == "raw" else "")
    return f"{mode} -> {used}" + (f" ({why})" if why else "")


def _environment(report: Report) -> list[str]:
    kube = report.local.get("kubernetes") or {}
    options = report.options
    methods = list(dict.fromkeys(p.method.value for p in report.probes if p.address))
    mode = mode_text(options.get("mode"), methods, str(options.get("rawNotUsed") or ""))
    lines = [
        "| | |",
        "|---|---|",
        f"| voltprobe | {_cell(report.version)} |",
        f"| cluster | {_cell(report.cluster.name)} (context {_cell(report.cluster.context)}) |",
        f"| peer cluster | {_cell(report.cluster.peer)} |",
        f"| Kubernetes | {_cell(kube.get('version'))} ({_cell(kube.get('source'))}; "
        f"{_cell(kube.get('reason'))}) |",
        f"| mode | {_cell(mode)} |",
        f"| timeouts | probe {_cell(options.get('timeout'))} s, DNS "
        f"{_cell(options.get('dnsTimeout'))} s |",
    ]
    return lines


def _findings_table(rows: list[tuple[str, Finding]], with_cluster: bool) -> list[str]:
    if not rows:
        return ["No findings."]
    head = (
        "| cluster | id | severity | finding | remedy |"
        if with_cluster
        else ("| id | severity | finding | remedy |")
    )
    lines = [head, "|---" * head.count(" | ") + "|---|"]
    for cluster, f in rows:
        cells = [f.id, f.severity.value, f"{f.title}: {f.message}", f.remedy]
        if with_cluster:
            cells.insert(0, cluster)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def report_markdown(report: Report, verbose: bool = False) -> str:
    """One check report as a Markdown ticket: environment, probes, findings, values."""
    title = f"{report.cluster.name or 'this cluster'} -> {report.cluster.peer or 'the peer'}"
    lines = [f"# voltprobe: XDCR from {title}", "", f"**{_cell(report.verdict)}**", ""]
    lines += ["## Environment", "", *_environment(report), ""]
    lines += ["## Probes", "", "| target | family | address | state | reason | method |"]
    lines.append("|---|---|---|---|---|---|")
    for p in report.probes:
        address = format_endpoint(p.address, p.port) if p.address else "-"
        cells = [p.target, p.family.value, address, p.state.value, p.reason, p.method.value]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    shown = [("", f) for f in report.findings if verbose or f.severity is not Severity.INFO]
    lines += ["", "## Findings", "", *_findings_table(shown, False), ""]
    rec = report.recommendation
    lines += ["## Recommendation", ""]
    lines += [f"- {_cell(sentence)}" for sentence in rec.rationale]
    if rec.ip_families:
        lines += ["", f"Helm values (`{rec.helm_key}`), ready to paste:", ""]
        lines += _yaml_block(rec.helm_values)
        if rec.connection_source:
            lines += ["", f"connection.source: `{rec.connection_source['value']}`"]
    return "\n".join(lines) + "\n"


def merged_markdown(merged: Merged, verbose: bool = False) -> str:
    """The merged result as a Markdown ticket: environment, matrix, findings, values."""
    names = ", ".join(c.name for c in merged.clusters)
    lines = [f"# voltprobe: XDCR between {names}", "", f"**{_cell(merged.verdict)}**", ""]
    lines += ["## Environment", ""]
    lines.append("| cluster | file | voltprobe | context | Kubernetes | mode | timeouts |")
    lines.append("|---|---|---|---|---|---|---|")
    for e in merged.environments:
        mode = mode_text(e.mode, e.methods, e.mode_note)
        timeouts = f"probe {e.timeout:g} s, DNS {e.dns_timeout:g} s" if e.timeout else "-"
        if e.kind == "inventory":
            mode = "inventory only"
        cells = [e.cluster, e.file, e.version, e.context, e.kubernetes, mode, timeouts]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines += ["", "## Matrix", "", "| from -> to | " + " | ".join(map(str, FAMILIES)) + " |"]
    lines.append("|---" * (len(FAMILIES) + 1) + "|")
    for d in merged.directions:
        cells = [f"{d.source} -> {d.target}"]
        for family in FAMILIES:
            cell = d.cell(family)
            text = cell.summary()
            if not cell.ok and cell.detail:
                text += f": {cell.detail}"
            cells.append(text)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    if merged.responder:
        lines += ["", f"*responder*: {RESPONDER_NOTE}"]
    if merged.asymmetries:
        lines += ["", "## Asymmetries", ""] + [f"- {_cell(a)}" for a in merged.asymmetries]
    lines += ["", "## Values per cluster", ""]
    for c in merged.clusters:
        families = ", ".join(f.value for f in c.ip_families) or "none"
        lines += [f"### {c.name}: {families}", ""]
        lines += [f"- {_cell(sentence)}" for sentence in c.rationale]
        lines += [f"- **disagrees:** {_cell(d)}" for d in c.disagreements]
        if c.ip_families:
            lines += ["", f"Helm values for {c.name} (`{c.helm_key}`), ready to paste:", ""]
            lines += _yaml_block(c.helm_values)
        lines.append("")
    shown = [(c, f) for c, f in merged.findings if verbose or f.severity is not Severity.INFO]
    lines += ["## Findings", "", *_findings_table(shown, True)]
    return "\n".join(lines) + "\n"


def diff_markdown(change: ReportDiff) -> str:
    lines = [
        f"# voltprobe: {change.cluster or 'one cluster'}, {change.old_name} -> {change.new_name}",
        "",
        f"- before: {_cell(change.old_verdict)}",
        f"- after: **{_cell(change.new_verdict)}**",
        "",
    ]
    if not change.changes:
        return "\n".join([*lines, "No changes."]) + "\n"
    lines += ["| kind | what | before | after |", "|---|---|---|---|"]
    for c in change.changes:
        lines.append(f"| {c.kind} | {_cell(c.key)} | {_cell(c.old)} | {_cell(c.new)} |")
    return "\n".join(lines) + "\n"
