"""NetworkPolicy, evaluated for the Volt pods one family at a time (pure: no I/O).

Input: the namespace's NetworkPolicy objects as wire dicts (camelCase, as the API
returns them), the Volt pods' labels and one `Query` (direction, family, remote
address, port). Output: a typed `Decision`. Malformed objects give the verdict
`could-not-evaluate`, never an exception.

The rules, from https://kubernetes.io/docs/concepts/services-networking/network-policies/
and the networking.k8s.io/v1 API reference (NetworkPolicySpec, NetworkPolicyPeer,
NetworkPolicyPort, IPBlock):

- A pod is isolated for a direction only when some policy of its namespace selects it
  (spec.podSelector; `{}` selects every pod) with that policy type. policyTypes absent
  or empty: Ingress always, Egress only when spec.egress has rules.
- An isolated pod's traffic is allowed when any rule of any policy that isolates it
  allows it: policies and rules are unions, order does not matter, nothing denies.
- A rule allows when one of its peers and one of its ports match; an empty or
  missing `from`/`to` means every peer, an empty or missing `ports` every port.
- Only an ipBlock matches an address outside the cluster (podSelector and
  namespaceSelector peers select pods). An ipBlock is its cidr minus its `except`
  ranges, and a CIDR has one family: 0.0.0.0/0 allows no IPv6 address.
- A port has a protocol (TCP when absent), a number or a name, and an optional
  inclusive `endPort`. A name is a container port name of the destination pod: it
  never matches an external destination; on ingress it is the Volt pods' own.
- Address rewriting (SNAT through a NodePort or a load balancer, DNAT to a Service)
  may happen before or after policy processing, and traffic from the node where a pod
  runs is always allowed: the specification leaves what a rewritten connection meets
  to the network plugin, and so does this evaluator (`depends-on-network-plugin`)
  unless a rule allows every source of the family.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Union

from probe.model import FAMILIES, Family, parse_ip

Obj = dict[str, Any]

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]  # noqa: UP007 - runtime on 3.10

PROTOCOLS = ("TCP", "UDP", "SCTP")


class Direction(str, enum.Enum):
    """A policy type, spelled as spec.policyTypes spells it."""

    INGRESS = "Ingress"
    EGRESS = "Egress"

    def __str__(self) -> str:
        return self.value

    @property
    def rules_field(self) -> str:
        """The spec field holding this direction's rules ("ingress" | "egress")."""
        return self.value.lower()

    @property
    def peers_field(self) -> str:
        """The rule field holding the peers ("from" | "to")."""
        return "from" if self is Direction.INGRESS else "to"


class Verdict(str, enum.Enum):
    ALLOWED = "allowed"
    DENIED = "denied"
    NOT_ISOLATED = "not-isolated"  # no policy selects the pods for this direction
    DEPENDS_ON_PLUGIN = "depends-on-network-plugin"  # address rewriting, unspecified order
    UNDETERMINED = "undetermined"  # needs what the caller did not know (the remote, port names)
    INVALID = "could-not-evaluate"  # a malformed policy selects (or may select) the pods

    def __str__(self) -> str:
        return self.value


# -- the decoded policy ---------------------------------------------------------------


@dataclass(frozen=True)
class Expression:
    """One matchExpressions entry: key, operator (In, NotIn, Exists, DoesNotExist), values."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Label selector semantics (apimachinery labels.Requirement.Matches)."""
        if self.operator == "In":
            return self.key in labels and labels[self.key] in self.values
        if self.operator == "NotIn":
            return self.key not in labels or labels[self.key] not in self.values
        if self.operator == "Exists":
            return self.key in labels
        return self.key not in labels  # DoesNotExist (the decoder admits no other)


