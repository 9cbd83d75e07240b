"""A hostile or broken Kubernetes API and kubeconfig, through the real client against
tests/fakeapi: each fault costs bounded time and becomes a problem (a finding), or exit 2
naming the file; never a hang or a traceback (issue 16)."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import pytest
from kubernetes import client

from probe.inventory import Environment, gather
from probe.kube import config as kube_config
from probe.kube import reader as kube_reader
from probe.kube.config import ConfigSources, Unavailable, connect
from probe.kube.errors import ApiProblem, Read
from probe.kube.reader import ApiReader
from probe.model import Family
from probe.options import KubeOptions
from tests.fakeapi import FakeApiServer, Fault, objects
from tests.fakeapi.files import kubeconfig_for
from tests.support.processes import run_cli

NS = objects.NAMESPACE
PODS = Read("list", "pods", namespace=NS)


def api_client(api: FakeApiServer) -> client.ApiClient:
    config = client.Configuration(host=api.url)
    config.api_key = {"BearerToken": f"Bearer {api.token}"}
    return client.ApiClient(config)


def environment() -> Environment:
    return Environment(
        environ={"POD_NAMESPACE": NS},
        serviceaccount_dir="/nonexistent/serviceaccount",
        resolve_host=lambda host, timeout: ((), "NXDOMAIN"),
        interface_families=lambda: (Family.IPV4,),
        home="/nonexistent-home",
    )


def test_a_trickling_answer_is_cut_at_the_calls_total_time(fake_api: FakeApiServer) -> None:
    fake_api.load(objects.dual_stack())
    fake_api.add_fault(Fault(resource="version", trickle=0.1))  # ~1 KB at 10 bytes/s
    reader = ApiReader(api_client(fake_api), timeout=0.5, page_size=500)
    started = time.monotonic()
    answer = reader.call(
        Read("get", "version", cluster_scoped=True), client.VersionApi(reader._api).get_code
    )
    took = time.monotonic() - started
    assert isinstance(answer, ApiProblem) and answer.reason == "Timeout"
    assert "no complete answer in 1 s" in answer.message
    assert took < 2, "each read came within the read timeout: only a total bound stops it"


@pytest.mark.parametrize(
    ("mode", "message"),
    [("repeat", "repeated a continue token"), ("endless", "more than 20 pages")],
)
def test_a_continue_token_that_never_ends_stops_the_list(
    fake_api: FakeApiServer, monkeypatch: pytest.MonkeyPatch, mode: str, message: str
) -> None:
    monkeypatch.setattr(kube_reader, "MAX_PAGES", 20)  # the real cap (200) costs 9 s here
    fake_api.load(objects.dual_stack())
    fault = fake_api.add_fault(Fault(verb="list", resource="pods", continue_token=mode))
    reader = ApiReader(api_client(fake_api), timeout=2, page_size=500)
    core = client.CoreV1Api(reader._api)
    answer = reader.list_all(PODS, core.list_namespaced_pod, NS)
    assert isinstance(answer, ApiProblem) and answer.reason == "InvalidResponse"
    assert message in answer.message
    assert fault.hits <= kube_reader.MAX_PAGES


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 50_000 + b"]" * 50_000,
        b'{"kind": "PodList", "items": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        b'{"kind": "PodList", "items": 5}',
        b'{"kind": "PodList", "items": [5, "x", null]}',
        b"\xff\xfe garbage",
        b'"a string"',
    ],
)
def test_a_hostile_list_body_is_a_problem_not_a_crash(fake_api: FakeApiServer, body: bytes) -> None:
    fake_api.load(objects.dual_stack())
    fake_api.add_fault(Fault(verb="list", resource="pods", body=body))
    reader = ApiReader(api_client(fake_api), timeout=2, page_size=500)
    answer = reader.list_all(PODS, client.CoreV1Api(reader._api).list_namespaced_pod, NS)
    assert isinstance(answer, (ApiProblem, list))


def test_the_whole_inventory_against_a_trickling_api_is_bounded(
    fake_api: FakeApiServer, tmp_path: Path
) -> None:
    fake_api.load(objects.dual_stack())
    fake_api.add_fault(Fault(verb="list", trickle=0.05))  # every list trickles
    kubeconfig = kubeconfig_for(fake_api, tmp_path / "kubeconfig", namespace=NS)
    options = KubeOptions(kubeconfig=str(kubeconfig), request_timeout=0.3)
    started = time.monotonic()
    inventory = gather(options, 5555, environment())
    took = time.monotonic() - started
    assert any(p.reason == "Timeout" for p in inventory.problems), inventory.problems
    assert took < 5


def test_a_slow_exec_credential_plugin_is_unavailable_in_bounded_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugin = tmp_path / "plugin"
    plugin.write_text("#!/bin/sh\nexec sleep 5\n")
    plugin.chmod(stat.S_IRWXU)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "slow",
                "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:9"}}],
                "contexts": [{"name": "slow", "context": {"cluster": "c", "user": "u"}}],
                "users": [
                    {
                        "name": "u",
                        "user": {
                            "exec": {
                                "apiVersion": "client.authentication.k8s.io/v1",
                                "command": str(plugin),
                                "interactiveMode": "Never",
                            }
                        },
                    }
                ],
            }
        )
    )
    monkeypatch.setattr(kube_config, "CONNECT_SECONDS", 1.0)
    started = time.monotonic()
    found = connect(KubeOptions(kubeconfig=str(kubeconfig)), ConfigSources(environ={}))
    assert time.monotonic() - started < 2
    assert isinstance(found, Unavailable) and "exec credential plugin" in found.reason


DEEP = "a: " + "{b: " * 1000 + "1" + "}" * 1000 + "\n"
BAD_KUBECONFIGS = {
    "a scalar context": (
        "apiVersion: v1\ncontexts:\n- name: x\n  context: just-a-string\ncurrent-context: x\n",
        "contexts[0].context is not a mapping",
    ),
    "contexts a scalar": ("contexts: 5\n", "contexts is not a list"),
    "nested 1000 deep": (DEEP, "nested deeper than"),
    "a list": ("- 1\n- 2\n", "not a mapping"),
    "not YAML": ("a: [\n", "not valid YAML"),
    "aliases": (
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n"
            for i in range(6)
        ),
        "more than",
    ),
}


@pytest.mark.parametrize("name", list(BAD_KUBECONFIGS))
def test_a_malformed_kubeconfig_is_exit_2_naming_the_file(tmp_path: Path, name: str) -> None:
    text, message = BAD_KUBECONFIGS[name]
    path = tmp_path / "kubeconfig"
    path.write_text(text)
    done = run_cli("check", "--peer", "192.0.2.1", "--kubeconfig", str(path))
    assert done.returncode == 2, done.stderr
    assert f"kubeconfig {path}: {message}" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1


def test_a_malformed_kubeconfig_in_the_environment_is_named_too(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(BAD_KUBECONFIGS["a scalar context"][0])
    done = run_cli("job", "logs", "voltprobe", env={"KUBECONFIG": str(path)})
    assert done.returncode == 2, done.stderr
    assert f"kubeconfig {path}: contexts[0].context is not a mapping" in done.stderr
