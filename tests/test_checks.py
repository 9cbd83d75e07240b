"""Each check with literal facts: the case it catches, the case it must not, its skip path."""

from __future__ import annotations

import pytest

from probe.checks import DEFAULT_REGISTRY, Hit, Registry
from probe.checks.registry import unmet_requirement
from probe.choice import Choice, choose
from probe.inventory.types import EndpointSliceInfo, LoadBalancerIngress
from probe.kube.errors import ApiProblem
from probe.model import DnsOutcome, Finding, IcmpError, ProbeState, Severity
from tests.support.facts import V4, V6, cluster, dns, dr_service, make_facts, row

OPEN, CLOSED, FILTERED = ProbeState.OPEN, ProbeState.CLOSED, ProbeState.FILTERED
UNREACH = ProbeState.UNREACHABLE


CHOOSE = object()  # run the choice stage on the facts, as the pipeline does


def given(facts, recommended) -> Choice:
    """The choice a check is given: a literal family (or None), or the choice stage's."""
    return choose(facts) if recommended is CHOOSE else Choice(recommended)


def run(check_id: str, facts, recommended=CHOOSE) -> list[Finding]:
    spec = DEFAULT_REGISTRY.get(check_id)
    assert spec is not None
    choice = given(facts, recommended)
    reason = unmet_requirement(spec, facts, choice)
    assert not reason, f"{check_id} skipped: {reason}"
    return [spec.finding(hit) for hit in spec.func(facts, choice)]


def skip_reason(check_id: str, facts, recommended=CHOOSE) -> str:
    spec = DEFAULT_REGISTRY.get(check_id)
    assert spec is not None
    return unmet_requirement(spec, facts, given(facts, recommended))


def peer_both(*rows_) -> object:
    return make_facts(
        "peer",
        [dns("peer", V4, "192.0.2.2"), dns("peer", V6, "2001:db8::2")],
        list(rows_),
    )


# --- the framework -----------------------------------------------------------


def test_fresh_registry_runs_only_its_checks_and_records_skips() -> None:
    registry = Registry()

    @registry.check("VP399", "always", Severity.INFO)
    def always(facts, choice):
        yield Hit("hello", ("x",))

    @registry.check("VP398", "needs cluster", Severity.ERROR, requires=("cluster",))
    def needs(facts, choice):
        raise AssertionError("must be skipped, never run")

    @registry.check("VP397", "finds nothing", Severity.ERROR)
    def nothing(facts, choice):
        return []

    checked = registry.run(make_facts("192.0.2.1"), Choice(None))
    assert [(f.id, f.message, f.subjects) for f in checked.findings] == [("VP399", "hello", ("x",))]
    assert [(s.id, s.reason) for s in checked.skipped] == [
        ("VP398", "no Kubernetes facts (--no-kube given)")
    ]
    assert [(p.id, p.title) for p in checked.passed] == [("VP397", "finds nothing")]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"id": "VP9"}, "must look like"),
        ({"id": "XX101"}, "must look like"),
        ({"id": "VP101", "requires": ("nonsense",)}, "unknown facts"),
    ],
)
def test_registration_is_validated_at_once(kwargs: dict, message: str) -> None:
    registry = Registry()
    args = {"id": "VP101", "title": "t", "severity": Severity.INFO, **kwargs}
    with pytest.raises(ValueError, match=message):
        registry.check(**args)(lambda facts, choice: [])  # type: ignore[arg-type]


def test_duplicate_id_is_refused() -> None:
    registry = Registry()
    registry.check("VP101", "a", Severity.INFO)(lambda facts, choice: [])
    with pytest.raises(ValueError, match="twice"):
        registry.check("VP101", "b", Severity.INFO)(lambda facts, choice: [])


def test_every_default_check_has_text_and_remedy() -> None:
    for spec in DEFAULT_REGISTRY.specs():
        assert spec.title and len(spec.explain) > 40 and spec.remedy, spec.id


