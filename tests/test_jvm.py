"""probe/jvm.py with literals: reading java.net.prefer* from a Volt pod's spec, the JVM's
precedence, what counts as unknown, the order a name's addresses are dialled in, and
the recommendation's connection.source under each order."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from probe.choice import choose
from probe.inventory.parse import pod_info
from probe.inventory.types import PodInfo
from probe.jvm import JvmPrefer, flags_of, jvm_view, ordered_addresses, pod_jvm_sources, prefer_of
from probe.model import DnsAnswer, DnsOutcome, ProbeState
from probe.recommend import connection_source
from tests.support.facts import V4, V6, cluster, make_facts, row
from tests.test_checks_explained import all_findings


def pod(containers: list[dict[str, Any]]) -> dict[str, Any]:
    return {"metadata": {"name": "volt-0", "namespace": "volt"}, "spec": {"containers": containers}}


@pytest.mark.parametrize(
    ("stack", "v6", "prefer"),
    [
        (None, None, JvmPrefer.IPV4),
        (None, "false", JvmPrefer.IPV4),
        (None, "TRUE", JvmPrefer.IPV6),  # Boolean.parseBoolean ignores case
        (None, "System", JvmPrefer.SYSTEM),
        (None, "yes", JvmPrefer.IPV4),  # not "true": false
        ("true", "true", JvmPrefer.IPV4_STACK),  # the IPv4 stack wins: no IPv6 at all
        ("false", "true", JvmPrefer.IPV6),
    ],
)
def test_the_properties_read_as_openjdk_reads_them(
    stack: str | None, v6: str | None, prefer: JvmPrefer
) -> None:
    assert prefer_of(stack, v6) is prefer


def test_flags_come_from_args_and_the_jvm_option_variables() -> None:
    spec = pod(
        [
            {
                "name": "voltdb",
                "command": ["voltdb"],
                "args": ["start", "-Djava.net.preferIPv6Addresses=false"],
                "env": [
                    {"name": "JAVA_TOOL_OPTIONS", "value": "-Djava.net.preferIPv6Addresses=true"},
                    {"name": "OTHER", "value": "-Djava.net.preferIPv4Stack=true"},  # not read
                ],
            }
        ]
    )
    sources = pod_jvm_sources(spec)
    assert ("JAVA_TOOL_OPTIONS", "-Djava.net.preferIPv6Addresses=true") in sources
    assert all(name != "OTHER" for name, _text in sources)
    # the command line beats JAVA_TOOL_OPTIONS
    prefer, setters, unknown = flags_of(sources)
    assert (prefer, unknown) == (JvmPrefer.IPV4, "")
    assert setters == "JAVA_TOOL_OPTIONS, args"


def test_voltdbs_launcher_puts_java_opts_after_voltdb_opts() -> None:
    sources = (
        ("JAVA_OPTS", "-Djava.net.preferIPv6Addresses=true"),
        ("VOLTDB_OPTS", "-Djava.net.preferIPv6Addresses=false"),
    )
    assert flags_of(sources)[0] is JvmPrefer.IPV6


def test_java_options_override_the_command_line() -> None:
    sources = (
        ("args", "-Djava.net.preferIPv6Addresses=false"),
        ("_JAVA_OPTIONS", "-Djava.net.preferIPv6Addresses=system"),
        ("VOLTDB_OPTS", "-Djava.net.preferIPv6Addresses=true"),
    )
    assert flags_of(sources)[0] is JvmPrefer.SYSTEM


@pytest.mark.parametrize(
    "container",
    [
        {"env": [{"name": "VOLTDB_OPTS", "valueFrom": {"configMapKeyRef": {"name": "c"}}}]},
        {"envFrom": [{"configMapRef": {"name": "jvm-opts"}}]},
    ],
)
def test_values_from_elsewhere_are_unknown_not_ipv4_first(container: dict[str, Any]) -> None:
    info, _error = pod_info(pod([container]))
    view = jvm_view([(info.name, info.jvm_sources)], None)
    assert view.unknown and view.source == "the JDK default"
    assert jvm_view([(info.name, info.jvm_sources)], "ipv6").prefer is JvmPrefer.IPV6


def test_a_java_argument_file_makes_the_order_unknown() -> None:
    """`java @/etc/voltdb/jvm.options ...` may set java.net.prefer* where the check cannot
    read: unknown, not IPv4 first."""
    prefer, _setters, unknown = flags_of([("args", "java @/etc/voltdb/jvm.options -cp x Main")])
    assert prefer is JvmPrefer.IPV4 and "@/etc/voltdb/jvm.options" in unknown
    assert flags_of([("args", "mail ops@example.com")])[2] == ""  # not an argument file


def test_pods_that_disagree_are_unknown_and_readable_pods_win_over_the_option() -> None:
    v6 = (("JAVA_TOOL_OPTIONS", "-Djava.net.preferIPv6Addresses=true"),)
    assert "disagree" in jvm_view([("a", v6), ("b", ())], None).unknown
    view = jvm_view([("a", v6), ("b", v6)], "ipv4")
    assert view.prefer is JvmPrefer.IPV6 and "Volt pods" in view.source


def test_malformed_specs_give_no_sources() -> None:
    assert pod_jvm_sources({"spec": {"containers": "x"}}) == ()
    assert pod_jvm_sources({"spec": {"containers": [5, {"env": [7]}]}}) == ()
    assert pod_jvm_sources([]) == ()


def answers(rank4: int, rank6: int) -> tuple[DnsAnswer, DnsAnswer]:
    return (
        DnsAnswer("peer", V4, DnsOutcome.OK, ("192.0.2.2",), rank=rank4),
        DnsAnswer("peer", V6, DnsOutcome.OK, ("2001:db8::2",), rank=rank6),
    )


@pytest.mark.parametrize(
    ("prefer", "ranks", "first"),
    [
        (JvmPrefer.IPV4, (1, 0), "192.0.2.2"),
        (JvmPrefer.IPV6, (0, 1), "2001:db8::2"),
        (JvmPrefer.SYSTEM, (1, 0), "2001:db8::2"),
        (JvmPrefer.SYSTEM, (0, 1), "192.0.2.2"),
        (JvmPrefer.IPV4_STACK, (1, 0), "192.0.2.2"),
    ],
)
def test_the_first_address_follows_the_order(
    prefer: JvmPrefer, ranks: tuple[int, int], first: str
) -> None:
    v4, v6 = answers(*ranks)
    assert ordered_addresses(v4, v6, prefer)[0][1] == first
    if prefer is JvmPrefer.IPV4_STACK:
        assert all(f is V4 for f, _a in ordered_addresses(v4, v6, prefer))


def test_a_jvm_on_the_ipv4_stack_never_sees_a_mapped_aaaa() -> None:
    """preferIPv4Stack=true asks for A records only: an IPv4 address known only from a
    mapped AAAA is not the JVM's (a real JVM throws UnknownHostException)."""
    v4 = DnsAnswer("peer", V4, DnsOutcome.OK, ("192.0.2.2",), from_mapped=("192.0.2.2",))
    v6 = DnsAnswer("peer", V6, DnsOutcome.NO_ADDRESS, (), ignored=("::ffff:192.0.2.2",))
    assert ordered_addresses(v4, v6, JvmPrefer.IPV4_STACK) == []
    assert ordered_addresses(v4, v6, JvmPrefer.IPV4) == [(V4, "192.0.2.2")]


