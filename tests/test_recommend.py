"""The family choice, the Helm key and values, and the connection.source hint."""

from __future__ import annotations

import dataclasses

from probe.choice import choose, family_problems
from probe.datapath.types import AfterHandshake, DataPath, Greeting
from probe.facts import Facts
from probe.model import Family, ProbeState, Recommendation
from probe.recommend import DR_KEY, PERPOD_DR_KEY
from probe.recommend import recommend as recommend_for_choice
from tests.support.facts import V4, V6, cluster, dns, dr_service, make_facts, row

OPEN, FILTERED = ProbeState.OPEN, ProbeState.FILTERED


def recommend(facts: Facts) -> Recommendation:
    """The choice stage, then the recommendation, as the pipeline runs them."""
    return recommend_for_choice(facts, choose(facts))


def both_names(v4_state: ProbeState, v6_state: ProbeState, inventory=None, per_pod=False):
    return make_facts(
        "peer",
        [dns("peer", V4, "192.0.2.2"), dns("peer", V6, "2001:db8::2")],
        [row("peer", "192.0.2.2", v4_state), row("peer", "2001:db8::2", v6_state)],
        inventory=inventory,
        per_pod=per_pod,
    )


def test_only_working_family_is_recommended() -> None:
    rec = recommend(both_names(FILTERED, OPEN))
    assert rec.ip_families == (V6,)
    assert rec.helm_values == {"cluster": {"serviceSpec": {"dr": {"ipFamilies": ["IPv6"]}}}}
    assert rec.helm_key == DR_KEY


def test_both_work_without_cluster_facts_picks_ipv4_for_the_jvm() -> None:
    rec = recommend(both_names(OPEN, OPEN))
    assert rec.ip_families == (V4,)
    assert "JVM" in rec.rationale[-1]


def test_both_work_with_cluster_facts_picks_the_primary_family() -> None:
    rec = recommend(both_names(OPEN, OPEN, inventory=cluster(primary=V6)))
    assert rec.ip_families == (V6,)
    assert "primary" in rec.rationale[-1]


def test_cluster_that_cannot_allocate_the_only_working_family_gets_no_recommendation() -> None:
    # single-stack IPv4 cluster, IPv6-only peer
    facts = make_facts(
        "peer",
        [dns("peer", V4), dns("peer", V6, "2001:db8::2")],
        [row("peer", None, ProbeState.NO_ADDRESS, family=V4), row("peer", "2001:db8::2", OPEN)],
        inventory=cluster(services={V4: "yes", V6: "no"}, pods={V4: "yes", V6: "no"}),
    )
    rec = recommend(facts)
    assert rec.ip_families == ()
    assert rec.helm_values == {}
    assert any("cannot give Services an IPv6 address" in r for r in rec.rationale)
    assert any("no IPv4 address for peer" in r for r in rec.rationale)


def test_unknown_capability_does_not_rule_a_family_out() -> None:
    inventory = cluster(services={V4: "unknown", V6: "unknown"}, primary=None)
    assert recommend(both_names(FILTERED, OPEN, inventory=inventory)).ip_families == (V6,)


def test_every_named_target_must_have_an_address_in_the_family() -> None:
    facts = make_facts(
        "a,b",
        [
            dns("a", V4, "192.0.2.2"),
            dns("a", V6, "2001:db8::2"),
            dns("b", V4, "192.0.2.3"),
            dns("b", V6),
        ],
        [row("a", "192.0.2.2", OPEN), row("a", "2001:db8::2", OPEN), row("b", "192.0.2.3", OPEN)],
    )
    assert family_problems(facts, V6) == ["no IPv6 address for b"]
    assert recommend(facts).ip_families == (V4,)


def test_ip_literals_count_only_in_their_own_family() -> None:
    facts = make_facts(
        "192.0.2.2,2001:db8::2",
        rows=[row("192.0.2.2", "192.0.2.2", OPEN), row("2001:db8::2", "2001:db8::2", OPEN)],
    )
    assert family_problems(facts, V4) == [] and family_problems(facts, V6) == []


def test_nothing_probed_never_qualifies() -> None:
    facts = make_facts("peer", [dns("peer", V4), dns("peer", V6)])
    assert recommend(facts).ip_families == ()


def test_per_pod_key_from_flag_or_from_cluster() -> None:
    assert recommend(both_names(OPEN, FILTERED, per_pod=True)).helm_values == {
        "cluster": {"serviceSpec": {"perpod": {"dr": {"ipFamilies": ["IPv4"]}}}}
    }
    per_pod_cluster = cluster(dr_services=(dr_service("volt-voltdb-cluster-0-dr", per_pod=True),))
    assert recommend(both_names(OPEN, FILTERED, inventory=per_pod_cluster)).helm_key == (
        PERPOD_DR_KEY
    )


def test_connection_source_uses_ipv6_literals_for_dual_stack_names() -> None:
    rec = recommend(both_names(FILTERED, OPEN))
    assert rec.connection_source == {
        "value": "[2001:db8::2]:5555",
        "helmSet": "[2001:db8::2]:5555",
    }


def test_connection_source_keeps_names_for_ipv4_and_escapes_commas_for_set() -> None:
    facts = make_facts(
        "a,b:6000",
        [dns("a", V4, "192.0.2.2"), dns("a", V6), dns("b", V4, "192.0.2.3"), dns("b", V6)],
        [row("a", "192.0.2.2", OPEN), row("b", "192.0.2.3", OPEN, port=6000)],
    )
    rec = recommend(facts)
    assert rec.connection_source == {"value": "a:5555,b:6000", "helmSet": "a:5555\\,b:6000"}
    assert rec.ip_families == (Family.IPV4,)


