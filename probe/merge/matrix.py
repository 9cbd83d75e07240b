"""Both directions, every cluster: reports made in different clusters merged into one
direction x family matrix and one recommendation per cluster. Pure (no I/O).

    merge(inputs) -> Merged          raises UsageError when the inputs cannot be paired

XDCR dials both ways: cluster X's consumer connects to every DR endpoint each other
cluster advertises, and theirs to X's. So X's `ipFamilies` (its own DR Services) must be
a family in which every other cluster reached every endpoint X advertises, and which X
can allocate (reference/voltdb-xdcr.md, "how XDCR connects"). X's connection.source
lists each peer's endpoints in the family that peer is given.

Pairing: a report's cluster is `cluster.name` (else its file name without extension);
the cluster it probed is its targets' `cluster` (check --peer-report), else
`cluster.peer`, else, with two clusters, the other one, else the one whose advertised
addresses it probed. Anything else is ambiguous: the merge does not guess.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from probe.documents import Document, InventoryReport
from probe.errors import UsageError
from probe.merge.advertised import Advertised, advertised
from probe.merge.cells import Cell, CellStatus, TargetKey, measure, unknown
from probe.model import (
    DEFAULT_DR_PORT,
    FAMILIES,
    SCHEMA,
    DnsOutcome,
    Family,
    Finding,
    Report,
    Target,
)

DR_KEY = "cluster.serviceSpec.dr.ipFamilies"
PERPOD_DR_KEY = "cluster.serviceSpec.perpod.dr.ipFamilies"
SOURCE_KEY = "cluster.config.deployment.dr.connection.source"


@dataclass(frozen=True)
class Input:
    """One document given to the merge and the file it came from."""

    name: str  # the file name, for messages
    document: Document

    @property
    def cluster(self) -> str:
        label = self.document.cluster.name
        if label:
            return label
        stem = PurePath(self.name).stem
        return stem if stem and stem != "-" else "stdin"


@dataclass(frozen=True)
class Direction:
    source: str
    target: str
    cells: tuple[Cell, ...]  # one per family, FAMILIES order
    report: str | None = None  # the file that measured it

    def cell(self, family: Family) -> Cell:
        return next(c for c in self.cells if c.family is family)

    @property
    def measured(self) -> bool:
        return all(c.status is not CellStatus.UNKNOWN for c in self.cells)

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "report": self.report,
            "families": [c.to_json() for c in self.cells],
        }


@dataclass(frozen=True)
class Environment:
    """What a ticket needs to know about the run in one cluster."""

    cluster: str
    file: str
    kind: str  # report | inventory
    version: str
    context: str | None
    kubernetes: str | None
    mode: str | None
    mode_note: str
    timeout: float | None
    dns_timeout: float | None
    verdict: str
    methods: tuple[str, ...] = ()  # how its probes were sent (raw, connect), first use first

    def to_json(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "file": self.file,
            "kind": self.kind,
            "version": self.version,
            "context": self.context,
            "kubernetesVersion": self.kubernetes,
            "mode": self.mode,
            "modeNote": self.mode_note,
            "timeout": self.timeout,
            "dnsTimeout": self.dns_timeout,
            "verdict": self.verdict,
            "methods": list(self.methods),
        }


@dataclass(frozen=True)
class ClusterResult:
    """One cluster's recommendation from every direction that reaches it."""

    name: str
    ip_families: tuple[Family, ...]
    rationale: tuple[str, ...]
    helm_key: str
    helm_values: dict[str, Any]
    connection_source: str | None = None
    disagreements: tuple[str, ...] = ()
    undecided: bool = False  # no family, and only because a direction was not measured
    allocatable: tuple[Family, ...] = FAMILIES  # families the cluster can give its Services
    # why each family not in `allocatable` cannot be served: ((family, reason), ...)
    unservable: tuple[tuple[Family, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ipFamilies": [f.value for f in self.ip_families],
            "helmKey": self.helm_key,
            "helmValues": self.helm_values,
            "connectionSource": self.connection_source,
            "rationale": list(self.rationale),
            "disagreements": list(self.disagreements),
            "undecided": self.undecided,
            "allocatable": [f.value for f in self.allocatable],
        }


@dataclass(frozen=True)
class Merged:
    clusters: tuple[ClusterResult, ...]
    directions: tuple[Direction, ...]
    asymmetries: tuple[str, ...] = ()
    environments: tuple[Environment, ...] = ()
    findings: tuple[tuple[str, Finding], ...] = ()  # (cluster, finding) from each report
    version: str = ""

    @property
    def exit_code(self) -> int:
        """1 when a cluster has no family on what was measured; else 3 when a direction
        could not be measured; else 0 (every cluster has a family)."""
        if any(not c.ip_families and not c.undecided for c in self.clusters):
            return 1
        if any(not d.measured for d in self.directions):
            return 3
        return 0

    @property
    def verdict(self) -> str:
        code = self.exit_code
        parts = [
            f"{c.name}: {','.join(f.value for f in c.ip_families) or '-'}" for c in self.clusters
        ]
        if code == 0:
            return "PASS: every cluster has a family both ways (" + "; ".join(parts) + ")"
        if code == 1:
            none = [c.name for c in self.clusters if not c.ip_families and not c.undecided]
            return f"FAIL: no family for {', '.join(none)} (" + "; ".join(parts) + ")"
        unknown_dirs = [f"{d.source}->{d.target}" for d in self.directions if not d.measured]
        return f"INCOMPLETE: not measured: {', '.join(unknown_dirs)} (" + "; ".join(parts) + ")"

    @property
    def responder(self) -> bool:
        """True when some cell measured the voltprobe responder (`job run --responder`)."""
        return any(c.responder for d in self.directions for c in d.cells)

    def cluster(self, name: str) -> ClusterResult:
        return next(c for c in self.clusters if c.name == name)

    def direction(self, source: str, target: str) -> Direction:
        return next(d for d in self.directions if (d.source, d.target) == (source, target))

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "kind": "merge",
            "version": self.version,
            "verdict": self.verdict,
            "exitCode": self.exit_code,
            "clusters": [c.to_json() for c in self.clusters],
            "directions": [d.to_json() for d in self.directions],
            "asymmetries": list(self.asymmetries),
            "environments": [e.to_json() for e in self.environments],
            "findings": [{"cluster": c, **f.to_json()} for c, f in self.findings],
        }


