"""Issue 18 end to end: `voltprobe check` reads the Volt namespace through the real client
from the fake API server (dual-stack Volt pods and one NetworkPolicy allowing egress to
0.0.0.0/0 on 5555 only) and probes a loopback peer open in both families. The probe
passes IPv6 from where voltprobe runs, but the Volt pods' own IPv6 egress is dropped by
policy: the verdict must not pass IPv6, the finding names the policy, and the remedy
adds the IPv6 block."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from probe.model import Report
from probe.render import render
from tests.fakeapi import FakeApiServer, objects
from tests.fakeapi.fixtures import kubeconfig_for
from tests.support.processes import responder, run_cli

CLEAN_ENV = {"KUBERNETES_SERVICE_HOST": "", "POD_NAME": "", "POD_IPS": "", "POD_IP": ""}


def ipv4_only_egress_policy() -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "volt-dr-egress", "namespace": objects.NAMESPACE},
        "spec": {
            "podSelector": {"matchLabels": {"release": "mydb"}},
            "policyTypes": ["Egress"],
            "egress": [
                # every port (the loopback peer's are ephemeral), IPv4 only
                {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"protocol": "TCP"}]}
            ],
        },
    }


def check(tmp_path: Path, policies: list[dict[str, Any]]) -> dict[str, Any]:
    with FakeApiServer() as api, ExitStack() as stack:
        api.load(objects.dual_stack())
        api.store.put_many(policies)
        v4 = stack.enter_context(responder("127.0.0.1"))
        v6 = stack.enter_context(responder("::1"))
        kubeconfig = kubeconfig_for(api, tmp_path / "kubeconfig", namespace=objects.NAMESPACE)
        done = run_cli(
            "check", "--kubeconfig", str(kubeconfig), "--namespace", objects.NAMESPACE,
            "--peer", f"127.0.0.1:{v4}", "--peer", f"[::1]:{v6}",
            "--mode", "connect", "--data-path", "off", "-o", "json",
            env=CLEAN_ENV,
        )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout)


def test_an_ipv4_only_policy_keeps_ipv6_from_passing_for_the_volt_pods(tmp_path: Path) -> None:
    report = check(tmp_path, [ipv4_only_egress_policy()])
    assert {p["family"]: p["state"] for p in report["probes"]} == {"IPv4": "open", "IPv6": "open"}
    assert "IPv6" not in report["recommendation"]["ipFamilies"]
    rationale = " ".join(report["recommendation"]["rationale"])
    assert "NetworkPolicy drops the Volt pods' IPv6 egress" in rationale
    (blocked,) = [f for f in report["findings"] if f["id"] == "VP111"]
    assert "volt-dr-egress" in blocked["message"] and "IPv6 Egress" in blocked["message"]
    assert "::1/128" in blocked["remedy"] and "kind: NetworkPolicy" in blocked["remedy"]
    assert report["local"]["networkPolicies"]["networkPolicies"] == ["volt-dr-egress"]
    assert report["recommendation"]["ipFamilies"] == ["IPv4"]  # IPv4 egress is allowed
    decided = {
        f["message"].split(":")[0]: f["message"] for f in report["findings"] if f["id"] == "VP116"
    }
    assert "allowed by volt/volt-dr-egress spec.egress[0]" in decided["IPv4 Egress"]
    assert "dropped: isolated by volt/volt-dr-egress" in decided["IPv6 Egress"]
    table = render(Report.from_json(report), "table")
    assert "NetworkPolicies (volt-dr-egress)" in table and "VP111" in table
    assert all(len(line) <= 80 for line in table.splitlines()), table


def test_without_policies_both_families_pass(tmp_path: Path) -> None:
    report = check(tmp_path, [])
    assert not [f for f in report["findings"] if f["id"] == "VP111"]
    assert report["exitCode"] == 0
    assert report["local"]["networkPolicies"]["read"] is True


def test_ingress_is_judged_from_the_peers_addresses_when_a_peer_report_gives_them() -> None:
    """The peer's inventory names where its DR connections come from (its Volt pods and
    nodes); an ingress rule that lets in only IPv4 drops the peer's IPv6 sources."""
    from dataclasses import replace

    from probe.choice import family_problems
    from probe.inventory.policies import PolicyInventory
    from probe.inventory.types import PodInfo
    from probe.merge.peers import peer_sources
    from probe.model import Family
    from tests.support.facts import cluster, dr_service, make_facts

    policy = {
        "metadata": {"name": "dr-in", "namespace": "volt"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "volt"}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}],
        },
    }
    pod = PodInfo("volt", "volt-0", ("192.0.2.10", "2001:db8::10"), labels=(("app", "volt"),))
    inventory = cluster(
        dr_services=(dr_service(families=(Family.IPV4, Family.IPV6)),),
        volt_pods=(pod,),
        policies=PolicyInventory("volt", (policy,)),
    )
    peer = type("Doc", (), {})()
    peer.local = {
        "pods": {"volt": [{"ips": ["198.51.100.7", "2001:db8:b::7"]}]},
        "nodes": [{"addresses": [{"type": "InternalIP", "address": "2001:db8:b::1"}]}],
    }
    sources = peer_sources(peer)
    assert sources == ("198.51.100.7", "2001:db8:b::7", "2001:db8:b::1")
    facts = make_facts("192.0.2.99", inventory=inventory)
    facts = replace(facts, options=replace(facts.options, peer_sources=sources))
    v6 = " ".join(family_problems(facts, Family.IPV6))
    assert "drops the Volt pods' IPv6 ingress" in v6 and "2001:db8:b::7" in v6
    assert not [p for p in family_problems(facts, Family.IPV4) if "NetworkPolicy" in p]