@dataclass(frozen=True)
class Selector:
    """A LabelSelector: matchLabels and matchExpressions, ANDed; empty selects everything."""

    match_labels: tuple[tuple[str, str], ...] = ()
    expressions: tuple[Expression, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(labels.get(k) == v for k, v in self.match_labels) and all(
            e.matches(labels) for e in self.expressions
        )


@dataclass(frozen=True)
class IpBlock:
    cidr: Network
    excepts: tuple[Network, ...] = ()

    @property
    def family(self) -> Family:
        return Family.IPV4 if self.cidr.version == 4 else Family.IPV6

    @property
    def whole_family(self) -> bool:
        """0.0.0.0/0 or ::/0 with no except: every address of one family."""
        return self.cidr.prefixlen == 0 and not self.excepts

    @cached_property
    def span(self) -> tuple[int, int]:
        return _span(self.cidr)

    @cached_property
    def except_spans(self) -> tuple[tuple[int, int], ...]:
        return tuple(_span(ex) for ex in self.excepts)


def _span(network: Network) -> tuple[int, int]:
    """A network's first and last address as integers (containment is two comparisons)."""
    return int(network.network_address), int(network.broadcast_address)


@dataclass(frozen=True)
class Peer:
    """One NetworkPolicyPeer: an ipBlock, or pod and/or namespace selectors."""

    ip_block: IpBlock | None = None
    pod_selector: Selector | None = None
    namespace_selector: Selector | None = None


@dataclass(frozen=True)
class PortSpec:
    """One NetworkPolicyPort. `port` None: every port of the protocol; str: a port name."""

    protocol: str = "TCP"
    port: int | str | None = None
    end_port: int | None = None


@dataclass(frozen=True)
class Rule:
    peers: tuple[Peer, ...] = ()  # empty: every peer
    ports: tuple[PortSpec, ...] = ()  # empty: every port


@dataclass(frozen=True)
class Policy:
    namespace: str
    name: str
    pod_selector: Selector
    types: tuple[Direction, ...]
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    def rules(self, direction: Direction) -> tuple[Rule, ...]:
        return self.ingress if direction is Direction.INGRESS else self.egress


@dataclass(frozen=True)
class PolicyProblem:
    """Why a policy object could not be read: which one, which field, what is wrong."""

    policy: str  # namespace/name, or "items[i]" when it has no name
    field: str  # "spec.egress[0].to[1].ipBlock.cidr"
    message: str

    def __str__(self) -> str:
        return f"{self.policy}: {self.field}: {self.message}"

    def to_json(self) -> dict[str, str]:
        return {"policy": self.policy, "field": self.field, "message": self.message}


class _Malformed(Exception):
    """Internal to the decoder: `decode_policy` turns it into a PolicyProblem."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _mapping(value: object, field: str, *, optional: bool = True) -> Mapping[str, Any]:
    if value is None and optional:
        return {}
    if not isinstance(value, Mapping):
        raise _Malformed(field, f"expected an object, got {type(value).__name__}")
    return value


def _list(value: object, field: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Malformed(field, f"expected a list, got {type(value).__name__}")
    return value


def _string(value: object, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise _Malformed(field, "expected a non-empty string")
    return value


def _selector(value: object, field: str) -> Selector:
    obj = _mapping(value, field)
    labels = _mapping(obj.get("matchLabels"), f"{field}.matchLabels")
    pairs: list[tuple[str, str]] = []
    for key, val in labels.items():
        if not isinstance(key, str) or not isinstance(val, str):
            raise _Malformed(f"{field}.matchLabels", "keys and values must be strings")
        pairs.append((key, val))
    expressions: list[Expression] = []
    for i, raw in enumerate(_list(obj.get("matchExpressions"), f"{field}.matchExpressions")):
        where = f"{field}.matchExpressions[{i}]"
        expr = _mapping(raw, where, optional=False)
        key = _string(expr.get("key"), f"{where}.key")
        operator = expr.get("operator")
        values = _list(expr.get("values"), f"{where}.values")
        if not all(isinstance(v, str) for v in values):
            raise _Malformed(f"{where}.values", "values must be strings")
        if operator in ("In", "NotIn"):
            if not values:
                raise _Malformed(f"{where}.values", f"must be non-empty for {operator}")
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                raise _Malformed(f"{where}.values", f"must be empty for {operator}")
        else:
            raise _Malformed(f"{where}.operator", f"unknown operator {operator!r}")
        expressions.append(Expression(key, str(operator), tuple(values)))
    return Selector(tuple(sorted(pairs)), tuple(expressions))


def _network(value: object, field: str) -> Network:
    text = _string(value, field)
    try:
        # strict=False: the apiserver's legacy CIDR parsing accepts host bits and masks them.
        return ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise _Malformed(field, f"not a CIDR: {exc}") from None


def _ip_block(value: object, field: str) -> IpBlock:
    obj = _mapping(value, field, optional=False)
    cidr = _network(obj.get("cidr"), f"{field}.cidr")
    excepts: list[Network] = []
    for i, raw in enumerate(_list(obj.get("except"), f"{field}.except")):
        ex = _network(raw, f"{field}.except[{i}]")
        # The apiserver rejects except values outside the cidr (API reference, IPBlock).
        if ex.version != cidr.version or not ex.subnet_of(cidr):  # type: ignore[arg-type]
            raise _Malformed(f"{field}.except[{i}]", f"{ex} is not within {cidr}")
        excepts.append(ex)
    return IpBlock(cidr, tuple(excepts))


def _peer(value: object, field: str) -> Peer:
    obj = _mapping(value, field, optional=False)
    block = obj.get("ipBlock")
    pods = obj.get("podSelector")
    namespaces = obj.get("namespaceSelector")
    if block is not None:
        if pods is not None or namespaces is not None:
            raise _Malformed(field, "ipBlock may not be combined with a selector")
        return Peer(ip_block=_ip_block(block, f"{field}.ipBlock"))
    if pods is None and namespaces is None:
        raise _Malformed(field, "a peer needs ipBlock, podSelector or namespaceSelector")
    return Peer(
        pod_selector=None if pods is None else _selector(pods, f"{field}.podSelector"),
        namespace_selector=(
            None if namespaces is None else _selector(namespaces, f"{field}.namespaceSelector")
        ),
    )


def _port_number(value: object, field: str) -> int:
    # bool is an int in Python; JSON true is no port.
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise _Malformed(field, f"not a port number: {value!r}")
    return value


def _port(value: object, field: str) -> PortSpec:
    obj = _mapping(value, field, optional=False)
    protocol = obj.get("protocol") or "TCP"
    if protocol not in PROTOCOLS:
        raise _Malformed(f"{field}.protocol", f"unsupported protocol {protocol!r}")
    raw = obj.get("port")
    port: int | str | None
    if raw is None:
        port = None
    elif isinstance(raw, str):
        # An IANA service name has a letter (IsValidPortName); "5555" as a string is no port.
        if not raw or not any(c.isalpha() for c in raw):
            raise _Malformed(f"{field}.port", f"not a port name: {raw!r}")
        port = raw
    else:
        port = _port_number(raw, f"{field}.port")
    end: int | None = None
    if obj.get("endPort") is not None:
        end = _port_number(obj.get("endPort"), f"{field}.endPort")
        if not isinstance(port, int):
            raise _Malformed(f"{field}.endPort", "needs a numeric port")
        if end < port:
            raise _Malformed(f"{field}.endPort", f"{end} is below port {port}")
    return PortSpec(str(protocol), port, end)


def _rules(value: object, field: str, peers_field: str) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    for i, raw in enumerate(_list(value, field)):
        where = f"{field}[{i}]"
        obj = _mapping(raw, where)
        peers = _list(obj.get(peers_field), f"{where}.{peers_field}")
        ports = _list(obj.get("ports"), f"{where}.ports")
        rules.append(
            Rule(
                tuple(_peer(p, f"{where}.{peers_field}[{j}]") for j, p in enumerate(peers)),
                tuple(_port(p, f"{where}.ports[{j}]") for j, p in enumerate(ports)),
            )
        )
    return tuple(rules)


def _types(spec: Mapping[str, Any]) -> tuple[Direction, ...]:
    listed = _list(spec.get("policyTypes"), "spec.policyTypes")
    if not listed:
        # Defaulting (API reference, NetworkPolicySpec.policyTypes).
        egress = _list(spec.get("egress"), "spec.egress")
        return (Direction.INGRESS, Direction.EGRESS) if egress else (Direction.INGRESS,)
    types: list[Direction] = []
    for i, value in enumerate(listed):
        if value not in ("Ingress", "Egress"):
            raise _Malformed(f"spec.policyTypes[{i}]", f"unknown policy type {value!r}")
        types.append(Direction(value))
    return tuple(types)


def _ref(obj: object, index: int) -> tuple[str, str, str]:
    """(namespace, name, ref) of a policy object, as far as it has them."""
    meta = obj.get("metadata") if isinstance(obj, Mapping) else None
    meta = meta if isinstance(meta, Mapping) else {}
    name = meta.get("name") if isinstance(meta.get("name"), str) else ""
    namespace = meta.get("namespace") if isinstance(meta.get("namespace"), str) else ""
    ref = f"{namespace}/{name}" if namespace and name else name or f"items[{index}]"
    return str(namespace), str(name), ref


def decode_policy(obj: object, index: int = 0) -> Policy | PolicyProblem:
    """A NetworkPolicy wire dict as a `Policy`, or the first problem found in it.

    Total: any input (wrong types, missing fields, bad CIDRs) gives a PolicyProblem,
    never an exception. `index` names an object without metadata.name.
    """
    namespace, name, ref = _ref(obj, index)
    try:
        body = _mapping(obj, "", optional=False)
        spec = _mapping(body.get("spec"), "spec", optional=False)
        return Policy(
            namespace=namespace,
            name=name or ref,
            # Required by the API; a Go zero value (`{}`, every pod) when absent.
            pod_selector=_selector(spec.get("podSelector"), "spec.podSelector"),
            types=_types(spec),
            ingress=_rules(spec.get("ingress"), "spec.ingress", "from"),
            egress=_rules(spec.get("egress"), "spec.egress", "to"),
        )
    except _Malformed as exc:
        return PolicyProblem(ref, exc.field or "(object)", exc.message)


def _readable_selector(obj: object) -> Selector | None:
    """A malformed policy's podSelector when that much reads, else None (it may select
    any pod)."""
    try:
        spec = _mapping(_mapping(obj, "", optional=False).get("spec"), "spec", optional=False)
        return _selector(spec.get("podSelector"), "spec.podSelector")
    except _Malformed:
        return None


@dataclass(frozen=True)
class PolicySet:
    """One namespace's policies, decoded once: those that read, and the problems of the
    others, each with its podSelector when that much reads (None: it may select any pod)."""

    policies: tuple[Policy, ...] = ()
    broken: tuple[tuple[PolicyProblem, Selector | None], ...] = ()

    @classmethod
    def decode(cls, objects: Sequence[object]) -> PolicySet:
        """Total, like `decode_policy`: every object is either a Policy or a problem."""
        policies: list[Policy] = []
        broken: list[tuple[PolicyProblem, Selector | None]] = []
        for i, obj in enumerate(objects):
            result = decode_policy(obj, i)
            if isinstance(result, Policy):
                policies.append(result)
            else:
                broken.append((result, _readable_selector(obj)))
        return cls(tuple(policies), tuple(broken))

    def problems_for(self, pod_labels: Mapping[str, str]) -> tuple[PolicyProblem, ...]:
        """The problems of the malformed policies that may select pods labelled so: only
        those spoil a decision for them."""
        return tuple(p for p, sel in self.broken if sel is None or sel.matches(pod_labels))

    def isolating(self, pod_labels: Mapping[str, str], direction: Direction) -> tuple[Policy, ...]:
        """The policies that select pods labelled so with this policy type."""
        return tuple(
            p for p in self.policies if direction in p.types and p.pod_selector.matches(pod_labels)
        )


# -- the question and the answer ------------------------------------------------------


@dataclass(frozen=True)
class ContainerPort:
    """A named container port of the Volt pods (resolves named ports on ingress)."""

    name: str
    port: int
    protocol: str = "TCP"


@dataclass(frozen=True)
class Query:
    """One connection as the Volt pods make or take it.

    `remote`: the peer's address or a CIDR of `family` (external to the cluster), or
    None when not known. `port`: the destination port (egress: the peer's advertised
    port, a NodePort or a load-balancer port included; ingress: the Volt pods' target
    port). `rewritten`: the address the policy sees may have been rewritten on the way
    (ingress through a NodePort or a load balancer that SNATs). `named_ports`: the Volt
    pods' named container ports; None when not known.
    """

    direction: Direction
    family: Family
    remote: str | None
    port: int
    protocol: str = "TCP"
    rewritten: bool = False
    named_ports: tuple[ContainerPort, ...] | None = None

    def __post_init__(self) -> None:
        # A caller's mistake, not a cluster's: raise (ValueError) at once.
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol {self.protocol!r} is not one of {', '.join(PROTOCOLS)}")
        if not 1 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is out of range")

    def remote_network(self) -> Network | None:
        """The remote as a network (an address is a /32 or /128); raises ValueError when
        it is no address or CIDR, or not of `family`."""
        if self.remote is None:
            return None
        network = ipaddress.ip_network(self.remote, strict=False)
        if (network.version == 4) != (self.family is Family.IPV4):
            raise ValueError(f"{self.remote} is not an {self.family} address")
        return network

    def to_json(self) -> dict[str, Any]:
        return {
            "direction": self.direction.value,
            "family": self.family.value,
            "remote": self.remote,
            "port": self.port,
            "protocol": self.protocol,
            "rewritten": self.rewritten,
        }


@dataclass(frozen=True)
class RuleRef:
    """A rule of a policy: `spec.egress[1]` of volt/allow-dr."""

    policy: str  # namespace/name
    direction: Direction
    index: int

    def __str__(self) -> str:
        return f"{self.policy} spec.{self.direction.rules_field}[{self.index}]"


@dataclass(frozen=True)
class Decision:
    """Whether the policies let one connection through, and what decided it.

    ALLOWED names the allowing `rule`; DENIED the `isolating` policies (those that
    select the pods for the direction; none of their rules matches); NOT_ISOLATED has
    neither; DEPENDS_ON_PLUGIN and UNDETERMINED name the first rule that could allow
    and why it cannot be decided; INVALID carries the `problems`.
    """

    verdict: Verdict
    query: Query
    rule: RuleRef | None = None
    isolating: tuple[str, ...] = ()
    reason: str = ""
    problems: tuple[PolicyProblem, ...] = ()

    @property
    def passes(self) -> bool | None:
        """True: the traffic gets through; False: it is dropped; None: not known."""
        if self.verdict in (Verdict.ALLOWED, Verdict.NOT_ISOLATED):
            return True
        if self.verdict is Verdict.DENIED:
            return False
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            **self.query.to_json(),
            "verdict": self.verdict.value,
            "rule": str(self.rule) if self.rule else None,
            "isolating": list(self.isolating),
            "reason": self.reason,
            "problems": [p.to_json() for p in self.problems],
        }


@dataclass(frozen=True)
class _Unknown:
    """A match that cannot be decided, and why."""

    reason: str


_Match = Union[bool, _Unknown]  # noqa: UP007


def _any(matches: Iterable[_Match]) -> _Match:
    """Kleene OR: True wins, then the first unknown, else False."""
    unknown: _Unknown | None = None
    for m in matches:
        if m is True:
            return True
        if isinstance(m, _Unknown) and unknown is None:
            unknown = m
    return unknown if unknown is not None else False


def _both(a: _Match, b: _Match) -> _Match:
    """Kleene AND: False wins, then the first unknown, else True."""
    if a is False or b is False:
        return False
    if isinstance(a, _Unknown):
        return a
    return b


def _block_matches(block: IpBlock, remote: Network | None, query: Query) -> _Match:
    if block.family is not query.family:
        return False
    if block.whole_family:
        return True  # whatever address of the family the policy sees
    what = "source" if query.direction is Direction.INGRESS else "destination"
    if query.rewritten:
        return _Unknown(
            f"the {what} address the policy sees may be rewritten (NodePort, load balancer) "
            f"before or after policy processing, which the network plugin decides; "
            f"ipBlock {block.cidr} may not match it"
        )
    if remote is None:
        return _Unknown(f"the {what} address is not known; ipBlock {block.cidr} decides")
    lo, hi = _span(remote)
    first, last = block.span
    if hi < first or lo > last:
        return False
    if lo < first or hi > last:
        return _Unknown(f"{remote} is only partly inside ipBlock {block.cidr}")
    for ex, (ex_first, ex_last) in zip(block.excepts, block.except_spans, strict=True):
        if ex_first <= lo and hi <= ex_last:
            return False
        if not (hi < ex_first or lo > ex_last):
            return _Unknown(f"{remote} is only partly inside except {ex} of {block.cidr}")
    return True


def _peer_matches(peer: Peer, remote: Network | None, query: Query) -> _Match:
    if peer.ip_block is not None:
        return _block_matches(peer.ip_block, remote, query)
    # podSelector/namespaceSelector peers select pods; the peer cluster is outside.
    return False


def _port_matches(spec: PortSpec, query: Query) -> _Match:
    if spec.protocol != query.protocol:
        return False
    if spec.port is None:
        return True
    if isinstance(spec.port, int):
        return spec.port <= query.port <= (spec.end_port or spec.port)
    if query.direction is Direction.EGRESS:
        return False  # a port name is a pod's; an external destination has none
    if query.named_ports is None:
        return _Unknown(f"port name {spec.port!r}: the Volt pods' container ports are not known")
    return any(
        cp.name == spec.port and cp.protocol == spec.protocol and cp.port == query.port
        for cp in query.named_ports
    )


def _rule_matches(rule: Rule, remote: Network | None, query: Query) -> _Match:
    peers = True if not rule.peers else _any(_peer_matches(p, remote, query) for p in rule.peers)
    ports = True if not rule.ports else _any(_port_matches(p, query) for p in rule.ports)
    return _both(peers, ports)


_REWRITTEN = {
    Direction.INGRESS: (
        "no rule allows every source, and the source the policy sees may be rewritten to a "
        "node's address (NodePort, load balancer) before or after policy processing, and "
        "traffic from the pod's own node is always allowed: the network plugin decides"
    ),
    Direction.EGRESS: (
        "no rule allows every destination, and a connection to a Service address rewritten "
        "to an external one may or may not be subject to ipBlock rules: the network plugin "
        "decides"
    ),
}


def evaluate(
    policies: PolicySet | Sequence[object], pod_labels: Mapping[str, str], query: Query
) -> Decision:
    """Whether `policies` (one namespace's NetworkPolicy wire dicts, or them decoded
    once as a PolicySet) let `query` through for pods labelled `pod_labels`.

    Never raises for what the policies hold; raises ValueError only for a `query`
    whose remote is not an address or CIDR of its family (a caller's mistake).
    """
    policy_set = policies if isinstance(policies, PolicySet) else PolicySet.decode(policies)
    return _decide(
        policy_set.problems_for(pod_labels),
        policy_set.isolating(pod_labels, query.direction),
        query,
    )


def _decide(
    problems: tuple[PolicyProblem, ...], isolating: tuple[Policy, ...], query: Query
) -> Decision:
    """`evaluate` once the pods' problems and isolating policies are known."""
    remote = query.remote_network()
    if problems:
        return Decision(
            Verdict.INVALID,
            query,
            reason=f"{len(problems)} policy object(s) could not be read: {problems[0]}",
            problems=problems,
        )
    if not isolating:
        return Decision(
            Verdict.NOT_ISOLATED,
            query,
            reason=f"no NetworkPolicy selects the pods for {query.direction}",
        )
    refs = tuple(p.ref for p in isolating)
    undecided: list[tuple[RuleRef, _Unknown]] = []
    for policy in isolating:
        for index, rule in enumerate(policy.rules(query.direction)):
            match = _rule_matches(rule, remote, query)
            ref = RuleRef(policy.ref, query.direction, index)
            if match is True:
                return Decision(Verdict.ALLOWED, query, rule=ref, isolating=refs)
            if isinstance(match, _Unknown):
                undecided.append((ref, match))
    if query.rewritten:
        # After SNAT the source may be a node's address, and traffic from the pod's own
        # node is always allowed (network-policies docs, "IP blocks" exception).
        return Decision(
            Verdict.DEPENDS_ON_PLUGIN,
            query,
            rule=undecided[0][0] if undecided else None,
            isolating=refs,
            reason=_REWRITTEN[query.direction],
        )
    if undecided:
        ref, unknown = undecided[0]
        return Decision(
            Verdict.UNDETERMINED,
            query,
            rule=ref,
            isolating=refs,
            reason=f"{ref}: {unknown.reason}",
        )
    return Decision(
        Verdict.DENIED,
        query,
        isolating=refs,
        reason=(
            f"{query.direction} isolated by {', '.join(refs)} and no rule allows "
            f"{query.family} {query.remote or 'any address'} port {query.port}/{query.protocol}"
        ),
    )


# -- per family: every endpoint, and the rule to add ---------------------------------


@dataclass(frozen=True)
class FamilySummary:
    """One direction and family over every peer endpoint: does policy let them all through?"""

    direction: Direction
    family: Family
    decisions: tuple[Decision, ...]

    @property
    def passes(self) -> bool | None:
        """True: every endpoint passes; False: some are dropped; None: otherwise (or none)."""
        verdicts = [d.passes for d in self.decisions]
        if not verdicts:
            return None
        if False in verdicts:
            return False
        return True if all(verdicts) else None

    @property
    def denied(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if d.verdict is Verdict.DENIED)

    @property
    def isolating(self) -> tuple[str, ...]:
        """The policies that isolate the pods in this direction (from any decision)."""
        seen: dict[str, None] = {}
        for d in self.decisions:
            seen.update(dict.fromkeys(d.isolating))
        return tuple(seen)

    def to_json(self) -> dict[str, Any]:
        return {
            "direction": self.direction.value,
            "family": self.family.value,
            "passes": self.passes,
            "decisions": [d.to_json() for d in self.decisions],
        }


def summarize(
    policies: PolicySet | Sequence[object],
    pod_labels: Mapping[str, str],
    direction: Direction,
    family: Family,
    endpoints: Iterable[tuple[str | None, int]],
    *,
    protocol: str = "TCP",
    rewritten: bool = False,
    named_ports: tuple[ContainerPort, ...] | None = None,
) -> FamilySummary:
    """`evaluate` for each (remote address or None, port) of `family` in `endpoints`.

    Endpoints of the other family are left out (an address of one family says nothing
    about the other); duplicates are evaluated once.
    """
    policy_set = policies if isinstance(policies, PolicySet) else PolicySet.decode(policies)
    problems = policy_set.problems_for(pod_labels)
    isolating = policy_set.isolating(pod_labels, direction)
    seen: set[tuple[str | None, int]] = set()
    decisions: list[Decision] = []
    for remote, port in endpoints:
        if remote is not None and _family_of(remote) is not family:
            continue
        if (remote, port) in seen:
            continue
        seen.add((remote, port))
        query = Query(direction, family, remote, port, protocol, rewritten, named_ports)
        decisions.append(_decide(problems, isolating, query))
    return FamilySummary(direction, family, tuple(decisions))


def _family_of(remote: str) -> Family | None:
    """The family of an address (parsed the fast way) or a CIDR; None for neither."""
    parsed = parse_ip(remote)
    if parsed is not None:
        return parsed[0]
    try:
        version = ipaddress.ip_network(remote, strict=False).version
    except ValueError:
        return None
    return Family.IPV4 if version == 4 else Family.IPV6


def remedy_policy(
    direction: Direction,
    family: Family,
    remotes: Iterable[str],
    ports: Iterable[int],
    pod_selector: Mapping[str, str],
    *,
    name: str | None = None,
    namespace: str | None = None,
    protocol: str = "TCP",
) -> dict[str, Any]:
    """A NetworkPolicy (wire dict) that allows `direction` traffic of `family` between
    pods matching `pod_selector` and `remotes` (addresses or CIDRs; those of the other
    family are ignored; none left: the whole family, 0.0.0.0/0 or ::/0) on `ports`.

    A new policy rather than an edit: policies are unions, so adding one never narrows
    what another allows. Propose it only for pods already isolated in `direction`
    (a DENIED decision): on pods that are not, it would isolate them.
    """
    networks = [ipaddress.ip_network(r, strict=False) for r in remotes if _family_of(r) is family]
    if networks:
        blocks = [str(n) for n in ipaddress.collapse_addresses(networks)]  # type: ignore[type-var]
    else:
        blocks = ["0.0.0.0/0" if family is Family.IPV4 else "::/0"]
    rule = {
        direction.peers_field: [{"ipBlock": {"cidr": cidr}} for cidr in blocks],
        "ports": [{"protocol": protocol, "port": port} for port in sorted(set(ports))],
    }
    metadata: dict[str, Any] = {
        "name": name or f"voltprobe-allow-dr-{direction.rules_field}-{family.value.lower()}"
    }
    if namespace:
        metadata["namespace"] = namespace
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata,
        "spec": {
            "podSelector": {"matchLabels": dict(sorted(pod_selector.items()))},
            "policyTypes": [direction.value],
            direction.rules_field: [rule],
        },
    }