# --- VP1xx local cluster -----------------------------------------------------


def test_vp101_service_family_not_allocatable() -> None:
    facts = make_facts(
        "192.0.2.2",
        rows=[row("192.0.2.2", "192.0.2.2", OPEN)],
        inventory=cluster(services={V4: "yes", V6: "no"}),
    )
    (finding,) = run("VP101", facts)
    assert "IPv6" in finding.message and "not configured on this cluster" in finding.remedy
    assert run("VP101", make_facts("192.0.2.2", inventory=cluster())) == []
    assert "no Kubernetes facts" in skip_reason("VP101", make_facts("192.0.2.2"))


def test_vp102_probing_pod_without_a_family() -> None:
    facts = make_facts("peer", inventory=cluster(pods={V4: "yes", V6: "no"}))
    (finding,) = run("VP102", facts)
    assert "no IPv6 address" in finding.message
    assert run("VP102", make_facts("peer", inventory=cluster())) == []


def test_vp103_unknown_capability_is_info_only() -> None:
    facts = make_facts("peer", inventory=cluster(services={V4: "yes", V6: "unknown"}))
    (finding,) = run("VP103", facts)
    assert finding.severity is Severity.INFO and "IPv6" in finding.message


def test_vp104_api_problems_name_the_rule_and_scope_sets_severity() -> None:
    forbidden = ApiProblem(
        "pods",
        "list",
        "volt",
        403,
        "Forbidden",
        "pods is forbidden",
        rule='apiGroups: [""], resources: ["pods"], verbs: ["list"]',
    )
    nodes = ApiProblem(
        "nodes",
        "list",
        None,
        403,
        "Forbidden",
        "nodes is forbidden",
        rule="...",
        cluster_scoped=True,
    )
    facts = make_facts("peer", inventory=cluster(problems=(forbidden, nodes)))
    pods_finding, nodes_finding = run("VP104", facts)
    assert pods_finding.severity is Severity.ERROR
    assert "list pods in namespace volt" in pods_finding.message
    assert 'resources: ["pods"]' in pods_finding.remedy
    assert nodes_finding.severity is Severity.WARNING


def test_vp105_no_cluster_is_info() -> None:
    (finding,) = run("VP105", make_facts("peer"))
    assert finding.severity is Severity.INFO and "--no-kube" in finding.message
    assert run("VP105", make_facts("peer", inventory=cluster())) == []


# --- VP2xx DNS ---------------------------------------------------------------


def test_vp201_name_fails_names_each_family_outcome() -> None:
    facts = make_facts(
        "peer",
        [
            dns("peer", V4, outcome=DnsOutcome.NXDOMAIN),
            dns("peer", V6, outcome=DnsOutcome.SERVFAIL),
        ],
    )
    (finding,) = run("VP201", facts)
    assert "IPv4 nxdomain" in finding.message and "IPv6 servfail" in finding.message
    assert finding.subjects == ("peer",)
    assert "IP literal" in skip_reason("VP201", make_facts("192.0.2.1"))


@pytest.mark.parametrize(
    "v4, v6, expected",
    [
        (("192.0.2.2",), (), "IPv4 addresses only"),
        ((), ("2001:db8::2",), "IPv6 addresses only"),
        (("192.0.2.2",), ("2001:db8::2",), None),
    ],
)
def test_vp202_single_family_name(v4: tuple, v6: tuple, expected: str | None) -> None:
    facts = make_facts("peer", [dns("peer", V4, *v4), dns("peer", V6, *v6)])
    findings = run("VP202", facts)
    assert [expected in f.message for f in findings] == ([True] if expected else [])


def test_vp203_aaaa_broken_while_a_works() -> None:
    facts = peer_both(
        row("peer", "192.0.2.2", OPEN), row("peer", "2001:db8::2", FILTERED, "no-response")
    )
    (finding,) = run("VP203", facts)
    assert "IPv4 works but its IPv6 addresses do not" in finding.message
    assert "[2001:db8::2]:5555" in finding.message
    both_open = peer_both(row("peer", "192.0.2.2", OPEN), row("peer", "2001:db8::2", OPEN))
    assert run("VP203", both_open) == []


