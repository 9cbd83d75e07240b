"""The merged result (`voltprobe report`) and a diff in every format: table, json, yaml,
markdown, junit. Renderers decide nothing: the merge did."""

from __future__ import annotations

import yaml

from probe.merge.cells import RESPONDER_NOTE
from probe.merge.diff import ReportDiff
from probe.merge.matrix import Merged
from probe.model import FAMILIES, Severity
from probe.render.aliases import short_names, substitute

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
    their own). Cluster names too long for the matrix's one-line rows are shown by short
    labels (`probe.render.aliases`) everywhere in the table, with a legend line per label
    above the matrix (the full name; elided in the middle only without -v)."""
    from probe.render.table import WIDTH, elide, fit_columns, wrap_lines

    headers = ["DIRECTION", *map(str, FAMILIES)]
    summaries = [[d.cell(f).summary() for f in FAMILIES] for d in merged.directions]
    columns = [max([len(h), *(len(r[i]) for r in summaries)]) for i, h in enumerate(headers[1:])]
    room = WIDTH - sum(columns) - 2 * len(columns)
    labels = short_names([c.name for c in merged.clusters], max(room, len(headers[0])))

    def short(text: str) -> str:
        return substitute(text, labels)

    legend = []
    for name, label in labels.items():
        if label != name:
            line = f"  {label} = "
            legend.append(line + (name if verbose else elide(name, WIDTH - len(line))))
    rows = []
    details: list[str] = []
    for d, cells in zip(merged.directions, summaries, strict=True):
        direction = f"{labels[d.source]} -> {labels[d.target]}"
        rows.append([direction, *cells])
        for family in FAMILIES:
            cell = d.cell(family)
            if not cell.ok and cell.detail:
                details.append(f"  {direction} {family}: {short(cell.detail)}")
    matrix = "\n".join(fit_columns(headers, rows, {0: len(headers[0])}))
    if merged.responder:
        details.append(f"  responder: {RESPONDER_NOTE}")
    verdict = short(merged.verdict)
    parts = [verdict]
    if legend:
        parts.append("\n".join(["Clusters (short names in this table):", *legend]))
    parts.append("\n".join([matrix, *details]))
    if merged.asymmetries:
        parts.append("\n".join(["Asymmetries:"] + [f"  {short(a)}" for a in merged.asymmetries]))
    for cluster in merged.clusters:
        label = labels[cluster.name]
        families = ", ".join(f.value for f in cluster.ip_families) or "none"
        lines = [f"Cluster {label}: ipFamilies {families}"]
        lines += [f"  {short(sentence)}" for sentence in cluster.rationale]
        lines += [f"  disagrees: {short(text)}" for text in cluster.disagreements]
        if cluster.ip_families:
            lines.append(f"  Helm values for {label}:")
            snippet = yaml.safe_dump(cluster.helm_values, sort_keys=False).rstrip()
            lines += ["    " + line for line in snippet.splitlines()]
        parts.append("\n".join(lines))
    shown = [(c, f) for c, f in merged.findings if verbose or f.severity is not Severity.INFO]
    if shown:
        lines = ["Findings:"]
        for name, finding in shown:
            message = short(finding.message)
            lines.append(f"  {labels.get(name, name)}: {finding.severity} {finding.id} {message}")
            if finding.remedy and verbose:
                lines.append(f"      fix: {finding.remedy}")
        parts.append("\n".join(lines))
    parts.append(verdict)
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
