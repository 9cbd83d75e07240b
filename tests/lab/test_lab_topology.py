"""The lab itself: names, links, firewall knobs, DNS answers and an exact teardown."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from probe.model import Family

from . import firewall, topology
from .firewall import Action
from .netns import Namespace, add_namespace, delete_namespace, list_namespaces
from .resources import LabRun
from .topology import DNS_V4, Lab, Prober, build_lab, pod4, pod6

pytestmark = pytest.mark.lab

NSCHECK = str(Path(__file__).resolve().parent / "nscheck.py")


def connect(ns: Namespace, host: str, port: int = topology.DR_PORT) -> str:
    return ns.run(sys.executable, NSCHECK, "connect", host, str(port), "1").strip()


def resolve(ns: Namespace, name: str, rdtype: str, seconds: float = 2.0) -> str:
    return ns.run(sys.executable, NSCHECK, "resolve", name, rdtype, str(seconds)).strip()


def test_names_belong_to_this_run(lab: Lab, lab_run: LabRun) -> None:
    names = [ns.name for ns in lab.resources.namespaces]
    assert len(names) == 5
    assert all(name.startswith(lab_run.prefix) for name in names)
    assert set(names) <= set(list_namespaces())
    # veths are created inside the namespaces: nothing of ours in the root namespace
    root_links = subprocess.run(
        ["ip", "-o", "link"], capture_output=True, text=True, check=False
    ).stdout
    assert " vp0" not in root_links and " vq0" not in root_links


def test_prober_reaches_both_families_and_closed_port(clean_lab: Lab) -> None:
    prober = clean_lab.prober()
    assert connect(prober, pod4(1)) == "ok"
    assert connect(prober, pod6(1)) == "ok"
    assert connect(prober, topology.V4_PEER_ADDRESS) == "ok"
    assert connect(prober, pod4(1), topology.CLOSED_PORT) == "ECONNREFUSED"
    assert connect(prober, pod6(1), topology.CLOSED_PORT) == "ECONNREFUSED"


def test_firewall_rules_per_family_address_and_port(clean_lab: Lab) -> None:
    prober = clean_lab.prober()
    clean_lab.set_rules(
        [
            firewall.drop(Family.IPV6),
            firewall.reject(Action.ADMIN_PROHIBITED, address=pod4(11)),
            firewall.reject(Action.HOST_UNREACHABLE, Family.IPV4, port=topology.CLOSED_PORT),
        ]
    )
    assert connect(prober, pod6(1)) == "timeout"
    assert connect(prober, pod4(11)) == "EHOSTUNREACH"
    assert connect(prober, pod4(12)) == "ok"
    assert connect(prober, pod4(1), topology.CLOSED_PORT) == "EHOSTUNREACH"
    clean_lab.reset()
    assert connect(prober, pod6(1)) == "ok"
    assert "drop" not in firewall.listing(clean_lab.peer)


def test_probers_without_ipv6(clean_lab: Lab) -> None:
    assert connect(clean_lab.prober(Prober.NO_ROUTE6), pod6(1)) == "ENETUNREACH"
    assert connect(clean_lab.prober(Prober.NO_ROUTE6), pod4(1)) == "ok"
    assert connect(clean_lab.prober(Prober.NO_IPV6), pod6(1)) in ("ENETUNREACH", "EADDRNOTAVAIL")
    assert connect(clean_lab.prober(Prober.NO_IPV6), pod4(1)) == "ok"


def test_dns_through_netns_resolv_conf(clean_lab: Lab) -> None:
    prober = clean_lab.prober()
    assert f"nameserver {DNS_V4}" in prober.run("cat", "/etc/resolv.conf")
    # short names resolve through the search list, as in a pod
    assert resolve(prober, "volt-dr", "A") == pod4(1)
    assert resolve(prober, "volt-dr", "AAAA") == pod6(1)
    assert resolve(prober, "volt-pods", "A") == " ".join(pod4(n) for n in (11, 12, 13))
    assert resolve(prober, "volt-legacy", "AAAA") == "NoAnswer"
    assert resolve(prober, "volt-v6", "A") == "NoAnswer"
    assert resolve(prober, "volt-gone", "A") == "NXDOMAIN"
    assert resolve(prober, f"volt-dr.{topology.SERVFAIL_ZONE}", "A") == "NoNameservers"  # SERVFAIL
    clean_lab.set_rules(firewall.silent_dns())
    assert resolve(prober, "volt-dr", "A", 1.0) == "LifetimeTimeout"


def test_teardown_removes_exactly_what_it_built(lab_run: LabRun) -> None:
    decoy = add_namespace(f"{lab_run.prefix}decoy")  # not the lab's: must survive its teardown
    try:
        built = build_lab(lab_run)
        names = {ns.name for ns in built.resources.namespaces}
        procs = list(built.resources.processes)
        workdir = built.resources.workdir
        assert len(procs) == 4  # servfail upstream, dnsmasq, two serves
        assert built.close() == []
        assert not names & set(list_namespaces())
        assert all(proc.poll() is not None for proc in procs)
        assert not any((Path("/etc/netns") / name).exists() for name in names)
        assert not workdir.exists()
        assert decoy.name in list_namespaces()
    finally:
        delete_namespace(decoy.name)


def test_leftovers_are_detected() -> None:
    run = LabRun()
    leaked = add_namespace(f"{run.prefix}leak")
    try:
        assert run.leftovers() == [f"namespace {leaked.name}"]
    finally:
        delete_namespace(leaked.name)
    assert run.leftovers() == []


def test_failed_build_undoes_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    run = LabRun()  # a run of its own, so leftovers() sees only this build

    def broken_serve(*args: object, **kwargs: object) -> None:
        raise RuntimeError("serve failed to start")

    monkeypatch.setattr(topology, "start_serve", broken_serve)
    with pytest.raises(RuntimeError, match="serve failed"):
        build_lab(run)
    assert run.leftovers() == []
    assert len(run.processes) == 2  # dnsmasq and the upstream were started, then stopped
