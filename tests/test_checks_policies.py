"""The policy checks (probe/checks/policies.py) with literal PolicyFacts: the case each
catches, the case it must not, and the remedy a user would apply."""

from __future__ import annotations

from typing import Any

import yaml

from probe.checks.policies import (
    SPECS,
    PolicyFacts,
    PolicyPod,
    blocked_family,
    one_family_ipblock,
    probe_not_like_volt,
    undecided,
    unevaluated_kinds,
)
from probe.checks.registry import _ID
from probe.model import Family, Severity
from probe.policies import Direction, Query, Verdict, evaluate

V4, V6 = Family.IPV4, Family.IPV6
NS = "volt"
SELECTOR = {"app.kubernetes.io/instance": "mydb", "voltdb.com/component": "cluster"}
PODS = tuple(
    PolicyPod(
        f"mydb-voltdb-cluster-{i}",
        {**SELECTOR, "statefulset.kubernetes.io/pod-name": f"mydb-voltdb-cluster-{i}"},
    )
    for i in range(3)
)
JOB = PolicyPod("voltprobe-abc12", {"app.kubernetes.io/name": "voltprobe", "job-name": "voltprobe"})
PEER = (("192.0.2.10", 5555), ("192.0.2.11", 5555), ("2001:db8::10", 5555), ("2001:db8::11", 5555))


def policy(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": NS},
        "spec": spec,
    }


# The case: egress to 0.0.0.0/0 on 5555 only.
V4_ONLY = policy(
    "volt-dr",
    {
        "podSelector": {"matchLabels": {"voltdb.com/component": "cluster"}},
        "policyTypes": ["Egress"],
        "egress": [
            {
                "to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
                "ports": [{"protocol": "TCP", "port": 5555}],
            }
        ],
    },
)
BOTH = policy(
    "volt-dr-both",
    {
        "podSelector": {"matchLabels": {"voltdb.com/component": "cluster"}},
        "policyTypes": ["Egress"],
        "egress": [
            {
                "to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}, {"ipBlock": {"cidr": "::/0"}}],
                "ports": [{"protocol": "TCP", "port": 5555}],
            }
        ],
    },
)


def facts(*policies: dict[str, Any], **kw: Any) -> PolicyFacts:
    base: dict[str, Any] = {
        "namespace": NS,
        "policies": tuple(policies),
        "volt_pods": PODS,
        "selector": SELECTOR,
        "egress": PEER,
        "recommended": V6,
    }
    base.update(kw)
    return PolicyFacts(**base)


def test_ids_are_valid_and_registered_behind_the_policies_requirement() -> None:
    from probe.checks import DEFAULT_REGISTRY

    for spec in SPECS:
        assert _ID.fullmatch(spec.id), spec.id
        registered = DEFAULT_REGISTRY.get(spec.id)
        assert registered is not None and registered.title == spec.title
        assert registered.requires == ("policies",)
    assert len({s.id for s in SPECS}) == len(SPECS)


def test_vp106_ipv4_only_egress_blocks_ipv6_and_the_remedy_adds_it() -> None:
    hits = list(blocked_family(facts(V4_ONLY)))
    assert len(hits) == 1
    hit = hits[0]
    assert hit.message.startswith("IPv6 Egress of the Volt pods to [2001:db8::10]:5555")
    assert "isolated by volt/volt-dr" in hit.message
    assert hit.subjects == ("networkpolicy/volt/volt-dr",)
    assert hit.severity is Severity.ERROR  # IPv6 is the recommended family
    assert hit.remedy is not None
    manifest = yaml.safe_load(hit.remedy[hit.remedy.index("apiVersion:") :])
    assert manifest["metadata"]["namespace"] == NS
    assert manifest["spec"]["podSelector"] == {"matchLabels": SELECTOR}
    assert manifest["spec"]["egress"] == [
        {
            "to": [{"ipBlock": {"cidr": "2001:db8::10/127"}}],
            "ports": [{"protocol": "TCP", "port": 5555}],
        }
    ]
    # Applying the remedy lets every Volt pod through in IPv6.
    for pod in PODS:
        for address, port in PEER[2:]:
            decision = evaluate(
                [V4_ONLY, manifest], pod.labels, Query(Direction.EGRESS, V6, address, port)
            )
            assert decision.verdict is Verdict.ALLOWED
    assert list(blocked_family(facts(V4_ONLY, manifest))) == []


def test_vp106_is_a_warning_when_the_verdict_picks_the_other_family() -> None:
    (hit,) = blocked_family(facts(V4_ONLY, recommended=V4))
    assert hit.severity is Severity.WARNING
    (hit,) = blocked_family(facts(V4_ONLY, recommended=None))
    assert hit.severity is Severity.ERROR