@dataclass
class _Cluster:
    """What the inputs say about one cluster (built once, read by the merge)."""

    name: str
    local: dict[str, Any] | None = None
    dr_port: int = DEFAULT_DR_PORT
    reports: list[Input] = field(default_factory=list)

    @property
    def offered(self) -> tuple[Advertised, ...] | None:
        """Its advertised endpoints; None when its inventory is unknown."""
        if self.local is None or not self.local.get("kubernetes", {}).get("available"):
            return None
        return advertised(self.local, self.dr_port) or None


def merge(
    inputs: Sequence[Input], version: str = "", unmeasured: Mapping[str, str] | None = None
) -> Merged:
    """The matrix and the per-cluster recommendations; raises UsageError (exit 2) when two
    reports measure the same direction or a report's peer cannot be told.

    `unmeasured` ({cluster: why}): every direction into that cluster is unknown, whatever
    the reports say (`job run --responder` when that cluster's responder never became
    reachable: what was asked for could not be measured)."""
    clusters = _clusters(inputs)
    measured: dict[tuple[str, str], tuple[Input, tuple[TargetKey, ...]]] = {}
    for item in inputs:
        if not isinstance(item.document, Report):
            continue
        for peer, targets in _peers(item, clusters).items():
            key = (item.cluster, peer)
            if key in measured:
                raise UsageError(
                    f"{item.name}: {item.cluster} -> {peer} is measured by "
                    f"{measured[key][0].name} too: give one report per direction"
                )
            measured[key] = (item, targets)
    names = sorted(clusters)
    directions = []
    for source in names:
        for target in names:
            if source == target:
                continue
            found = measured.get((source, target))
            if unmeasured and target in unmeasured:
                cells = tuple(unknown(f, unmeasured[target]) for f in FAMILIES)
                directions.append(
                    Direction(source, target, cells, found[0].name if found else None)
                )
                continue
            if found is None:
                why = f"no report from {source} probing {target}"
                cells = tuple(unknown(f, why) for f in FAMILIES)
                directions.append(Direction(source, target, cells))
                continue
            item, targets = found
            report = item.document
            assert isinstance(report, Report)
            offered = clusters[target].offered
            cells = tuple(measure(report, targets, f, offered, source) for f in FAMILIES)
            directions.append(Direction(source, target, cells, item.name))
    results = [_recommend(clusters[name], directions) for name in names]
    results = [_with_source(r, results, clusters, measured) for r in results]
    return Merged(
        clusters=tuple(results),
        directions=tuple(directions),
        asymmetries=tuple(_asymmetries(directions)),
        environments=tuple(_environment(i) for i in inputs),
        findings=tuple(
            (i.cluster, f)
            for i in inputs
            if isinstance(i.document, Report)
            for f in i.document.findings
            if f.id != "VP502"  # the merge covers the other direction
        ),
        version=version,
    )