def test_a_mapped_aaaa_is_dialled_over_ipv4() -> None:
    v6 = DnsAnswer("peer", V6, DnsOutcome.NO_ADDRESS, (), ignored=("::ffff:192.0.2.2",))
    assert ordered_addresses(None, v6, JvmPrefer.IPV6) == [(V4, "192.0.2.2")]


def volt_pods(flag: str) -> tuple[PodInfo, ...]:
    return (PodInfo("volt", "volt-0", ("10.0.0.1",), jvm_sources=(("JAVA_TOOL_OPTIONS", flag),)),)


def dual_facts(v4_state: ProbeState, v6_state: ProbeState, flag: str | None = None) -> Any:
    inventory = cluster()
    if flag is not None:
        inventory = replace(inventory, volt_pods=volt_pods(flag))
    v4, v6 = answers(1, 0)
    return make_facts(
        "peer",
        [v4, v6],
        [row("peer", "192.0.2.2", v4_state), row("peer", "2001:db8::2", v6_state)],
        inventory=inventory,
    )


def test_connection_source_keeps_a_name_only_when_the_jvm_dials_the_working_family_first() -> None:
    # IPv4 works; the Volt pods' JVM puts IPv6 first, where the peer refuses
    facts = dual_facts(ProbeState.OPEN, ProbeState.CLOSED, "-Djava.net.preferIPv6Addresses=true")
    choice = choose(facts)
    assert choice.family is V4
    assert connection_source(facts, V4) == {"value": "192.0.2.2:5555", "helmSet": "192.0.2.2:5555"}
    # the JDK default dials IPv4 first: the name stays
    facts = dual_facts(ProbeState.OPEN, ProbeState.CLOSED)
    assert connection_source(facts, V4) == {"value": "peer:5555", "helmSet": "peer:5555"}
    # IPv6 recommended, JVM default IPv4 first: literals (as before)
    facts = dual_facts(ProbeState.FILTERED, ProbeState.OPEN)
    assert connection_source(facts, V6) is not None
    assert connection_source(facts, V6)["value"] == "[2001:db8::2]:5555"  # type: ignore[index]


def pods_facts(v6_state: ProbeState, *flags: tuple[tuple[str, str | None], ...]) -> Any:
    pods = tuple(
        PodInfo("volt", f"volt-{i}", (f"10.0.0.{i + 1}",), jvm_sources=sources)
        for i, sources in enumerate(flags)
    )
    v4, v6 = answers(1, 0)
    return make_facts(
        "peer",
        [v4, v6],
        [row("peer", "192.0.2.2", ProbeState.OPEN), row("peer", "2001:db8::2", v6_state)],
        inventory=replace(cluster(), volt_pods=pods),
    )