# -- issue 11: the local cluster read right -------------------------------------------


def test_unknown_allocation_rules_a_family_out_only_when_dr_services_would_be_recreated() -> None:
    v6_dr = dr_service(families=(V6,))
    inv = cluster(services={V6: "yes"}, dr_services=(v6_dr,), primary=None)
    problems = family_problems(both_names(OPEN, OPEN, inv), V4)
    assert len(problems) == 1 and "--dry-run-service" in problems[0]
    assert recommend(both_names(OPEN, OPEN, inv)).ip_families == (V6,)
    fresh = cluster(services={V6: "yes"}, primary=None)  # nothing deployed yet: nothing to delete
    assert family_problems(both_names(OPEN, OPEN, fresh), V4) == []


def test_both_work_keeps_the_family_the_dr_services_have() -> None:
    inv = cluster(primary=V4, dr_services=(dr_service(families=(V6,)),))
    rec = recommend(both_names(OPEN, OPEN, inv))
    assert rec.ip_families == (V6,) and "already IPv6" in " ".join(rec.rationale)


def test_both_dr_service_kinds_set_both_keys_and_say_which_layout() -> None:
    services = (dr_service(), dr_service(name="volt-voltdb-cluster-0-dr", per_pod=True))
    rec = recommend(both_names(OPEN, FILTERED, cluster(dr_services=services)))
    assert rec.helm_values == {
        "cluster": {
            "serviceSpec": {
                "dr": {"ipFamilies": ["IPv4"]},
                "perpod": {"dr": {"ipFamilies": ["IPv4"]}},
            }
        }
    }
    assert rec.helm_key == f"{DR_KEY} and {PERPOD_DR_KEY}"
    assert "assume the chart layout" in rec.rationale[-1]


def test_chart_1_3_layout_gets_no_values() -> None:
    old = dr_service(chart="voltdb-1.3.5")
    rec = recommend(both_names(OPEN, FILTERED, cluster(dr_services=(old,))))
    assert rec.ip_families == (V4,) and rec.helm_values == {} and rec.helm_key == ""
    assert "servicePerPod" in rec.rationale[-1]
    new = dr_service(chart="voltdb-3.13.0")
    assert recommend(both_names(OPEN, FILTERED, cluster(dr_services=(new,)))).helm_values


def test_a_peer_facing_dr_service_that_cannot_serve_a_family_rules_it_out() -> None:
    from probe.inventory.types import DrReach

    reach = (
        DrReach("volt/dr-0", V6, "no", "node-addresses", "no node has an IPv6 InternalIP"),
        DrReach("volt/dr", V6, "no", "lb-ingress", "no IPv6 ingress (192.0.2.5)"),
    )
    inv = cluster(dr_services=(dr_service(families=(V4, V6)),), dr_reach=reach)
    problems = family_problems(both_names(OPEN, OPEN, inv), V6)
    assert any("NodePort DR Service(s) volt/dr-0" in p for p in problems)
    assert any(
        "load balancer of the DR Service(s) volt/dr has no IPv6 ingress" in p for p in problems
    )
    # a family the Service does not have is VP401's business (recreate), not a rule-out
    other = (DrReach("volt/dr", V6, "no", "service-families", "the Service has no IPv6 family"),)
    inv = cluster(dr_services=(dr_service(families=(V4,)),), dr_reach=other)
    assert family_problems(both_names(OPEN, OPEN, inv), V6) == []


def _with_data_path(facts: Facts, *paths: DataPath) -> Facts:
    return dataclasses.replace(facts, data_path=tuple(paths))


def _seen(address: str, after: AfterHandshake) -> DataPath:
    family = Family.of(address)
    greeting = Greeting(1, "0.1.0", address, None) if after is AfterHandshake.GREETING else None
    return DataPath(address, 5555, family, after, greeting=greeting)


def test_a_name_that_greets_in_one_family_and_is_silent_in_the_other_fails_that_family() -> None:
    facts = _with_data_path(
        both_names(OPEN, OPEN),
        _seen("192.0.2.2", AfterHandshake.GREETING),
        _seen("2001:db8::2", AfterHandshake.SILENT),
    )
    assert family_problems(facts, V4) == []
    assert "do not greet" in " ".join(family_problems(facts, V6))
    assert recommend(facts).ip_families == (V4,)


def test_silence_everywhere_is_normal_for_a_real_dr_listener() -> None:
    facts = _with_data_path(
        both_names(OPEN, OPEN),
        _seen("192.0.2.2", AfterHandshake.SILENT),
        _seen("2001:db8::2", AfterHandshake.SILENT),
    )
    assert family_problems(facts, V4) == [] and family_problems(facts, V6) == []


def test_a_close_right_after_accept_fails_the_family_without_any_expectation() -> None:
    facts = _with_data_path(
        both_names(OPEN, OPEN),
        _seen("192.0.2.2", AfterHandshake.SILENT),
        _seen("2001:db8::2", AfterHandshake.CLOSED),
    )
    assert "right after accept" in " ".join(family_problems(facts, V6))
    assert recommend(facts).ip_families == (V4,)
