"""Who probed whom: cluster names from the kube context or the options, in the report,
the Job's arguments and the manifests; one check report as Markdown and JUnit."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

from probe.cli.identity import kube_context
from probe.options import KubeOptions
from tests.support.processes import closed_port, responder, run_cli


def test_the_cluster_name_defaults_to_the_kube_context(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(yaml.safe_dump({"current-context": "east", "contexts": []}))
    env = {"KUBECONFIG": str(config)}
    assert kube_context(KubeOptions(), env) == "east"
    assert kube_context(KubeOptions(context="west"), env) == "west"
    assert kube_context(KubeOptions(kubeconfig=str(config)), {}) == "east"
    # in a pod there is no context: the Job passes --cluster
    assert kube_context(KubeOptions(), {"KUBERNETES_SERVICE_HOST": "10.96.0.1"}) is None
    assert kube_context(KubeOptions(enabled=False), env) is None
    assert kube_context(KubeOptions(), {"KUBECONFIG": str(tmp_path / "none")}) is None


def test_manifest_passes_the_cluster_names_to_the_check() -> None:
    done = run_cli("manifest", "--peer", "dr.b.example", "--cluster", "a", "--peer-cluster", "b")
    assert done.returncode == 0, done.stderr
    (job,) = [d for d in yaml.safe_load_all(done.stdout) if d and d["kind"] == "Job"]
    args = job["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[-4:] == ["--cluster", "a", "--peer-cluster", "b"]
    plain = run_cli("manifest", "--peer", "dr.b.example")
    assert "--cluster" not in plain.stdout  # the checked-in k8s/*.yaml stay as they are
    bad = run_cli("manifest", "--peer", "dr.b.example", "--cluster", "a b")
    assert bad.returncode == 2 and "without spaces" in bad.stderr


def test_one_check_report_as_markdown_and_junit() -> None:
    with responder() as port:
        peer = f"127.0.0.1:{port},[::1]:{closed_port('::1')}"
        args = ["check", "--no-kube", "--mode", "connect", "--peer", peer]
        args += ["--cluster", "a", "--peer-cluster", "b"]
        markdown = run_cli(*args, "-o", "markdown")
        junit = run_cli(*args, "-o", "junit")
    assert markdown.returncode == 0, markdown.stderr
    text = markdown.stdout
    assert text.startswith("# voltprobe: XDCR from a -> b\n")
    assert "## Environment" in text and "| mode | connect |" in text
    assert f"| 127.0.0.1 | IPv4 | 127.0.0.1:{port} | open | syn-ack | connect |" in text
    assert (
        "```yaml\ncluster:\n  serviceSpec:\n    dr:\n      ipFamilies:\n      - IPv4\n```" in text
    )
    root = ET.fromstring(junit.stdout)
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert set(cases) == {"a -> b IPv4", "a -> b IPv6"}
    assert cases["a -> b IPv4"].find("failure") is None
    skipped = cases["a -> b IPv6"].find("skipped")
    assert skipped is not None and "IPv4 is recommended" in skipped.get("message", "")


def test_one_check_report_with_no_family_fails_in_junit(tmp_path: Path) -> None:
    peer = f"127.0.0.1:{closed_port()}"
    done = run_cli("check", "--no-kube", "--mode", "connect", "--peer", peer, "-o", "junit")
    assert done.returncode == 1
    root = ET.fromstring(done.stdout)
    failure = next(root.iter("failure"))
    assert "VP302" in failure.get("type", "").split(",")  # nothing listens: the finding names it
    assert root.get("failures") == "1" and root.get("skipped") == "1"
    skipped = next(root.iter("skipped"))  # an IPv4 literal offers nothing in IPv6
    assert "the peer offers no IPv6 endpoint" in skipped.get("message", "")
    report = tmp_path / "a.json"
    report.write_text(
        run_cli("check", "--no-kube", "--mode", "connect", "--peer", peer, "-o", "json").stdout
    )
    again = run_cli("report", str(report), "-o", "junit")  # a report file, rendered again
    assert again.returncode == 1 and ET.fromstring(again.stdout).get("failures") == "1"
    assert json.loads(report.read_text())["cluster"]["name"] is None  # no context here


def test_several_contexts_take_per_context_options_and_refuse_ambiguity() -> None:
    import pytest

    from probe.errors import UsageError
    from probe.k8sjob.multi import ClusterSpec, plan_clusters

    specs = plan_clusters(["a", "b"], ["/k/common", "b=/k/b"], ["volt"], ["a=east"])
    assert specs == (
        ClusterSpec("a", "east", "/k/common", "volt"),
        ClusterSpec("b", "b", "/k/b", "volt"),
    )
    for bad in (
        (["a", "a"], [], [], []),
        (["a", "b"], ["/x", "/y"], [], []),
        (["a", "b"], [], [], ["east"]),
        (["a", "b"], [], [], ["a=same", "b=same"]),
        (["a", "b"], [], ["a=x", "a=y"], []),
    ):
        with pytest.raises(UsageError):
            plan_clusters(*bad)
    with pytest.raises(UsageError, match="'c' is not a --context of this run"):
        plan_clusters(["a", "b"], [], [], ["c=x"])
    done = run_cli("job", "run", "--context", "a", "--context", "b", "-o", "values")
    assert done.returncode == 2 and "merged result" in done.stderr
    done = run_cli("job", "run", "--context", "a", "--context", "b", "--peer-cluster", "zz")
    assert done.returncode == 2 and "drop --peer-cluster" in done.stderr