def remedy_yaml(policy: Mapping[str, Any]) -> str:
    """`remedy_policy`'s answer as the YAML a user applies (`kubectl apply -f -`)."""
    import yaml

    return str(yaml.safe_dump(dict(policy), sort_keys=False, default_flow_style=False))


# -- what the policy checks read --------------------------------------------------------


@dataclass(frozen=True)
class PolicyPod:
    """A pod the policies may select: its name and labels."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PolicyFacts:
    """What the policy checks read.

    `policies`: the Volt namespace's NetworkPolicy wire dicts. `selector`: the labels
    the DR Service selects the Volt pods by (the remedy's podSelector). `families`:
    the families in use (the local pods' and the peer's). `egress`: the peer's DR
    endpoints the Volt pods dial, (address, port), both families. `ingress_port`: the
    Volt pods' DR target port (None: ingress is not evaluated); `ingress_sources`: the
    peer's addresses, when known; `ingress_rewritten`: the peer comes in through a
    NodePort or a load balancer that may rewrite the source. `probe_pod`: the Job's pod
    when voltprobe runs in one. `recommended`: the family the verdict recommends.
    `unevaluated`: served policy kinds not evaluated ("Kind (group/version)").
    """

    namespace: str
    policies: tuple[Obj, ...]
    volt_pods: tuple[PolicyPod, ...]
    selector: Mapping[str, str]
    families: tuple[Family, ...] = FAMILIES
    egress: tuple[tuple[str, int], ...] = ()
    ingress_port: int | None = None
    ingress_sources: tuple[str, ...] = ()
    ingress_rewritten: bool = False
    named_ports: tuple[ContainerPort, ...] | None = None
    probe_pod: PolicyPod | None = None
    recommended: Family | None = None
    unevaluated: tuple[str, ...] = ()

    @cached_property
    def policy_set(self) -> PolicySet:
        """The policies decoded once (every check evaluates many connections)."""
        return PolicySet.decode(self.policies)