def _clusters(inputs: Sequence[Input]) -> dict[str, _Cluster]:
    clusters: dict[str, _Cluster] = {}
    for item in inputs:
        entry = clusters.setdefault(item.cluster, _Cluster(item.cluster))
        doc = item.document
        if isinstance(doc, Report):
            entry.reports.append(item)
            port = doc.options.get("port")
            entry.dr_port = port if isinstance(port, int) else entry.dr_port
            if entry.local is None or doc.local.get("kubernetes", {}).get("available"):
                entry.local = doc.local
        else:
            entry.local = doc.local
            port = doc.options.get("port") if isinstance(doc, InventoryReport) else None
            entry.dr_port = port if isinstance(port, int) else entry.dr_port
        if isinstance(doc, Report):
            for peer in _named_peers(doc):
                clusters.setdefault(peer, _Cluster(peer))
    return clusters


def _named_peers(report: Report) -> list[str]:
    named = [t.cluster for t in report.targets if t.cluster]
    if report.cluster.peer:
        named.append(report.cluster.peer)
    return [n for n in dict.fromkeys(named) if n and n != report.cluster.name]


def _peers(item: Input, clusters: dict[str, _Cluster]) -> dict[str, tuple[TargetKey, ...]]:
    """Which cluster each of the report's targets belongs to: {peer: ((text, port), ...)}
    (by host and port: two clusters may advertise the same address on other ports)."""
    report = item.document
    assert isinstance(report, Report)
    default = report.cluster.peer or _inferred_peer(item, report, clusters)
    peers: dict[str, list[TargetKey]] = {}
    for target in report.targets:
        peer = target.cluster or default
        if peer is None:
            raise UsageError(
                f"{item.name}: cannot tell which cluster {item.cluster} probed (the report "
                "names no peer cluster and its addresses match none, or several, of the "
                "others): run check with --peer-cluster NAME or --peer-report FILE"
            )
        if peer == item.cluster:
            raise UsageError(f"{item.name}: {item.cluster} probed itself ({target.text})")
        peers.setdefault(peer, []).append((target.text, target.port))
    if not peers and default:
        peers[default] = []
    return {peer: tuple(texts) for peer, texts in peers.items()}


def _inferred_peer(item: Input, report: Report, clusters: dict[str, _Cluster]) -> str | None:
    others = [name for name in clusters if name != item.cluster]
    if len(others) == 1:
        return others[0]
    probed = {(r.address, r.port) for r in report.probes if r.address}
    matches = [name for name in others if probed & {e.key for e in clusters[name].offered or ()}]
    return matches[0] if len(matches) == 1 else None