V6_FIRST = (("JAVA_TOOL_OPTIONS", "-Djava.net.preferIPv6Addresses=true"),)
UNREADABLE = (("envFrom jvm-opts", None),)


@pytest.mark.parametrize(
    "pods", [(V6_FIRST, ()), (UNREADABLE,)], ids=["pods-disagree", "value-unreadable"]
)
def test_an_unknown_jvm_order_keeps_a_name_only_if_every_order_works(
    pods: tuple[tuple[tuple[str, str | None], ...], ...],
) -> None:
    """One Volt pod dials IPv6 first (or the order cannot be read) and IPv6 refuses:
    the name is replaced by IPv4 literals and VP501 says why; unknown is not IPv4 first.
    A name with IPv4 addresses only is dialled in IPv4 under every order: it stays."""
    facts = pods_facts(ProbeState.CLOSED, *pods)
    choice = choose(facts)
    assert choice.family is V4
    assert connection_source(facts, V4) == {"value": "192.0.2.2:5555", "helmSet": "192.0.2.2:5555"}
    (vp501,) = [f for f in all_findings(facts) if f.id == "VP501"]
    assert "order is not known" in vp501.message and "IPv6 first" in vp501.message
    v4_only = replace(
        facts,
        dns=(facts.dns[0], replace(facts.dns[1], addresses=(), outcome=DnsOutcome.NO_ADDRESS)),
    )
    v4_only = replace(v4_only, probes=v4_only.probes[:1])
    assert connection_source(v4_only, V4) == {"value": "peer:5555", "helmSet": "peer:5555"}


def test_prefer_ipv4_stack_on_the_volt_pods_rules_ipv6_out() -> None:
    facts = dual_facts(ProbeState.FILTERED, ProbeState.OPEN, "-Djava.net.preferIPv4Stack=true")
    choice = choose(facts)
    assert choice.family is None
    assert any("cannot use IPv6" in line for line in choice.rationale)


def test_the_inventory_reads_the_volt_pods_jvm_flags_through_the_real_client(
    fake_api: Any, tmp_path: Any
) -> None:
    """The Volt pods as the API serves them (tests/fakeapi) to the kubernetes client:
    their env reaches PodInfo.jvm_sources and sets the JVM order."""
    from probe.inventory import gather
    from probe.options import KubeOptions
    from tests.fakeapi import objects
    from tests.fakeapi.files import kubeconfig_for
    from tests.test_inventory import env_for

    flavour = objects.dual_stack()
    for obj in flavour.objects:
        if obj.get("kind") == "Pod" and "voltdb-cluster-name" in obj["metadata"]["labels"]:
            obj["spec"]["containers"][0]["env"] = [
                {"name": "VOLTDB_OPTS", "value": "-Xmx4g -Djava.net.preferIPv6Addresses=true"}
            ]
    fake_api.load(flavour)
    kubeconfig = kubeconfig_for(fake_api, tmp_path / "kubeconfig", namespace=objects.NAMESPACE)
    inventory = gather(KubeOptions(kubeconfig=str(kubeconfig)), 5555, env_for(flavour))
    assert inventory.volt_pods
    pods = [(p.name, p.jvm_sources) for p in inventory.volt_pods]
    view = jvm_view(pods, None)
    assert view.prefer is JvmPrefer.IPV6 and "VOLTDB_OPTS" in view.source
    assert inventory.to_json()["pods"]["volt"][0]["jvmSources"] == [
        ["VOLTDB_OPTS", "-Xmx4g -Djava.net.preferIPv6Addresses=true"]
    ]


def test_the_pipeline_resolves_a_only_when_that_jvm_surely_runs() -> None:
    """The Volt pods' preferIPv4Stack=true (or --jvm-prefer ipv4-stack with no pods to
    say otherwise) makes the check resolve as that JVM: A records only. Pods that
    disagree, or an unreadable setting, do not."""
    from probe.options import CheckOptions
    from probe.pipeline import _jvm_asks_a_only

    stack = (("JAVA_TOOL_OPTIONS", "-Djava.net.preferIPv4Stack=true"),)
    inventory = replace(cluster(), volt_pods=volt_pods("-Djava.net.preferIPv4Stack=true"))
    assert _jvm_asks_a_only(CheckOptions(), inventory)
    assert _jvm_asks_a_only(CheckOptions(jvm_prefer="ipv4-stack"), cluster())
    # readable pods win over the option
    assert not _jvm_asks_a_only(
        CheckOptions(jvm_prefer="ipv4-stack"), replace(cluster(), volt_pods=volt_pods(""))
    )
    mixed = (
        PodInfo("volt", "volt-0", ("10.0.0.1",), jvm_sources=stack),
        PodInfo("volt", "volt-1", ("10.0.0.2",), jvm_sources=()),
    )
    assert not _jvm_asks_a_only(CheckOptions(), replace(cluster(), volt_pods=mixed))
