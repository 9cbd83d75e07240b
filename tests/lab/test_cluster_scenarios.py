"""Checks-engine scenarios with both halves real: the lab's network (namespaces, nftables,
dnsmasq) and a local cluster served by the fake Kubernetes API inside the prober namespace.
`voltprobe check` runs with --kubeconfig, so the inventory and the probes meet in the checks.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from probe.model import Family

from .firewall import Action, drop, reject
from .scenarios import DR, PODS, V6_ONLY
from .topology import Lab, pod6
from .voltcheck import PROBE_TIMEOUT, voltprobe_script

pytestmark = pytest.mark.lab
ROOT = Path(__file__).resolve().parents[2]
V4, V6 = Family.IPV4, Family.IPV6


@pytest.fixture
def cluster_api(lab: Lab) -> Iterator[Any]:
    """Start a fake API of a given flavour in the prober namespace; yields a starter."""
    started: list[subprocess.Popen[bytes]] = []

    def start(flavour: str) -> Path:
        kubeconfig = lab.resources.workdir / f"kubeconfig-{flavour}-{len(started)}"
        code = (
            f"import sys, runpy; sys.path.insert(0, {str(ROOT)!r}); "
            "sys.argv[0] = 'fakeapi'; runpy.run_module('tests.fakeapi', run_name='__main__')"
        )
        proc = lab.resources.start(
            lab.prober(),
            [sys.executable, "-c", code, "--flavour", flavour, "--kubeconfig", str(kubeconfig)],
            f"fakeapi-{flavour}-{len(started)}.log",
        )
        started.append(proc)
        deadline = time.monotonic() + 20
        while not kubeconfig.exists():
            assert proc.poll() is None, lab.resources.log_text(f"fakeapi-{flavour}-0.log")
            assert time.monotonic() < deadline, "fake API did not start"
            time.sleep(0.05)
        return kubeconfig

    yield start
    for proc in started:  # only what this fixture started, by PID
        proc.terminate()
        proc.wait(10)


def check(lab: Lab, kubeconfig: Path, *peers: str) -> tuple[int, dict[str, Any]]:
    args = [
        str(voltprobe_script()),
        "check",
        "-o",
        "json",
        "--mode",
        "connect",
        "--timeout",
        PROBE_TIMEOUT,
        "--kubeconfig",
        str(kubeconfig),
    ]
    for peer in peers:
        args += ["--peer", peer]
    done = subprocess.run(
        lab.prober().exec_args(*args), capture_output=True, text=True, timeout=60, check=False
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def findings(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for finding in report["findings"]:
        found.setdefault(finding["id"], []).append(finding)
    return found


def test_single_stack_ipv4_cluster_with_ipv6_only_peer(clean_lab: Lab, cluster_api: Any) -> None:
    kubeconfig = cluster_api("ipv4-only")
    code, report = check(clean_lab, kubeconfig, V6_ONLY)
    assert report["local"]["kubernetes"]["available"] is True
    assert report["local"]["families"]["IPv6"]["services"] == "no"
    assert {(r["family"], r["state"]) for r in report["probes"]} == {
        ("IPv4", "no-address"),
        ("IPv6", "open"),
    }
    assert code == 1
    assert report["recommendation"]["ipFamilies"] == []
    assert any(
        "cannot give Services an IPv6 address" in s for s in report["recommendation"]["rationale"]
    )
    (vp101,) = findings(report)["VP101"]
    assert "IPv6" in vp101["message"] and "not configured on this cluster" in vp101["remedy"]


def test_dual_stack_cluster_ipv6_filtered_on_one_per_pod_endpoint(
    clean_lab: Lab, cluster_api: Any
) -> None:
    kubeconfig = cluster_api("dual-stack")
    clean_lab.set_rules((drop(address=pod6(12)),))
    code, report = check(clean_lab, kubeconfig, PODS)
    assert code == 0
    rec = report["recommendation"]
    assert rec["ipFamilies"] == ["IPv4"]
    # both DR Service kinds exist (the discovery LB and per-pod Services): both keys
    assert rec["helmKey"] == (
        "cluster.serviceSpec.dr.ipFamilies and cluster.serviceSpec.perpod.dr.ipFamilies"
    )
    assert rec["helmValues"] == {
        "cluster": {
            "serviceSpec": {
                "dr": {"ipFamilies": ["IPv4"]},
                "perpod": {"dr": {"ipFamilies": ["IPv4"]}},
            }
        }
    }
    (vp303,) = findings(report)["VP303"]
    assert vp303["severity"] == "warning"  # IPv4 works, so this does not block XDCR
    assert f"[{pod6(12)}]:5555" in vp303["message"]
    assert "externalTrafficPolicy: Local" in vp303["message"]  # from the cluster facts


def test_single_stack_ipv4_dr_service_while_ipv6_is_recommended(
    clean_lab: Lab, cluster_api: Any
) -> None:
    kubeconfig = cluster_api("dual-stack-ipv4-dr")
    clean_lab.set_rules((reject(Action.ADMIN_PROHIBITED, V4),))
    code, report = check(clean_lab, kubeconfig, DR)
    assert code == 0
    assert report["recommendation"]["ipFamilies"] == ["IPv6"]
    found = findings(report)
    recreate = [f for f in found["VP401"] if "SingleStack [IPv4]" in f["message"]]
    assert recreate and all(f["severity"] == "warning" for f in recreate)
    assert "may not change once set" in recreate[0]["remedy"]
    assert found["VP304"][0]["severity"] == "warning"  # IPv4 rejected, IPv6 works
    # the peer name has A and AAAA: the JVM would dial IPv4 first
    assert found["VP501"][0]["severity"] == "warning"
    assert report["recommendation"]["connectionSource"]["value"].startswith("[2001:db8:")