def _capability(local: dict[str, Any] | None, family: Family) -> dict[str, Any]:
    families = (local or {}).get("families") or {}
    found = families.get(family.value) if isinstance(families, dict) else None
    return found if isinstance(found, dict) else {}


def _recommend(cluster: _Cluster, directions: Sequence[Direction]) -> ClusterResult:
    incoming = [d for d in directions if d.target == cluster.name]
    problems: dict[Family, list[str]] = {}
    only_unknown: dict[Family, bool] = {}
    allocatable = []
    unservable = []
    for family in FAMILIES:
        found: list[str] = []
        capability = _capability(cluster.local, family)
        hard = False
        if capability.get("services") == "no":
            found.append(f"{cluster.name} cannot give Services an {family} address")
            hard = True
        if capability.get("pods") == "no":
            found.append(f"{cluster.name}'s pods have no {family} address")
            hard = True
        if not hard:
            allocatable.append(family)
        else:
            unservable.append((family, "; ".join(found)))
        unknown_only = not hard
        for direction in incoming:
            cell = direction.cell(family)
            if cell.status is CellStatus.OK:
                continue
            if cell.status is CellStatus.UNKNOWN:
                found.append(f"{direction.source} -> {cluster.name} not measured ({cell.detail})")
                continue
            unknown_only = False
            if cell.status is CellStatus.NONE:
                found.append(f"{cluster.name} {cell.detail} (to {direction.source})")
            else:
                found.append(
                    f"{direction.source} reaches {cell.open} of {cell.total} of "
                    f"{cluster.name}'s {family} endpoints ({cell.stage}: {cell.detail})"
                )
        if not incoming:
            found.append(f"no other cluster probed {cluster.name}")
        problems[family] = found
        only_unknown[family] = unknown_only
    qualifying = [f for f in FAMILIES if not problems[f]]
    rationale = [
        f"{f} does not qualify: " + "; ".join(problems[f]) + "."
        if problems[f]
        else f"{f} qualifies: every other cluster reaches every {f} endpoint {cluster.name} "
        f"advertises{_responder_note(cluster.name, f, incoming)}."
        for f in FAMILIES
    ]
    chosen = _prefer(cluster, qualifying)
    if chosen is not None and len(qualifying) > 1:
        rationale.append(f"Both families work; {chosen} is {_preference_reason(cluster, chosen)}.")
    key = _helm_key(cluster)
    undecided = chosen is None and any(only_unknown.values())
    if chosen is None:
        rationale.append(
            f"No family is proven for {cluster.name}"
            + (
                ": a direction was not measured."
                if undecided
                else ": XDCR to it would stay PENDING."
            )
        )
    return ClusterResult(
        name=cluster.name,
        ip_families=(chosen,) if chosen else (),
        rationale=tuple(rationale),
        helm_key=key,
        helm_values=_values(key, chosen, None) if chosen else {},
        disagreements=tuple(_disagreements(cluster, chosen)) if chosen else (),
        undecided=undecided,
        allocatable=tuple(allocatable),
        unservable=tuple(unservable),
    )


def _responder_note(name: str, family: Family, incoming: Sequence[Direction]) -> str:
    """What the qualifying cells owe to the voltprobe responder, if anything."""
    cells = [d.cell(family) for d in incoming]
    if cells and all(c.total and c.responder == c.total for c in cells):
        return (
            f" (only through the voltprobe responder: {name}'s DR Service does not offer "
            f"{family} yet; give it {family} and this holds for it too)"
        )
    if any(c.responder for c in cells):
        return " (the voltprobe responder's endpoints included)"
    return ""


def _prefer(cluster: _Cluster, qualifying: list[Family]) -> Family | None:
    if len(qualifying) <= 1:
        return qualifying[0] if qualifying else None
    for family in (_primary(cluster), _service_family(cluster)):
        if family in qualifying:
            return family
    return Family.IPV4