# --- VP3xx reachability ------------------------------------------------------


def test_vp301_some_closed_names_the_closed_endpoints() -> None:
    facts = make_facts(
        "192.0.2.10,192.0.2.11,192.0.2.12",
        rows=[
            row("192.0.2.10", "192.0.2.10", OPEN),
            row("192.0.2.11", "192.0.2.11", CLOSED),
            row("192.0.2.12", "192.0.2.12", OPEN),
        ],
    )
    (finding,) = run("VP301", facts)
    assert "1 of 3 IPv4" in finding.message and "192.0.2.11:5555" in finding.message
    assert "192.0.2.10:5555" not in finding.message
    assert run("VP302", facts) == []  # not *all* closed


def test_vp302_all_closed_suggests_serve() -> None:
    facts = make_facts("192.0.2.11", rows=[row("192.0.2.11", "192.0.2.11", CLOSED)])
    (finding,) = run("VP302", facts)
    assert "voltprobe serve" in finding.remedy
    assert run("VP301", facts) == []
    assert skip_reason("VP302", make_facts("peer")) == "nothing was probed"


def test_vp303_filtered_mentions_external_traffic_policy_local() -> None:
    svc = dr_service(type="LoadBalancer", external_traffic_policy="Local")
    facts = make_facts(
        "192.0.2.2",
        rows=[row("192.0.2.2", "192.0.2.2", FILTERED, "no-response")],
        inventory=cluster(dr_services=(svc,)),
    )
    (finding,) = run("VP303", facts)
    assert "externalTrafficPolicy: Local" in finding.message
    assert "NetworkPolicy" in finding.remedy and "global.createNetworkPolicy" in finding.remedy


def test_vp304_admin_prohibited_names_the_sender_and_vp305_does_not_repeat_it() -> None:
    icmp = IcmpError(3, 13, "192.0.2.254")
    rejected = row(
        "192.0.2.2",
        "192.0.2.2",
        UNREACH,
        "admin-prohibited from 192.0.2.254 (ICMP 3/13), EHOSTUNREACH",
        icmp=icmp,
    )
    facts = make_facts("192.0.2.2", rows=[rejected])
    (finding,) = run("VP304", facts)
    assert "rejected by 192.0.2.254" in finding.message
    assert run("VP305", facts) == []


def test_vp305_other_icmp_errors() -> None:
    host_unreach = row(
        "192.0.2.2",
        "192.0.2.2",
        UNREACH,
        "host-unreachable from 192.0.2.1",
        icmp=IcmpError(3, 1, "192.0.2.1"),
    )
    (finding,) = run("VP305", make_facts("192.0.2.2", rows=[host_unreach]))
    assert "host-unreachable" in finding.message
    assert run("VP304", make_facts("192.0.2.2", rows=[host_unreach])) == []


def test_vp306_no_route_and_vp307_errors() -> None:
    facts = make_facts(
        "2001:db8::2,192.0.2.3",
        rows=[
            row("2001:db8::2", "2001:db8::2", ProbeState.NO_ROUTE, "ENETUNREACH"),
            row("192.0.2.3", "192.0.2.3", ProbeState.ERROR, "EIO"),
        ],
    )
    (no_route,) = run("VP306", facts)
    assert "no IPv6 route" in no_route.message
    (error,) = run("VP307", facts)
    assert "EIO" in error.message


# --- VP4xx Services ----------------------------------------------------------


def _v6_works_facts(inventory):
    return make_facts(
        "2001:db8::2", rows=[row("2001:db8::2", "2001:db8::2", OPEN)], inventory=inventory
    )


