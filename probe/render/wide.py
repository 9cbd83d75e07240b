"""`-o wide`: every probe row, the local block, each finding with its message and remedy,
and the whole recommendation (lines may be longer than the terminal)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import yaml
from tabulate import tabulate

from probe.model import Report, Severity, format_endpoint


def render_wide(report: Report, verbose: bool = False) -> str:
    parts = [_summary(report), probe_table(report), _data_path_block(report)]
    parts.append(local_block(report.local))
    parts.append(_findings(report, verbose))
    parts.append(_recommendation(report))
    if verbose and report.timings:
        timings = ", ".join(f"{k} {v:.0f} ms" for k, v in report.timings.items())
        parts.append(f"Timings: {timings}")
    return "\n\n".join(p for p in parts if p) + "\n"


def _summary(report: Report) -> str:
    states = Counter(p.state.value for p in report.probes)
    severities = Counter(f.severity.value for f in report.findings)
    counts = ", ".join(f"{n} {s}" for s, n in states.most_common())
    return (
        f"voltprobe {report.version}: {len(report.probes)} probe rows ({counts or 'none'}); "
        f"findings: {severities['error']} error, {severities['warning']} warning, "
        f"{severities['info']} info; {len(report.skipped_checks)} checks skipped\n"
        f"{report.verdict}"
    )


def probe_table(report: Report) -> str:
    rows = [
        [
            p.target,
            p.family.value,
            p.address or "-",
            p.port,
            p.state.value,
            p.reason,
            "-" if p.rtt_ms is None else f"{p.rtt_ms:.2f}",
            p.method.value,
        ]
        for p in report.probes
    ]
    headers = ["TARGET", "FAMILY", "ADDRESS", "PORT", "STATE", "REASON", "RTT ms", "METHOD"]
    if report.data_path:  # what followed the handshake, for open rows
        headers.append("AFTER")
        after = report.after_handshake()
        for row, probe in zip(rows, report.probes, strict=True):
            row.append(after.get((probe.address or "", probe.port), "-"))
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)


def _data_path_block(report: Report) -> str:
    """One line per open endpoint: what followed the handshake, RTT, NAT, path MTU."""
    lines = []
    for d in report.data_path:
        parts = [f"  {format_endpoint(d.address, d.port)} {d.family}: {d.after} ({d.detail})"]
        if d.rtt is not None:
            parts.append(
                f"RTT min/median/p95 {d.rtt.min:.2f}/{d.rtt.median:.2f}/{d.rtt.p95:.2f} ms"
            )
        nat = d.nat
        if nat is not None and d.greeting is not None:
            parts.append(f"seen as {d.greeting.client_address} (NAT: {nat})")
        if d.mtu:
            hole = d.black_hole
            largest = d.largest_passed
            parts.append(
                f"MTU black hole: {largest} passes, {hole} stalls"
                if hole
                else f"packets up to {largest} bytes pass"
                if largest
                else "no MTU step passed"
            )
        lines.append("; ".join(parts))
    return "Data path (after the handshake):\n" + "\n".join(lines) if lines else ""


def section(local: Any, key: str) -> dict[str, Any]:
    """local[key] when it is an object, else {} (a report read back may hold anything)."""
    value = local.get(key) if isinstance(local, dict) else None
    return value if isinstance(value, dict) else {}


def local_block(local: dict[str, Any]) -> str:
    if not local:
        return ""
    kube = section(local, "kubernetes")
    if kube.get("available"):
        head = f"Local cluster ({kube.get('source')}, namespace {kube.get('namespace') or '-'})"
    else:
        head = f"Local: Kubernetes not used ({kube.get('reason')})"
    pods = section(local, "pods")
    lines = [head]
    if kube.get("namespaceExists") is False:
        lines.append(f"  namespace {kube.get('namespace')} does not exist")
    elif kube.get("namespaceUnread"):
        lines.append(f"  could not read whether the namespace exists ({kube['namespaceUnread']})")
    probe_families = ", ".join(str(f) for f in pods.get("probeFamilies") or []) or "none"
    lines.append(
        f"  probing from: {probe_families} (from {pods.get('probeFamiliesSource') or '-'})"
    )
    # `local` is read back from reports too: every key may be missing
    for family, cap in section(local, "families").items():
        cap = cap if isinstance(cap, dict) else {}
        lines.append(
            f"  {family}: pods {cap.get('pods', '?')}, services {cap.get('services', '?')}, "
            f"nodes {cap.get('nodes', '?')}"
        )
    services = local.get("services")
    for svc in services if isinstance(services, list) else []:
        svc = svc if isinstance(svc, dict) else {}
        families = ", ".join(str(f) for f in svc.get("ipFamilies") or [])
        lines.append(
            f"  DR Service {svc.get('namespace')}/{svc.get('name')}: {svc.get('type')} "
            f"{svc.get('ipFamilyPolicy') or '-'} [{families}]"
        )
    return "\n".join(lines)


_MARK = {Severity.ERROR: "ERROR", Severity.WARNING: "WARN ", Severity.INFO: "info "}


def _findings(report: Report, verbose: bool) -> str:
    shown = [f for f in report.findings if verbose or f.severity is not Severity.INFO]
    if not shown:
        return "Findings: none" + ("" if verbose else " (info findings with -v)")
    lines = ["Findings:"]
    for finding in shown:
        lines.append(f"  {_MARK[finding.severity]} {finding.id} {finding.title}")
        lines.append(f"        {finding.message}")
        if finding.remedy:
            lines.append(f"        fix: {finding.remedy}")
    return "\n".join(lines)


def _recommendation(report: Report) -> str:
    rec = report.recommendation
    lines = ["Recommendation:"]
    lines += [f"  {sentence}" for sentence in rec.rationale]
    if rec.ip_families:
        lines.append(f"  Helm values ({rec.helm_key}), ready for values.yaml:")
        snippet = yaml.safe_dump(rec.helm_values, sort_keys=False).rstrip()
        lines += ["    " + line for line in snippet.splitlines()]
        if rec.connection_source:
            lines.append(
                f"  connection.source for the peer in this family: {rec.connection_source['value']}"
            )
    return "\n".join(lines)
