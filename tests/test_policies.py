"""The NetworkPolicy evaluator, table by table: the specification's examples, then the
per-family traps. Each case asserts the verdict and what decided it (the allowing rule,
or the isolating policies).

The policies are the documentation's examples where they exist
(https://kubernetes.io/docs/concepts/services-networking/network-policies/); their
172.17/10.0 CIDRs are policy data only, no traffic is sent anywhere.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from probe.model import Family
from probe.policies import (
    ContainerPort,
    Decision,
    Direction,
    Policy,
    PolicyProblem,
    Query,
    Verdict,
    decode_policy,
    evaluate,
    remedy_policy,
    remedy_yaml,
    summarize,
)

V4, V6 = Family.IPV4, Family.IPV6
IN, OUT = Direction.INGRESS, Direction.EGRESS
NS = "volt"
VOLT = {"app": "voltdb", "release": "mydb", "statefulset.kubernetes.io/pod-name": "mydb-0"}
PEER4, PEER6 = "192.0.2.10", "2001:db8::10"


def policy(name: str, spec: dict[str, Any], namespace: str = NS) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def egress_to(cidr: str, port: int = 5555, **block: Any) -> dict[str, Any]:
    return {
        "to": [{"ipBlock": {"cidr": cidr, **block}}],
        "ports": [{"protocol": "TCP", "port": port}],
    }


# -- the documentation's examples ------------------------------------------------------

# "test-network-policy", verbatim.
DOCS_TEST_POLICY = policy(
    "test-network-policy",
    {
        "podSelector": {"matchLabels": {"role": "db"}},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [
            {
                "from": [
                    {"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.1.0/24"]}},
                    {"namespaceSelector": {"matchLabels": {"project": "myproject"}}},
                    {"podSelector": {"matchLabels": {"role": "frontend"}}},
                ],
                "ports": [{"protocol": "TCP", "port": 6379}],
            }
        ],
        "egress": [
            {
                "to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}],
                "ports": [{"protocol": "TCP", "port": 5978}],
            }
        ],
    },
    namespace="default",
)
DB = {"role": "db"}
DEFAULT_DENY_INGRESS = policy(
    "default-deny-ingress", {"podSelector": {}, "policyTypes": ["Ingress"]}
)
ALLOW_ALL_INGRESS = policy(
    "allow-all-ingress", {"podSelector": {}, "ingress": [{}], "policyTypes": ["Ingress"]}
)
DEFAULT_DENY_EGRESS = policy("default-deny-egress", {"podSelector": {}, "policyTypes": ["Egress"]})
ALLOW_ALL_EGRESS = policy(
    "allow-all-egress", {"podSelector": {}, "egress": [{}], "policyTypes": ["Egress"]}
)
DEFAULT_DENY_ALL = policy(
    "default-deny-all", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
)
# The endPort example: egress to 10.0.0.0/24 on TCP 32000-32768.
MULTI_PORT_EGRESS = policy(
    "multi-port-egress",
    {
        "podSelector": {"matchLabels": {"role": "db"}},
        "policyTypes": ["Egress"],
        "egress": [
            {
                "to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}],
                "ports": [{"protocol": "TCP", "port": 32000, "endPort": 32768}],
            }
        ],
    },
)

# -- the per-family traps ------------------------------------------------------------

IPV4_ONLY_EGRESS = policy(
    "dr-egress-v4",
    {
        "podSelector": {"matchLabels": {"app": "voltdb"}},
        "policyTypes": ["Egress"],
        "egress": [egress_to("0.0.0.0/0")],
    },
)
DNS_ONLY_EGRESS = policy(
    "allow-dns",
    {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [
            {
                "to": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                        },
                        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                    }
                ],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
            }
        ],
    },
)
EXCEPT_PEER = policy(
    "dr-egress-except",
    {
        "podSelector": {"matchLabels": {"app": "voltdb"}},
        "policyTypes": ["Egress"],
        "egress": [egress_to("2001:db8::/32", **{"except": ["2001:db8::/64"]})],
    },
)
OTHER_PODS = policy(
    "web-only",
    {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress", "Egress"]},
)
# policyTypes omitted: Ingress always; Egress because spec.egress has a rule.
TYPES_OMITTED = policy(
    "types-omitted",
    {"podSelector": {"matchLabels": {"app": "voltdb"}}, "egress": [egress_to("192.0.2.0/24")]},
)
# policyTypes omitted and only ingress rules: Egress is not isolated.
TYPES_OMITTED_INGRESS = policy(
    "types-omitted-ingress",
    {
        "podSelector": {"matchLabels": {"app": "voltdb"}},
        "ingress": [{"from": [{"ipBlock": {"cidr": "198.51.100.0/24"}}]}],
    },
)
INGRESS_DR = policy(
    "dr-ingress",
    {
        "podSelector": {
            "matchExpressions": [
                {"key": "app", "operator": "In", "values": ["voltdb"]},
                {"key": "tier", "operator": "NotIn", "values": ["client"]},
                {"key": "release", "operator": "Exists"},
                {"key": "debug", "operator": "DoesNotExist"},
            ]
        },
        "policyTypes": ["Ingress"],
        "ingress": [
            {
                "from": [
                    {"ipBlock": {"cidr": "192.0.2.0/24"}},
                    {"ipBlock": {"cidr": "2001:db8::/48"}},
                ],
                "ports": [{"port": "replication"}],
            }
        ],
    },
)
DR_PORTS = (ContainerPort("replication", 5555), ContainerPort("client", 21212))


@dataclass(frozen=True)
class Case:
    policies: tuple[dict[str, Any], ...]
    labels: dict[str, str]
    query: Query
    verdict: Verdict
    rule: str | None = None
    isolating: tuple[str, ...] = ()
    reason_has: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def q(
    direction: Direction, family: Family, remote: str | None, port: int = 5555, **kw: Any
) -> Query:
    return Query(direction, family, remote, port, **kw)


CASES: dict[str, Case] = {
    # The docs' test-network-policy.
    "docs: ingress from 172.17.0.5 on 6379 is allowed by the ipBlock": Case(
        (DOCS_TEST_POLICY,),
        DB,
        q(IN, V4, "172.17.0.5", 6379),
        Verdict.ALLOWED,
        rule="default/test-network-policy spec.ingress[0]",
        isolating=("default/test-network-policy",),
    ),
    "docs: ingress from the except range 172.17.1.0/24 is denied": Case(
        (DOCS_TEST_POLICY,),
        DB,
        q(IN, V4, "172.17.1.7", 6379),
        Verdict.DENIED,
        isolating=("default/test-network-policy",),
    ),
    "docs: ingress on another port is denied": Case(
        (DOCS_TEST_POLICY,),
        DB,
        q(IN, V4, "172.17.0.5", 6380),
        Verdict.DENIED,
        isolating=("default/test-network-policy",),
    ),
    "docs: pod and namespace selectors never match an external address": Case(
        (DOCS_TEST_POLICY,),
        DB,
        q(IN, V4, "192.0.2.1", 6379),
        Verdict.DENIED,
        isolating=("default/test-network-policy",),
    ),
    "docs: egress to 10.0.0.9:5978 is allowed": Case(
        (DOCS_TEST_POLICY,),
        DB,
        q(OUT, V4, "10.0.0.9", 5978),
        Verdict.ALLOWED,
        rule="default/test-network-policy spec.egress[0]",
        isolating=("default/test-network-policy",),
    ),
    "docs: egress to 10.0.1.9 is outside the ipBlock": Case(
        (DOCS_TEST_POLICY,),
        DB,
        q(OUT, V4, "10.0.1.9", 5978),
        Verdict.DENIED,
        isolating=("default/test-network-policy",),
    ),
    "docs: the policy does not select pods without role=db": Case(
        (DOCS_TEST_POLICY,),
        VOLT,
        q(IN, V4, "192.0.2.1", 6379),
        Verdict.NOT_ISOLATED,
    ),
    "docs: default deny ingress": Case(
        (DEFAULT_DENY_INGRESS,),
        VOLT,
        q(IN, V4, PEER4),
        Verdict.DENIED,
        isolating=("volt/default-deny-ingress",),
    ),
    "docs: default deny ingress leaves egress alone": Case(
        (DEFAULT_DENY_INGRESS,),
        VOLT,
        q(OUT, V6, PEER6),
        Verdict.NOT_ISOLATED,
    ),
    "docs: allow all ingress beats default deny (a union)": Case(
        (DEFAULT_DENY_INGRESS, ALLOW_ALL_INGRESS),
        VOLT,
        q(IN, V6, PEER6),
        Verdict.ALLOWED,
        rule="volt/allow-all-ingress spec.ingress[0]",
        isolating=("volt/default-deny-ingress", "volt/allow-all-ingress"),
    ),
    "docs: default deny egress": Case(
        (DEFAULT_DENY_EGRESS,),
        VOLT,
        q(OUT, V6, PEER6),
        Verdict.DENIED,
        isolating=("volt/default-deny-egress",),
    ),
    "docs: allow all egress, even to an unknown address": Case(
        (DEFAULT_DENY_EGRESS, ALLOW_ALL_EGRESS),
        VOLT,
        q(OUT, V6, None),
        Verdict.ALLOWED,
        rule="volt/allow-all-egress spec.egress[0]",
        isolating=("volt/default-deny-egress", "volt/allow-all-egress"),
    ),
    "docs: default deny all, ingress": Case(
        (DEFAULT_DENY_ALL,),
        VOLT,
        q(IN, V4, PEER4),
        Verdict.DENIED,
        isolating=("volt/default-deny-all",),
    ),
    "docs: endPort includes its last port": Case(
        (MULTI_PORT_EGRESS,),
        DB,
        q(OUT, V4, "10.0.0.1", 32768),
        Verdict.ALLOWED,
        rule="volt/multi-port-egress spec.egress[0]",
        isolating=("volt/multi-port-egress",),
    ),
    "docs: endPort, one past the range": Case(
        (MULTI_PORT_EGRESS,),
        DB,
        q(OUT, V4, "10.0.0.1", 32769),
        Verdict.DENIED,
        isolating=("volt/multi-port-egress",),
    ),
    "docs: endPort, one below the range": Case(
        (MULTI_PORT_EGRESS,),
        DB,
        q(OUT, V4, "10.0.0.1", 31999),
        Verdict.DENIED,
        isolating=("volt/multi-port-egress",),
    ),
    "no policy at all": Case((), VOLT, q(OUT, V4, PEER4), Verdict.NOT_ISOLATED),
    # Per-family traps.
    "0.0.0.0/0 allows the IPv4 peer": Case(
        (IPV4_ONLY_EGRESS,),
        VOLT,
        q(OUT, V4, PEER4),
        Verdict.ALLOWED,
        rule="volt/dr-egress-v4 spec.egress[0]",
        isolating=("volt/dr-egress-v4",),
    ),
    "0.0.0.0/0 does not allow the IPv6 peer": Case(
        (IPV4_ONLY_EGRESS,),
        VOLT,
        q(OUT, V6, PEER6),
        Verdict.DENIED,
        isolating=("volt/dr-egress-v4",),
        reason_has="IPv6 2001:db8::10 port 5555/TCP",
    ),
    "0.0.0.0/0 allows an unknown IPv4 address": Case(
        (IPV4_ONLY_EGRESS,),
        VOLT,
        q(OUT, V4, None),
        Verdict.ALLOWED,
        rule="volt/dr-egress-v4 spec.egress[0]",
        isolating=("volt/dr-egress-v4",),
    ),
    "0.0.0.0/0 on 5555 does not allow UDP": Case(
        (IPV4_ONLY_EGRESS,),
        VOLT,
        q(OUT, V4, PEER4, protocol="UDP"),
        Verdict.DENIED,
        isolating=("volt/dr-egress-v4",),
    ),
    "except: the peer inside the except range is denied": Case(
        (EXCEPT_PEER,),
        VOLT,
        q(OUT, V6, "2001:db8::10"),
        Verdict.DENIED,
        isolating=("volt/dr-egress-except",),
    ),
    "except: the peer outside the except range is allowed": Case(
        (EXCEPT_PEER,),
        VOLT,
        q(OUT, V6, "2001:db8:0:1::10"),
        Verdict.ALLOWED,
        rule="volt/dr-egress-except spec.egress[0]",
        isolating=("volt/dr-egress-except",),
    ),
    "except: a peer CIDR straddling the except range is undetermined": Case(
        (EXCEPT_PEER,),
        VOLT,
        q(OUT, V6, "2001:db8::/63"),
        Verdict.UNDETERMINED,
        rule="volt/dr-egress-except spec.egress[0]",
        isolating=("volt/dr-egress-except",),
        reason_has="only partly inside except",
    ),
    "except: an unknown peer address is undetermined": Case(
        (EXCEPT_PEER,),
        VOLT,
        q(OUT, V6, None),
        Verdict.UNDETERMINED,
        rule="volt/dr-egress-except spec.egress[0]",
        isolating=("volt/dr-egress-except",),
        reason_has="not known",
    ),
    "a peer CIDR wider than the ipBlock is undetermined": Case(
        (TYPES_OMITTED,),
        VOLT,
        q(OUT, V4, "192.0.2.0/23"),
        Verdict.UNDETERMINED,
        rule="volt/types-omitted spec.egress[0]",
        isolating=("volt/types-omitted",),
        reason_has="only partly inside ipBlock 192.0.2.0/24",
    ),
    "a peer CIDR inside the ipBlock is allowed": Case(
        (TYPES_OMITTED,),
        VOLT,
        q(OUT, V4, "192.0.2.128/25"),
        Verdict.ALLOWED,
        rule="volt/types-omitted spec.egress[0]",
        isolating=("volt/types-omitted",),
    ),
    "egress default deny with only DNS allowed: IPv4 peer denied": Case(
        (DNS_ONLY_EGRESS,),
        VOLT,
        q(OUT, V4, PEER4),
        Verdict.DENIED,
        isolating=("volt/allow-dns",),
    ),
    "egress default deny with only DNS allowed: IPv6 peer on 53 still denied (external)": Case(
        (DNS_ONLY_EGRESS,),
        VOLT,
        q(OUT, V6, PEER6, 53, protocol="UDP"),
        Verdict.DENIED,
        isolating=("volt/allow-dns",),
    ),
    "a policy selecting other pods does not isolate the Volt pods": Case(
        (OTHER_PODS,),
        VOLT,
        q(IN, V6, PEER6),
        Verdict.NOT_ISOLATED,
    ),
    "policyTypes omitted with egress rules: egress isolated": Case(
        (TYPES_OMITTED,),
        VOLT,
        q(OUT, V6, PEER6),
        Verdict.DENIED,
        isolating=("volt/types-omitted",),
    ),
    "policyTypes omitted: ingress isolated although it has no ingress rule": Case(
        (TYPES_OMITTED,),
        VOLT,
        q(IN, V4, PEER4),
        Verdict.DENIED,
        isolating=("volt/types-omitted",),
    ),
    "policyTypes omitted with ingress rules only: egress not isolated": Case(
        (TYPES_OMITTED_INGRESS,),
        VOLT,
        q(OUT, V6, PEER6),
        Verdict.NOT_ISOLATED,
    ),
    "policyTypes omitted with ingress rules only: ingress rule, every port": Case(
        (TYPES_OMITTED_INGRESS,),
        VOLT,
        q(IN, V4, "198.51.100.9", 12345),
        Verdict.ALLOWED,
        rule="volt/types-omitted-ingress spec.ingress[0]",
        isolating=("volt/types-omitted-ingress",),
    ),
    "matchExpressions select the Volt pods; named port resolves on ingress": Case(
        (INGRESS_DR,),
        VOLT,
        q(IN, V6, "2001:db8::7", named_ports=DR_PORTS),
        Verdict.ALLOWED,
        rule="volt/dr-ingress spec.ingress[0]",
        isolating=("volt/dr-ingress",),
    ),
    "named port on ingress names another container port": Case(
        (INGRESS_DR,),
        VOLT,
        q(IN, V4, "192.0.2.7", 21212, named_ports=DR_PORTS),
        Verdict.DENIED,
        isolating=("volt/dr-ingress",),
    ),
    "named port on ingress, container ports unknown": Case(
        (INGRESS_DR,),
        VOLT,
        q(IN, V4, "192.0.2.7"),
        Verdict.UNDETERMINED,
        rule="volt/dr-ingress spec.ingress[0]",
        isolating=("volt/dr-ingress",),
        reason_has="replication",
    ),
    "NotIn excludes a labelled pod": Case(
        (INGRESS_DR,),
        {**VOLT, "tier": "client"},
        q(IN, V4, "192.0.2.7"),
        Verdict.NOT_ISOLATED,
    ),
    "DoesNotExist excludes a labelled pod": Case(
        (INGRESS_DR,),
        {**VOLT, "debug": "1"},
        q(IN, V4, "192.0.2.7"),
        Verdict.NOT_ISOLATED,
    ),
    "a named port never matches an external egress destination": Case(
        (
            policy(
                "named-egress",
                {
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [{"ports": [{"port": "replication"}]}],
                },
            ),
        ),
        VOLT,
        q(OUT, V4, PEER4, named_ports=DR_PORTS),
        Verdict.DENIED,
        isolating=("volt/named-egress",),
    ),
    "ingress through a NodePort (SNAT) with an ipBlock depends on the plugin": Case(
        (INGRESS_DR,),
        VOLT,
        q(IN, V4, "192.0.2.7", rewritten=True, named_ports=DR_PORTS),
        Verdict.DEPENDS_ON_PLUGIN,
        rule="volt/dr-ingress spec.ingress[0]",
        isolating=("volt/dr-ingress",),
        reason_has="network plugin",
    ),
    "ingress through a NodePort from outside the ipBlock still depends": Case(
        (INGRESS_DR,),
        VOLT,
        q(IN, V4, "203.0.113.7", rewritten=True, named_ports=DR_PORTS),
        Verdict.DEPENDS_ON_PLUGIN,
        rule="volt/dr-ingress spec.ingress[0]",
        isolating=("volt/dr-ingress",),
    ),
    "ingress through a NodePort: ::/0 matches whatever the source": Case(
        (
            policy(
                "any-v6",
                {
                    "podSelector": {},
                    "policyTypes": ["Ingress"],
                    "ingress": [{"from": [{"ipBlock": {"cidr": "::/0"}}]}],
                },
            ),
        ),
        VOLT,
        q(IN, V6, PEER6, rewritten=True),
        Verdict.ALLOWED,
        rule="volt/any-v6 spec.ingress[0]",
        isolating=("volt/any-v6",),
    ),
    "ingress through a NodePort: no rule for the family still depends (the local node is always allowed)": Case(
        (
            policy(
                "any-v4",
                {
                    "podSelector": {},
                    "policyTypes": ["Ingress"],
                    "ingress": [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}],
                },
            ),
        ),
        VOLT,
        q(IN, V6, PEER6, rewritten=True),
        Verdict.DEPENDS_ON_PLUGIN,
        isolating=("volt/any-v4",),
        reason_has="own node",
    ),
    "a second policy's allow-all egress beats the IPv4-only rule (a union)": Case(
        (IPV4_ONLY_EGRESS, ALLOW_ALL_EGRESS),
        VOLT,
        q(OUT, V6, PEER6),
        Verdict.ALLOWED,
        rule="volt/allow-all-egress spec.egress[0]",
        isolating=("volt/dr-egress-v4", "volt/allow-all-egress"),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_decision(name: str) -> None:
    case = CASES[name]
    decision = evaluate(list(case.policies), case.labels, case.query)
    assert decision.verdict is case.verdict, decision.reason
    assert (str(decision.rule) if decision.rule else None) == case.rule
    assert decision.isolating == case.isolating
    assert case.reason_has in decision.reason
    assert decision.to_json()["verdict"] == case.verdict.value


# -- malformed objects: a typed "could not evaluate", never an exception ----------------


def broken(path: list[Any], value: Any) -> dict[str, Any]:
    """IPV4_ONLY_EGRESS with one field replaced."""
    obj = copy.deepcopy(IPV4_ONLY_EGRESS)
    node = obj
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return obj


MALFORMED: dict[str, tuple[Any, str]] = {
    "not an object": ("a string", "(object)"),
    "no spec": ({"metadata": {"name": "x", "namespace": NS}}, "spec"),
    "spec a list": (broken(["spec"], []), "spec"),
    "bad cidr": (
        broken(["spec", "egress", 0, "to", 0, "ipBlock", "cidr"], "0.0.0.0/33"),
        "spec.egress[0].to[0].ipBlock.cidr",
    ),
    "cidr missing": (
        broken(["spec", "egress", 0, "to", 0, "ipBlock"], {}),
        "spec.egress[0].to[0].ipBlock.cidr",
    ),
    "except outside cidr": (
        broken(
            ["spec", "egress", 0, "to", 0, "ipBlock"],
            {"cidr": "192.0.2.0/24", "except": ["198.51.100.0/24"]},
        ),
        "spec.egress[0].to[0].ipBlock.except[0]",
    ),
    "except of the other family": (
        broken(
            ["spec", "egress", 0, "to", 0, "ipBlock"], {"cidr": "0.0.0.0/0", "except": ["::/0"]}
        ),
        "spec.egress[0].to[0].ipBlock.except[0]",
    ),
    "ipBlock with a selector": (
        broken(["spec", "egress", 0, "to", 0, "podSelector"], {}),
        "spec.egress[0].to[0]",
    ),
    "empty peer": (broken(["spec", "egress", 0, "to", 0], {}), "spec.egress[0].to[0]"),
    "port zero": (
        broken(["spec", "egress", 0, "ports", 0, "port"], 0),
        "spec.egress[0].ports[0].port",
    ),
    "port true": (
        broken(["spec", "egress", 0, "ports", 0, "port"], True),
        "spec.egress[0].ports[0].port",
    ),
    "port digits as a string": (
        broken(["spec", "egress", 0, "ports", 0, "port"], "5555"),
        "spec.egress[0].ports[0].port",
    ),
    "endPort below port": (
        broken(["spec", "egress", 0, "ports", 0, "endPort"], 5554),
        "spec.egress[0].ports[0].endPort",
    ),
    "endPort without port": (
        broken(["spec", "egress", 0, "ports", 0], {"endPort": 6000}),
        "spec.egress[0].ports[0].endPort",
    ),
    "endPort with a named port": (
        broken(["spec", "egress", 0, "ports", 0], {"port": "replication", "endPort": 6000}),
        "spec.egress[0].ports[0].endPort",
    ),
    "unknown protocol": (
        broken(["spec", "egress", 0, "ports", 0, "protocol"], "ICMP"),
        "spec.egress[0].ports[0].protocol",
    ),
    "unknown policy type": (broken(["spec", "policyTypes"], ["Sideways"]), "spec.policyTypes[0]"),
    "egress a dict": (broken(["spec", "egress"], {"to": []}), "spec.egress"),
    "unknown selector operator": (
        broken(
            ["spec", "podSelector"],
            {"matchExpressions": [{"key": "app", "operator": "Matches", "values": ["voltdb"]}]},
        ),
        "spec.podSelector.matchExpressions[0].operator",
    ),
    "In without values": (
        broken(["spec", "podSelector"], {"matchExpressions": [{"key": "app", "operator": "In"}]}),
        "spec.podSelector.matchExpressions[0].values",
    ),
    "Exists with values": (
        broken(
            ["spec", "podSelector"],
            {"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["x"]}]},
        ),
        "spec.podSelector.matchExpressions[0].values",
    ),
    "matchLabels value a number": (
        broken(["spec", "podSelector"], {"matchLabels": {"app": 1}}),
        "spec.podSelector.matchLabels",
    ),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_policy_is_a_typed_problem(name: str) -> None:
    obj, where = MALFORMED[name]
    problem = decode_policy(obj, 0)
    assert isinstance(problem, PolicyProblem), problem
    assert problem.field == where
    decision = evaluate([obj, ALLOW_ALL_EGRESS], VOLT, q(OUT, V4, PEER4))
    assert decision.verdict is Verdict.INVALID
    assert decision.problems == (problem,)
    assert decision.passes is None


def test_a_malformed_policy_that_selects_other_pods_does_not_spoil_the_decision() -> None:
    obj = broken(["spec", "egress", 0, "to", 0, "ipBlock", "cidr"], "nonsense")
    obj["spec"]["podSelector"] = {"matchLabels": {"app": "web"}}
    decision = evaluate([obj, IPV4_ONLY_EGRESS], VOLT, q(OUT, V4, PEER4))
    assert decision.verdict is Verdict.ALLOWED
    assert str(decision.rule) == "volt/dr-egress-v4 spec.egress[0]"


def test_a_nameless_policy_is_named_by_its_position() -> None:
    problem = decode_policy({"spec": {"egress": 5}}, 7)
    assert isinstance(problem, PolicyProblem)
    assert str(problem) == "items[7]: spec.egress: expected a list, got int"


def test_the_decoded_policy_keeps_the_defaulted_types() -> None:
    decoded = decode_policy(TYPES_OMITTED)
    assert isinstance(decoded, Policy)
    assert decoded.types == (IN, OUT)
    empty_egress = decode_policy(policy("e", {"podSelector": {}, "egress": []}))
    assert isinstance(empty_egress, Policy) and empty_egress.types == (IN,)


def test_a_remote_of_the_wrong_family_is_the_callers_mistake() -> None:
    with pytest.raises(ValueError, match="not an IPv6 address"):
        evaluate([], VOLT, q(OUT, V6, PEER4))
    with pytest.raises(ValueError, match="protocol 'tcp'"):
        q(OUT, V6, PEER6, protocol="tcp")
    with pytest.raises(ValueError, match="port 0"):
        q(OUT, V6, PEER6, 0)


# -- per family over every endpoint, and the remedy -------------------------------------

DUAL_STACK_PEER = [(PEER4, 5555), ("192.0.2.11", 5555), (PEER6, 5555), ("2001:db8::11", 5555)]


def test_summary_per_family_for_a_dual_stack_peer() -> None:
    v4 = summarize([IPV4_ONLY_EGRESS], VOLT, OUT, V4, DUAL_STACK_PEER)
    v6 = summarize([IPV4_ONLY_EGRESS], VOLT, OUT, V6, DUAL_STACK_PEER)
    assert v4.passes is True and [d.query.remote for d in v4.decisions] == [PEER4, "192.0.2.11"]
    assert v6.passes is False and len(v6.denied) == 2
    assert v6.isolating == ("volt/dr-egress-v4",)
    assert v6.to_json()["passes"] is False


def test_summary_is_unknown_when_one_endpoint_is_undetermined() -> None:
    summary = summarize([EXCEPT_PEER], VOLT, OUT, V6, [("2001:db8:0:1::1", 5555), (None, 5555)])
    assert [d.verdict for d in summary.decisions] == [Verdict.ALLOWED, Verdict.UNDETERMINED]
    assert summary.passes is None
    assert summarize([EXCEPT_PEER], VOLT, OUT, V4, DUAL_STACK_PEER[2:]).passes is None  # none


def decision_after_remedy(extra: dict[str, Any], query: Query) -> Decision:
    return evaluate([IPV4_ONLY_EGRESS, extra], VOLT, query)


def test_remedy_adds_the_peers_ipv6_hosts_and_then_allows_them() -> None:
    remedy = remedy_policy(
        OUT, V6, [PEER6, "2001:db8::11", PEER4], [5555], {"app": "voltdb"}, namespace=NS
    )
    rule = remedy["spec"]["egress"][0]
    assert rule["to"] == [{"ipBlock": {"cidr": "2001:db8::10/127"}}]
    assert rule["ports"] == [{"protocol": "TCP", "port": 5555}]
    assert remedy["spec"]["policyTypes"] == ["Egress"]
    text = remedy_yaml(remedy)
    assert yaml.safe_load(text) == remedy
    assert "2001:db8::10/127" in text and "kind: NetworkPolicy" in text
    for remote in (PEER6, "2001:db8::11"):
        decision = decision_after_remedy(remedy, q(OUT, V6, remote))
        assert decision.verdict is Verdict.ALLOWED
        assert str(decision.rule) == "volt/voltprobe-allow-dr-egress-ipv6 spec.egress[0]"
    assert decision_after_remedy(remedy, q(OUT, V6, "2001:db8::12")).verdict is Verdict.DENIED


def test_remedy_without_addresses_opens_the_whole_family_for_ingress() -> None:
    remedy = remedy_policy(IN, V6, [], [5555], {"app": "voltdb"})
    assert remedy["spec"]["ingress"] == [
        {"from": [{"ipBlock": {"cidr": "::/0"}}], "ports": [{"protocol": "TCP", "port": 5555}]}
    ]
    assert "namespace" not in remedy["metadata"]
    decision = evaluate([DEFAULT_DENY_INGRESS, remedy], VOLT, q(IN, V6, None, rewritten=True))
    assert decision.verdict is Verdict.ALLOWED


# -- totality: whatever the object holds, a decision and never an exception --------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-2, 70000)
    | st.sampled_from(
        ["", "TCP", "Egress", "Ingress", "0.0.0.0/0", "::/0", "2001:db8::/33", "In", "x"]
    ),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "spec",
                    "podSelector",
                    "policyTypes",
                    "egress",
                    "ingress",
                    "to",
                    "from",
                    "ports",
                    "ipBlock",
                    "cidr",
                    "except",
                    "port",
                    "endPort",
                    "protocol",
                    "matchLabels",
                    "matchExpressions",
                    "key",
                    "operator",
                    "values",
                    "namespaceSelector",
                    "metadata",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(obj=JSON, spec=JSON, rule=JSON)
def test_any_json_gives_a_decision(obj: Any, spec: Any, rule: Any) -> None:
    shaped = policy("fuzz", {"podSelector": {}, "egress": [rule], "policyTypes": spec})
    for candidate in (obj, {"spec": spec}, shaped):
        decision = evaluate([candidate], VOLT, q(OUT, V6, PEER6))
        assert isinstance(decision.verdict, Verdict)
        assert (decision.verdict is Verdict.INVALID) == bool(decision.problems)