def test_vp401_single_stack_ipv4_service_while_ipv6_recommended() -> None:
    facts = _v6_works_facts(cluster(dr_services=(dr_service(families=(V4,)),)))
    (finding,) = run("VP401", facts)
    assert "SingleStack [IPv4]" in finding.message and "IPv6 is recommended" in finding.message
    assert "may not change once set" in finding.remedy
    same = _v6_works_facts(cluster(dr_services=(dr_service(families=(V6,)),)))
    assert run("VP401", same) == []
    assert skip_reason("VP401", _v6_works_facts(cluster())) == "no local DR Service found"


def test_vp402_dual_stack_service_with_empty_family_slice() -> None:
    svc = dr_service(families=(V4, V6), policy="PreferDualStack")
    slices = (
        EndpointSliceInfo("volt", "dr-abc", svc.name, "IPv4", ("10.0.0.5",), 1),
        EndpointSliceInfo("volt", "dr-def", svc.name, "IPv6", (), 0),
    )
    facts = make_facts("peer", inventory=cluster(dr_services=(svc,), endpoint_slices=slices))
    (finding,) = run("VP402", facts)
    assert "no ready IPv6 endpoints" in finding.message


def test_vp403_load_balancer_hostname_is_resolved_for_the_family() -> None:
    nlb = LoadBalancerIngress(hostname="k8s-volt.elb.example", resolved=("192.0.2.80",))
    svc = dr_service(type="LoadBalancer", lb_ingress=(nlb,))
    (finding,) = run("VP403", _v6_works_facts(cluster(dr_services=(svc,))))
    assert "no IPv6 ingress" in finding.message and "k8s-volt.elb.example" in finding.message
    dual = LoadBalancerIngress(
        hostname="k8s-volt.elb.example", resolved=("192.0.2.80", "2001:db8::80")
    )
    svc_dual = dr_service(type="LoadBalancer", families=(V4, V6), lb_ingress=(dual,))
    assert run("VP403", _v6_works_facts(cluster(dr_services=(svc_dual,)))) == []


# --- VP5xx caveats -----------------------------------------------------------


def test_vp501_dual_stack_name_while_ipv6_recommended() -> None:
    facts = make_facts(
        "peer",
        [dns("peer", V4, "192.0.2.2"), dns("peer", V6, "2001:db8::2")],
        [row("peer", "192.0.2.2", FILTERED, "no-response"), row("peer", "2001:db8::2", OPEN)],
    )
    (finding,) = run("VP501", facts)
    assert "preferIPv6Addresses" in finding.remedy
    ipv4_only_works = make_facts(
        "peer",
        [dns("peer", V4, "192.0.2.2"), dns("peer", V6, "2001:db8::2")],
        [row("peer", "192.0.2.2", OPEN), row("peer", "2001:db8::2", FILTERED, "no-response")],
    )
    assert run("VP501", ipv4_only_works) == []
    nothing = make_facts("peer", [dns("peer", V4), dns("peer", V6)])
    assert skip_reason("VP501", nothing) == "no family is recommended"


def test_reachability_failures_are_errors_only_when_no_family_works() -> None:
    v6_dropped = peer_both(
        row("peer", "192.0.2.2", OPEN), row("peer", "2001:db8::2", FILTERED, "no-response")
    )
    (finding,) = run("VP303", v6_dropped)
    assert finding.severity is Severity.WARNING  # IPv4 works: XDCR can connect
    both_dropped = peer_both(
        row("peer", "192.0.2.2", FILTERED, "no-response"),
        row("peer", "2001:db8::2", FILTERED, "no-response"),
    )
    assert {f.severity for f in run("VP303", both_dropped)} == {Severity.ERROR}


def test_vp105_is_a_warning_when_the_user_named_a_kubeconfig_that_led_nowhere() -> None:
    from dataclasses import replace

    from probe.options import KubeOptions

    facts = make_facts("peer")
    asked = replace(facts, options=replace(facts.options, kube=KubeOptions(kubeconfig="/x")))
    (finding,) = run("VP105", asked)
    assert finding.severity is Severity.WARNING