def test_vp106_silent_when_both_families_are_allowed_or_nothing_isolates() -> None:
    assert list(blocked_family(facts(BOTH))) == []
    assert list(blocked_family(facts())) == []


def test_vp106_ingress_default_deny_with_known_peer_addresses() -> None:
    deny = policy("deny-in", {"podSelector": {}, "policyTypes": ["Ingress"]})
    hits = list(
        blocked_family(
            facts(
                deny, egress=(), ingress_port=5555, ingress_sources=("192.0.2.10", "2001:db8::10")
            )
        )
    )
    assert [h.message.split(" of ")[0] for h in hits] == ["IPv4 Ingress", "IPv6 Ingress"]
    assert "from 2001:db8::10 on port 5555" in hits[1].message
    assert hits[1].remedy is not None and "ingress:" in hits[1].remedy and "from:" in hits[1].remedy


def test_vp107_names_the_one_family_rule() -> None:
    (hit,) = one_family_ipblock(facts(V4_ONLY))
    assert hit.message.startswith(
        "volt/volt-dr spec.egress[0] allows the DR port for IPv4 addresses only"
    )
    assert "IPv6 Egress is dropped" in hit.message and hit.severity is Severity.WARNING
    # Harmless when another policy allows IPv6: info only.
    (hit,) = one_family_ipblock(facts(V4_ONLY, BOTH))
    assert hit.severity is Severity.INFO
    # Silent with one family in use, or a rule covering both.
    assert list(one_family_ipblock(facts(V4_ONLY, families=(V4,)))) == []
    assert list(one_family_ipblock(facts(BOTH))) == []


def test_vp107_ignores_rules_for_other_ports() -> None:
    dns = policy(
        "dns",
        {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [{"ipBlock": {"cidr": "10.96.0.10/32"}}],
                    "ports": [{"protocol": "UDP", "port": 53}],
                }
            ],
        },
    )
    assert list(one_family_ipblock(facts(dns))) == []


def test_vp108_the_job_is_not_isolated_while_the_volt_pods_are() -> None:
    hits = list(probe_not_like_volt(facts(V4_ONLY, probe_pod=JOB)))
    assert [h.severity for h in hits] == [Severity.INFO, Severity.WARNING]
    assert hits[0].message.startswith("IPv4 egress: the probing Job's pod voltprobe-abc12")
    assert "the Job's pod not-isolated" in hits[1].message
    assert "Volt pod mydb-voltdb-cluster-0 denied (isolated by volt/volt-dr)" in hits[1].message
    assert hits[1].subjects == ("pod/volt/voltprobe-abc12",)


def test_vp108_silent_when_the_job_meets_the_same_policies() -> None:
    same = PolicyPod("voltprobe-x", {"voltdb.com/component": "cluster"})
    assert list(probe_not_like_volt(facts(V4_ONLY, probe_pod=same))) == []
    assert list(probe_not_like_volt(facts(V4_ONLY))) == []  # not run in a pod


def test_vp109_nodeport_ingress_depends_on_the_plugin() -> None:
    allow = policy(
        "dr-in",
        {
            "podSelector": {"matchLabels": {"voltdb.com/component": "cluster"}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {"from": [{"ipBlock": {"cidr": "192.0.2.0/24"}}], "ports": [{"port": 5555}]}
            ],
        },
    )
    f = facts(
        allow,
        egress=(),
        ingress_port=5555,
        ingress_sources=("192.0.2.10",),
        ingress_rewritten=True,
        families=(V4,),
    )
    (hit,) = undecided(f)
    assert "depends-on-network-plugin" in hit.message and "own node" in hit.message
    assert hit.subjects == ("networkpolicy/volt/dr-in",)
    assert list(blocked_family(f)) == []
    # With the source kept (externalTrafficPolicy: Local), it is decided.
    assert (
        list(
            undecided(
                facts(
                    allow,
                    egress=(),
                    ingress_port=5555,
                    ingress_sources=("192.0.2.10",),
                    families=(V4,),
                )
            )
        )
        == []
    )


def test_vp109_a_malformed_policy_cannot_be_evaluated() -> None:
    bad = policy(
        "bad",
        {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"ipBlock": {"cidr": "nope"}}]}],
        },
    )
    hits = list(undecided(facts(bad)))
    assert len(hits) == 2 and all("could-not-evaluate" in h.message for h in hits)
    assert "volt/bad: spec.egress[0].to[0].ipBlock.cidr" in hits[0].message


def test_vp110_names_the_kinds() -> None:
    (hit,) = unevaluated_kinds(facts(unevaluated=("CiliumNetworkPolicy (cilium.io/v2)",)))
    assert "CiliumNetworkPolicy (cilium.io/v2)" in hit.message
    assert list(unevaluated_kinds(facts())) == []
