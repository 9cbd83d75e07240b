"""The local side without a cluster: this host's interfaces, POD_IPS, the LB-hostname resolver.

Each of these must turn a hostile environment (no AF_INET sockets, no interface
list, no resolv.conf) into a result, never an exception.
"""

from __future__ import annotations

import socket
from pathlib import Path

import dns.asyncresolver
import dns.resolver
import pytest

from probe import pipeline
from probe.inventory import Environment, gather, host, parse
from probe.inventory.dns import resolve_host
from probe.model import Family
from probe.options import CheckOptions, KubeOptions
from tests.fakeapi import FakeApiServer, KubeContext, objects, write_kubeconfig
from tests.fakeapi.files import kubeconfig_for

V4, V6 = Family.IPV4, Family.IPV6


def _refuse(*args: object, **kwargs: object) -> object:
    raise OSError(97, "Address family not supported by protocol")


@pytest.mark.parametrize("broken", ["socket", "if_nameindex"])
def test_host_families_survive_a_host_without_ipv4_sockets(
    monkeypatch: pytest.MonkeyPatch, broken: str
) -> None:
    monkeypatch.setattr(host.socket, broken, _refuse)
    assert host._ipv4_addresses() == []
    assert V4 not in host.host_families()
    inv = host.host_inventory("--no-kube given")
    assert inv.families[V4].pods == "unknown"


def test_host_inventory_takes_the_families_it_was_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host, "host_families", lambda: pytest.fail("interfaces scanned"))
    inv = host.host_inventory("why", (V6,))
    assert inv.pod_families == (V6,) and inv.pod_families_source == "interfaces"
    assert (inv.families[V6].pods, inv.families[V4].pods) == ("yes", "unknown")
    assert inv.families[V4].evidence == ("pods: this host has no global IPv4 address",)


def test_fallback_scans_the_interfaces_once_through_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(host, "host_families", lambda: pytest.fail("scanned outside env"))
    calls: list[int] = []

    def interfaces() -> tuple[Family, ...]:
        calls.append(1)
        return (V6,)

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    kubeconfig = write_kubeconfig(
        tmp_path / "kc", [KubeContext("dead", f"http://127.0.0.1:{dead}", "t")]
    )
    env = Environment(environ={}, interface_families=interfaces, home="/nonexistent-home")
    inv = gather(KubeOptions(kubeconfig=str(kubeconfig)), 5555, env)
    assert calls == [1]
    assert inv.pod_families == (V6,) and inv.families[V6].pods == "yes"
    assert inv.families[V6].evidence == ("pods: this host has global IPv6 address",)


def test_pod_ips_inventory() -> None:
    inv = host.pod_ips_inventory("why", ("10.244.1.5", "fd00::5"))
    assert inv.pod_families == (V4, V6) and inv.pod_families_source == "POD_IPS"
    only_v4 = host.pod_ips_inventory("why", ("10.244.1.5",))
    assert (only_v4.families[V4].pods, only_v4.families[V6].pods) == ("yes", "no")
    assert only_v4.families[V6].evidence == ("pods: POD_IPS 10.244.1.5",)


@pytest.mark.parametrize(
    ("addresses", "families"),
    [
        (("fd00::5", "10.0.0.1"), (V4, V6)),
        (("10.0.0.1", "10.0.0.2"), (V4,)),
        (("fe80::1%eth0",), (V6,)),
        (("garbage", ""), ()),
    ],
)
def test_families_of(addresses: tuple[str, ...], families: tuple[Family, ...]) -> None:
    assert parse.families_of(addresses) == families


def test_no_kube_never_calls_the_api(fake_api: FakeApiServer, tmp_path: Path) -> None:
    kubeconfig = kubeconfig_for(fake_api, tmp_path / "kubeconfig", namespace=objects.NAMESPACE)
    fake_api.load(objects.dual_stack())
    options = CheckOptions(targets=(), kube=KubeOptions(kubeconfig=str(kubeconfig), enabled=False))
    inv = pipeline.gather_inventory(options)
    assert not inv.available and inv.source == "host" and inv.reason == "--no-kube given"
    assert fake_api.requests == []


# -- load-balancer hostnames ------------------------------------------------------


def test_resolver_without_configuration_is_a_result(monkeypatch: pytest.MonkeyPatch) -> None:
    def unconfigured(*args: object, **kwargs: object) -> object:
        raise dns.resolver.NoResolverConfiguration("no nameservers")

    # the lookups go through dnspython's async resolver (probe.resolve)
    monkeypatch.setattr(dns.asyncresolver, "Resolver", unconfigured)
    addresses, error = resolve_host("nlb.example.com", 1.0)
    assert addresses == () and "cannot read resolver configuration" in error


@pytest.mark.parametrize("content", [None, "", "search example.com\n"])
def test_unreadable_or_empty_resolv_conf_is_a_result(tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "resolv.conf"
    if content is not None:
        path.write_text(content)
    addresses, error = resolve_host("nlb.example.com", 1.0, str(path))
    assert addresses == () and error.startswith(f"cannot read resolver configuration {path}")


@pytest.mark.parametrize(
    ("name", "per_pod"),
    [
        ("volt-voltdb-cluster-dr", False),
        ("volt-voltdb-cluster-0-dr", True),
        ("volt-voltdb-cluster-dr\n", None),  # `$` alone would accept the newline
        ("volt-voltdb-cluster-0-dr\n", None),
    ],
)
def test_dr_service_names_match_whole(name: str, per_pod: bool | None) -> None:
    from probe.inventory import volt

    service = {"metadata": {"name": name}, "spec": {"ports": [{"name": "other", "port": 1}]}}
    _, notes = volt.find_dr_services([service], 5555, None)
    # a name like a DR Service without the DR port gets a note; any other name nothing
    assert bool(notes) is (per_pod is not None)


def test_the_job_run_responder_is_no_dr_service() -> None:
    """`job run --responder`'s Service exposes the DR port, but its Pod is no Volt pod
    (job run adds it, marked, itself); the manifest responder still counts."""
    from probe.inventory import volt
    from probe.k8sjob.objects import ResponderParams, responder_service
    from probe.k8sjob.responder import plan

    job_run = responder_service(plan({}, "voltprobe-responder-1a2b3", "volt", "img", 5555))
    manual = responder_service(ResponderParams())
    found, _ = volt.find_dr_services([job_run, manual], 5555, None)
    assert [c.obj["metadata"]["name"] for c in found] == ["voltprobe-responder"]
