"""The merged result (`voltprobe report`) and a diff in every format: table, json, yaml,
markdown, junit. Renderers decide nothing: the merge did."""

from __future__ import annotations

import yaml
from tabulate import tabulate

from probe.merge.cells import RESPONDER_NOTE
from probe.merge.diff import ReportDiff
from probe.merge.matrix import Merged
from probe.model import FAMILIES, Severity

MERGED_FORMATS = ("table", "json", "yaml", "markdown", "junit")


def render_merged(merged: Merged, fmt: str, verbose: bool = False) -> str:
    """`merged` in `fmt` (one of MERGED_FORMATS); raises ValueError for another."""
    if fmt == "table":
        return merged_table(merged, verbose)
    if fmt == "json":
        from probe.render import dumps_lines

        return dumps_lines(merged.to_json())
    if fmt == "yaml":
        return yaml.safe_dump(merged.to_json(), sort_keys=False, allow_unicode=True)
    if fmt == "markdown":
        from probe.render.markdown import merged_markdown

        return merged_markdown(merged, verbose)
    if fmt == "junit":
        from probe.render.junit import merged_cases, render_junit

        return render_junit(merged_cases(merged))
    raise ValueError(f"unknown format {fmt!r}")


def merged_table(merged: Merged, verbose: bool = False) -> str:
    """The verdict, the direction x family matrix, asymmetries, each cluster's values and
    the findings; every line within 80 columns (the matrix cells' details on lines of
    their own)."""
    from probe.render.table import wrap_lines

    rows = []
    details: list[str] = []
    for d in merged.directions:
        cells = [f"{d.source} -> {d.target}"]
        for family in FAMILIES:
            cell = d.cell(family)
            cells.append(cell.summary())
            if not cell.ok and cell.detail:
                details.append(f"  {d.source} -> {d.target} {family}: {cell.detail}")
        rows.append(cells)
    matrix = tabulate(rows, headers=["DIRECTION", *map(str, FAMILIES)], tablefmt="simple")
    if merged.responder:
        details.append(f"  responder: {RESPONDER_NOTE}")
    parts = [merged.verdict, "\n".join([matrix, *details])]
    if merged.asymmetries:
        parts.append("\n".join(["Asymmetries:"] + [f"  {a}" for a in merged.asymmetries]))
    for cluster in merged.clusters:
        families = ", ".join(f.value for f in cluster.ip_families) or "none"
        lines = [f"Cluster {cluster.name}: ipFamilies {families}"]
        lines += [f"  {sentence}" for sentence in cluster.rationale]
        lines += [f"  disagrees: {text}" for text in cluster.disagreements]
        if cluster.ip_families:
            lines.append(f"  Helm values for {cluster.name}:")
            snippet = yaml.safe_dump(cluster.helm_values, sort_keys=False).rstrip()
            lines += ["    " + line for line in snippet.splitlines()]
        parts.append("\n".join(lines))
    shown = [(c, f) for c, f in merged.findings if verbose or f.severity is not Severity.INFO]
    if shown:
        lines = ["Findings:"]
        for name, finding in shown:
            lines.append(f"  {name}: {finding.severity} {finding.id} {finding.message}")
            if finding.remedy and verbose:
                lines.append(f"      fix: {finding.remedy}")
        parts.append("\n".join(lines))
    parts.append(merged.verdict)
    return wrap_lines("\n\n".join(parts) + "\n")


def render_diff(change: ReportDiff, fmt: str) -> str:
    if fmt == "json":
        from probe.render import dumps_lines

        return dumps_lines(change.to_json())
    if fmt == "yaml":
        return yaml.safe_dump(change.to_json(), sort_keys=False, allow_unicode=True)
    if fmt == "markdown":
        from probe.render.markdown import diff_markdown

        return diff_markdown(change)
    if fmt == "table":
        head = f"{change.old_name} -> {change.new_name}\n  before: {change.old_verdict}\n"
        head += f"  after:  {change.new_verdict}\n"
        if not change.changes:
            return head + "\nNo changes.\n"
        from probe.render.table import wrap_lines

        lines = [f"{c.kind} {c.key}: {c.old or '-'} -> {c.new or '-'}" for c in change.changes]
        return wrap_lines(f"{head}\n" + "\n".join(f"  {line}" for line in lines) + "\n")
    raise ValueError(f"--diff has no {fmt} format (use table, json, yaml or markdown)")