def _preference_reason(cluster: _Cluster, family: Family) -> str:
    if _primary(cluster) is family:
        return f"{cluster.name}'s primary Service family"
    if _service_family(cluster) is family:
        return f"the primary family of {cluster.name}'s DR Service"
    return "chosen because the JVM that runs VoltDB prefers IPv4 addresses by default"


def _primary(cluster: _Cluster) -> Family | None:
    value = (cluster.local or {}).get("primaryFamily")
    return Family(value) if value in ("IPv4", "IPv6") else None


def _service_family(cluster: _Cluster) -> Family | None:
    for service in (cluster.local or {}).get("services") or []:
        if isinstance(service, dict) and service.get("responder") is True:
            continue  # the stand-in, not a DR Service
        families = service.get("ipFamilies") if isinstance(service, dict) else None
        if families and families[0] in ("IPv4", "IPv6"):
            return Family(families[0])
    return None


def _helm_key(cluster: _Cluster) -> str:
    """The ipFamilies key(s) of a cluster, as `check` gives them (probe.recommend
    .helm_keys): the cluster-wide DR Service's, the per-pod ones', or both ("a and b")
    when both kinds exist, from its own reports and the Services it advertises."""
    keys: set[str] = set()
    for item in cluster.reports:
        assert isinstance(item.document, Report)
        keys.update(k for k in item.document.recommendation.helm_key.split(" and ") if k)
    services = [
        s
        for s in (cluster.local or {}).get("services") or []
        if isinstance(s, dict) and not s.get("responder")  # job run's, gone after the run
    ]
    if any(s.get("perPod") for s in services):
        keys.add(PERPOD_DR_KEY)
    if any(not s.get("perPod") for s in services):
        keys.add(DR_KEY)
    return " and ".join(k for k in (DR_KEY, PERPOD_DR_KEY) if k in keys) or DR_KEY


def _values(key: str, family: Family, source: str | None) -> dict[str, Any]:
    """The Helm values for one cluster: its ipFamilies and, when known, connection.source."""
    values: dict[str, Any] = {}
    for one in key.split(" and "):
        _put(values, one, [family.value])
    if source:
        _put(values, SOURCE_KEY, source)
    return values