def test_vp308_says_why_raw_was_not_used() -> None:
    from dataclasses import replace

    facts = replace(make_facts("192.0.2.1"), raw_note="raw SYN probing is not allowed here: EPERM")
    (finding,) = run("VP308", facts)
    assert finding.severity is Severity.INFO and "EPERM" in finding.message
    assert run("VP308", make_facts("192.0.2.1")) == []


# --- issue 11: destructive advice, endpoints, ingress and node ports ------------------


def test_vp401_without_positive_evidence_is_info_and_never_says_delete() -> None:
    inv = cluster(services={V4: "yes", V6: "unknown"}, dr_services=(dr_service(families=(V4,)),))
    (finding,) = run("VP401", _v6_works_facts(inv), recommended=V6)
    assert finding.severity is Severity.INFO and "Delete" not in finding.remedy
    assert "--dry-run-service" in finding.remedy


def test_vp402_single_stack_service_and_skip_when_slices_unread() -> None:
    svc = dr_service(families=(V6,))
    slices = (EndpointSliceInfo("volt", "dr-v6", svc.name, "IPv6", (), 0),)
    facts = make_facts("peer", inventory=cluster(dr_services=(svc,), endpoint_slices=slices))
    (finding,) = run("VP402", facts)
    assert "single-stack [IPv6]" in finding.message
    unread = cluster(dr_services=(svc,), slices_unread="listing EndpointSlices failed (HTTP 403)")
    assert "were not read" in skip_reason("VP402", make_facts("peer", inventory=unread))
    no_slices = make_facts("peer", inventory=cluster(dr_services=(svc,)))
    assert run("VP402", no_slices) == []  # no slice at all: the controller wrote none yet


def test_vp403_and_vp404_ingress_in_a_family_the_service_lacks() -> None:
    odd = LoadBalancerIngress(ip="2001:db8::5", family=V6)
    svc = dr_service(type="LoadBalancer", families=(V4,), lb_ingress=(odd,))
    facts = make_facts("peer", inventory=cluster(dr_services=(svc,)))
    (vp404,) = run("VP404", facts)
    assert "suspect" in vp404.message and "2001:db8::5" in vp404.message
    assert len(run("VP403", facts, recommended=V6)) == 1  # not counted
    probed = make_facts(
        "2001:db8::5",
        rows=[row("2001:db8::5", "2001:db8::5", ProbeState.OPEN)],
        inventory=cluster(dr_services=(svc,)),
    )
    assert run("VP403", probed, recommended=V6) == []  # a probe showed it works


def test_vp405_nodeport_family_without_node_address() -> None:
    from probe.inventory.types import DrReach

    reach = (
        DrReach(
            "volt/dr-0", V6, "no", "node-addresses", "no node has an IPv6 InternalIP/ExternalIP"
        ),
    )
    facts = make_facts("peer", inventory=cluster(dr_services=(dr_service(),), dr_reach=reach))
    (finding,) = run("VP405", facts)
    assert "cannot reach it over IPv6" in finding.message


def test_vp104_servicecidrs_not_served_is_info() -> None:
    problem = ApiProblem(
        "servicecidrs", "list", None, 404, "NotFound", "not served", cluster_scoped=True
    )
    (finding,) = run("VP104", make_facts("peer", inventory=cluster(problems=(problem,))))
    assert finding.severity is Severity.INFO and "Nothing to do" in finding.remedy


def test_vp106_multus_secondary_addresses_are_reported_apart() -> None:
    from probe.inventory.types import PodInfo

    p = PodInfo("volt", "db-0", ("10.0.0.5",), multus=("2001:db8:100::10",))
    (finding,) = run("VP106", make_facts("peer", inventory=cluster(volt_pods=(p,))))
    assert "IPv6 only there" in finding.message
