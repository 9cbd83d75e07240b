"""The fake API server itself, checked through the real kubernetes client."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.fakeapi import FakeApiServer, Fault, objects
from tests.fakeapi.hooks import complete_jobs


@pytest.fixture
def api_client(fake_api: FakeApiServer) -> Iterator[client.ApiClient]:
    config = client.Configuration(host=fake_api.url)
    config.api_key = {"BearerToken": f"Bearer {fake_api.token}"}
    with client.ApiClient(config) as api:
        yield api


def status_of(exc: ApiException) -> dict[str, Any]:
    body = json.loads(exc.body)
    assert body["kind"] == "Status" and body["apiVersion"] == "v1" and body["status"] == "Failure"
    assert body["code"] == exc.status
    return body


def names(items: list[Any]) -> list[str]:
    return [i.metadata.name for i in items]


@pytest.mark.parametrize("flavour", sorted(objects.FLAVOURS))
def test_every_flavour_object_validates_with_the_client_models(flavour: str) -> None:
    for obj in objects.FLAVOURS[flavour]().objects:
        version = obj["apiVersion"].split("/")[-1].capitalize()
        model = getattr(client.models, f"{version}{obj['kind']}", None)
        if model is None:  # v1beta1 ServiceCIDR has no typed model in the 37.x client
            model = getattr(client.models, f"V1{obj['kind']}")
        assert model.from_dict(obj) is not None, obj["metadata"]["name"]


def test_version_is_complete(fake_api: FakeApiServer, api_client: client.ApiClient) -> None:
    info = client.VersionApi(api_client).get_code()
    assert info.git_commit and info.git_version == "v1.33.2" and info.platform == "linux/amd64"


def test_label_and_field_selectors(fake_api: FakeApiServer, api_client: client.ApiClient) -> None:
    fake_api.load(objects.dual_stack())
    core = client.CoreV1Api(api_client)
    sel = "release=mydb,statefulset.kubernetes.io/pod-name!=mydb-voltdb-cluster-1"
    assert names(core.list_namespaced_pod("volt", label_selector=sel).items) == [
        "mydb-voltdb-cluster-0",
        "mydb-voltdb-cluster-2",
    ]
    assert names(
        core.list_namespaced_pod("volt", label_selector="app in (nginx, other)").items
    ) == ["nginx-55649fd747-9cr7h"]
    assert (
        len(core.list_namespaced_pod("volt", label_selector="!release").items) == 2
    )  # nginx, probe
    picked = core.list_pod_for_all_namespaces(field_selector="metadata.name=mydb-voltdb-cluster-2")
    assert names(picked.items) == ["mydb-voltdb-cluster-2"]
    assert core.list_pod_for_all_namespaces(field_selector="metadata.namespace=default").items == []
    with pytest.raises(ApiException) as bad:
        core.list_namespaced_pod("volt", field_selector="spec.hostname=x")
    assert (
        bad.value.status == 400
        and status_of(bad.value)["message"] == "field label not supported: spec.hostname"
    )


def test_paging_with_opaque_continue_tokens(
    fake_api: FakeApiServer, api_client: client.ApiClient
) -> None:
    fake_api.load(objects.dual_stack())
    core = client.CoreV1Api(api_client)
    total = len(core.list_namespaced_service("volt").items)
    seen, token, pages = [], None, 0
    while True:
        page = core.list_namespaced_service("volt", limit=3, _continue=token)
        pages += 1
        seen += names(page.items)
        token = page.metadata._continue
        if not token:
            assert page.metadata.remaining_item_count is None
            break
        assert page.metadata.remaining_item_count == total - len(seen)
    assert total == 8 and pages == 3 and seen == sorted(seen) and len(set(seen)) == total
    with pytest.raises(ApiException) as bad:
        core.list_namespaced_service("volt", limit=3, _continue="not-a-token")
    assert bad.value.status == 400


def test_list_items_have_no_kind_but_the_list_has(
    fake_api: FakeApiServer, api_client: client.ApiClient
) -> None:
    fake_api.load(objects.ipv4_only())
    raw = client.CoreV1Api(api_client).list_node(_preload_content=False)
    body = json.loads(raw.data)
    assert body["kind"] == "NodeList" and body["metadata"]["resourceVersion"]
    assert "kind" not in body["items"][0] and body["items"][0]["metadata"]["uid"]


def test_create_conflict_and_delete(fake_api: FakeApiServer, api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    body = {"metadata": {"name": "cm1"}, "data": {"a": "b"}}
    created = core.create_namespaced_config_map("volt", body)
    assert (
        created.metadata.uid
        and created.metadata.namespace == "volt"
        and created.metadata.resource_version
    )
    with pytest.raises(ApiException) as clash:
        core.create_namespaced_config_map("volt", body)
    status = status_of(clash.value)
    assert (status["reason"], status["message"]) == (
        "AlreadyExists",
        'configmaps "cm1" already exists',
    )
    assert status["details"] == {"kind": "configmaps", "name": "cm1"}
    dry = core.create_namespaced_config_map(
        "volt", {"metadata": {"generateName": "x-"}}, dry_run="All"
    )
    assert dry.metadata.name.startswith("x-") and names(
        core.list_namespaced_config_map("volt").items
    ) == ["cm1"]
    deleted = api_client.sanitize_for_serialization(
        core.delete_namespaced_config_map("cm1", "volt")
    )
    assert deleted["status"] == "Success" and deleted["details"]["name"] == "cm1"
    with pytest.raises(ApiException) as missing:
        core.delete_namespaced_config_map("cm1", "volt")
    assert status_of(missing.value)["message"] == 'configmaps "cm1" not found'


def test_create_hook_completes_a_job_with_logs(
    fake_api: FakeApiServer, api_client: client.ApiClient
) -> None:
    fake_api.on_create("jobs", complete_jobs("voltprobe: IPv6 works\n"))
    job = {
        "metadata": {"name": "voltprobe-check"},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "probe", "image": "voltprobe:0.1.0"}],
                }
            }
        },
    }
    client.BatchV1Api(api_client).create_namespaced_job("volt", job)
    finished = client.BatchV1Api(api_client).read_namespaced_job("voltprobe-check", "volt")
    assert finished.status.succeeded == 1 and finished.status.conditions[0].type == "Complete"
    core = client.CoreV1Api(api_client)
    (pod,) = core.list_namespaced_pod(
        "volt", label_selector="batch.kubernetes.io/job-name=voltprobe-check"
    ).items
    assert core.read_namespaced_pod_log(pod.metadata.name, "volt") == "voltprobe: IPv6 works\n"


def test_fault_status_bodies(fake_api: FakeApiServer, api_client: client.ApiClient) -> None:
    fake_api.load(objects.dual_stack())
    core = client.CoreV1Api(api_client)
    fake_api.add_fault(Fault(verb="get", resource="pods", status=403))
    with pytest.raises(client.exceptions.ForbiddenException) as forbidden:
        core.read_namespaced_pod("mydb-voltdb-cluster-0", "volt")
    body = status_of(forbidden.value)
    assert body["message"] == (
        'pods "mydb-voltdb-cluster-0" is forbidden: User "system:serviceaccount:volt:voltprobe" '
        'cannot get resource "pods" in API group "" in the namespace "volt"'
    )
    assert body["details"] == {"name": "mydb-voltdb-cluster-0", "kind": "pods"}
    fake_api.add_fault(Fault(verb="list", resource="servicecidrs", status=403))
    with pytest.raises(ApiException) as cidr:
        client.NetworkingV1Api(api_client).list_service_cidr()
    assert status_of(cidr.value)["message"].startswith(
        'servicecidrs.networking.k8s.io is forbidden: User "system:serviceaccount:volt:voltprobe" '
        'cannot list resource "servicecidrs" in API group "networking.k8s.io" at the cluster scope'
    )
    fake_api.add_fault(Fault(verb="list", resource="nodes", status=500, times=1))
    with pytest.raises(client.exceptions.ServiceException) as internal:
        core.list_node()
    assert status_of(internal.value)["reason"] == "InternalError"
    assert len(core.list_node().items) == 3  # times=1: the next call is answered


def test_bad_token_is_401_but_anonymous_version_is_allowed(fake_api: FakeApiServer) -> None:
    config = client.Configuration(host=fake_api.url)
    config.api_key = {"BearerToken": "Bearer wrong"}
    with client.ApiClient(config) as api:
        with pytest.raises(client.exceptions.UnauthorizedException) as denied:
            client.CoreV1Api(api).list_node()
        assert status_of(denied.value) | {"metadata": {}} == {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "Unauthorized",
            "reason": "Unauthorized",
            "code": 401,
        }
    with client.ApiClient(client.Configuration(host=fake_api.url)) as anonymous:
        assert client.VersionApi(anonymous).get_code().major == "1"


def test_discovery_and_unserved_groups(
    fake_api: FakeApiServer, api_client: client.ApiClient
) -> None:
    fake_api.load(objects.ipv6_only())
    groups = client.ApisApi(api_client).get_api_versions()
    versions = {g.name: [v.version for v in g.versions] for g in groups.groups}
    assert versions["networking.k8s.io"] == ["v1beta1"] and "discovery.k8s.io" in versions
    resources = client.DiscoveryV1Api(api_client).get_api_resources()
    assert [r.name for r in resources.resources] == ["endpointslices"]
    with pytest.raises(client.exceptions.NotFoundException) as unserved:
        client.NetworkingV1Api(api_client).list_service_cidr()
    assert (
        status_of(unserved.value)["message"] == "the server could not find the requested resource"
    )


def test_reset_and_delay_faults(fake_api: FakeApiServer) -> None:
    config = client.Configuration(host=fake_api.url)
    config.api_key = {"BearerToken": f"Bearer {fake_api.token}"}
    config.retries = False
    fake_api.add_fault(Fault(verb="list", resource="pods", reset=True))
    fake_api.add_fault(Fault(verb="list", resource="nodes", delay=1.0))
    import urllib3

    with client.ApiClient(config) as api:
        core = client.CoreV1Api(api)
        with pytest.raises(urllib3.exceptions.ProtocolError) as reset:
            core.list_namespaced_pod("volt")
        assert isinstance(reset.value.args[1], ConnectionResetError)
        with pytest.raises(urllib3.exceptions.ReadTimeoutError):
            core.list_node(_request_timeout=0.2)


def test_ipv6_loopback_server(tmp_path: Path) -> None:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this host")
    with FakeApiServer(host="::1") as api:
        api.load(objects.ipv6_only())
        assert api.url.startswith("http://[::1]:")
        config = client.Configuration(host=api.url)
        config.api_key = {"BearerToken": f"Bearer {api.token}"}
        with client.ApiClient(config) as c:
            assert len(client.CoreV1Api(c).list_node().items) == 3