def _put(values: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = values
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _disagreements(cluster: _Cluster, family: Family) -> list[str]:
    """Where the cluster's current DR Services differ from the recommended family."""
    found = []
    for service in (cluster.local or {}).get("services") or []:
        if not isinstance(service, dict) or service.get("responder") is True:
            continue
        name = f"{service.get('namespace') or '-'}/{service.get('name') or '-'}"
        families = [f for f in service.get("ipFamilies") or [] if f in ("IPv4", "IPv6")]
        shown = ", ".join(families) or "no family"
        if family.value not in families:
            found.append(
                f"{cluster.name}: DR Service {name} is [{shown}], without {family}: set "
                f"{_helm_key(cluster)}: [{family}]; the primary family may not change once "
                "set, so the Service is deleted and recreated"
            )
        elif families[0] != family.value:
            found.append(
                f"{cluster.name}: DR Service {name} is [{shown}]: its primary family is "
                f"{families[0]}, the recommendation {family} (recreate it to change the primary)"
            )
        if service.get("type") == "LoadBalancer":
            offered = {
                e.family for e in advertised({"services": [service]}, cluster.dr_port) if e.family
            }
            if family not in offered:
                found.append(
                    f"{cluster.name}: load balancer of {name} has no {family} ingress address"
                )
    return found


def _with_source(
    result: ClusterResult,
    results: Sequence[ClusterResult],
    clusters: dict[str, _Cluster],
    measured: dict[tuple[str, str], tuple[Input, tuple[TargetKey, ...]]],
) -> ClusterResult:
    """Add the cluster's connection.source: each peer's endpoints, as this cluster probed
    them, in the family that peer is recommended."""
    parts: list[str] = []
    for peer in results:
        if peer.name == result.name or not peer.ip_families:
            continue
        found = measured.get((result.name, peer.name))
        if found is None:
            continue
        item, targets = found
        assert isinstance(item.document, Report)
        # the responder goes away after the run: connection.source names DR Services only
        stand_ins = {e.key for e in clusters[peer.name].offered or () if e.responder}
        targets = tuple(t for t in targets if t not in stand_ins)
        text = _source_text(item.document, targets, peer.ip_families[0])
        if text:
            parts.append(text)
    source = ",".join(parts) or None
    if not result.ip_families:
        return result
    from dataclasses import replace

    values = _values(result.helm_key, result.ip_families[0], source)
    return replace(result, connection_source=source, helm_values=values)


def _source_text(report: Report, targets: Sequence[TargetKey], family: Family) -> str:
    """The peer's endpoints in `family` for connection.source; a name with A and AAAA
    records becomes its IPv6 addresses when IPv6 is wanted (the JVM dials IPv4 first)."""
    from probe.targets import format_endpoints

    wanted = set(targets)
    answers = {(a.target, a.family): a for a in report.dns if a.outcome is DnsOutcome.OK}
    chosen: list[Target] = []
    for target in report.targets:
        if (target.text, target.port) not in wanted:
            continue
        if target.is_literal:
            if target.literal_family is family:
                chosen.append(target)
            continue
        mine = answers.get((target.text, family))
        if mine is None:
            continue
        other = Family.IPV4 if family is Family.IPV6 else Family.IPV6
        if family is Family.IPV4 or (target.text, other) not in answers:
            chosen.append(target)
        else:
            chosen.extend(Target(a, a, target.port, family) for a in mine.addresses)
    return format_endpoints(chosen) if chosen else ""


def _asymmetries(directions: Sequence[Direction]) -> list[str]:
    """One sentence per (pair, family) that works one way and not the other."""
    found = []
    by_key = {(d.source, d.target): d for d in directions}
    for direction in directions:
        back = by_key.get((direction.target, direction.source))
        if back is None or direction.source > direction.target:
            continue
        for family in FAMILIES:
            there, home = direction.cell(family), back.cell(family)
            for good, bad, a, b in (
                (there, home, direction.source, direction.target),
                (home, there, direction.target, direction.source),
            ):
                if good.ok and bad.status is CellStatus.FAIL:
                    found.append(
                        f"{a} -> {b} works over {family}, {b} -> {a} does not "
                        f"({bad.summary()}: {bad.detail}); likely cause: {bad.cause}"
                    )
                elif good.ok and bad.status is CellStatus.NONE:
                    found.append(
                        f"{a} -> {b} works over {family}; {b} -> {a} cannot use {family}: "
                        f"{a} {bad.detail}"
                    )
    return found


def _environment(item: Input) -> Environment:
    doc = item.document
    kube = doc.local.get("kubernetes") or {}
    if isinstance(doc, Report):
        options = doc.options
        timeout = options.get("timeout")
        dns_timeout = options.get("dnsTimeout")
        mode = options.get("mode")
        return Environment(
            cluster=item.cluster,
            file=item.name,
            kind="report",
            version=doc.version,
            context=doc.cluster.context,
            kubernetes=kube.get("version"),
            mode=str(mode) if mode else None,
            mode_note=str(options.get("rawNotUsed") or ""),
            timeout=float(timeout) if isinstance(timeout, (int, float)) else None,
            dns_timeout=float(dns_timeout) if isinstance(dns_timeout, (int, float)) else None,
            verdict=doc.verdict,
            methods=tuple(dict.fromkeys(p.method.value for p in doc.probes if p.address)),
        )
    return Environment(
        cluster=item.cluster,
        file=item.name,
        kind="inventory",
        version=doc.version,
        context=doc.cluster.context,
        kubernetes=kube.get("version"),
        mode=None,
        mode_note="",
        timeout=None,
        dns_timeout=None,
        verdict="inventory only (no probes)",
    )
