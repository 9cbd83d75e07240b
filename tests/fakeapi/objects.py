"""Realistic Kubernetes objects and four cluster flavours built from them.

Objects are complete, as a real apiserver returns them: the 37.x client validates
every response with pydantic models, so a missing required field (a container's
name, a port number, a condition's lastTransitionTime) would fail to deserialize.

Flavours (namespace "volt", Helm release "mydb" -> fullname "mydb-voltdb"):
- dual_stack(): IPv4+IPv6 pods, nodes and ServiceCIDR (networking.k8s.io/v1); the DR
  Service is a PreferDualStack LoadBalancer whose ingress lists IPv6 first; per-pod
  DR Services are NodePort; Multus secondary networks on the Volt pods.
- ipv4_only(): everything IPv4, ClusterIP DR Services, ServiceCIDR v1 with one range.
- ipv6_only(): everything IPv6; ServiceCIDR served only as networking.k8s.io/v1beta1.
- eks_like(): IPv4-only inside (VPC CNI: no podCIDRs, no ServiceCIDR API), a
  dual-stack NLB with only a hostname in status.loadBalancer.ingress.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .resources import DEFAULT_SERVED
from .server import VERSION_INFO

NAMESPACE = "volt"
RELEASE = "mydb"
FULLNAME = "mydb-voltdb"
PROBE_POD = "voltprobe-7d9f8b6c5-x2k4q"
DR_PORT = 5555

Obj = dict[str, Any]


@dataclass(frozen=True)
class Flavour:
    name: str
    objects: tuple[Obj, ...]
    version: dict[str, str] = field(default_factory=lambda: dict(VERSION_INFO))
    served: frozenset[str] = DEFAULT_SERVED
    namespace: str = NAMESPACE
    release: str = RELEASE
    probe_pod: str = PROBE_POD
    # Load-balancer hostnames and the addresses a test resolver should give them.
    lb_hostnames: dict[str, tuple[str, ...]] = field(default_factory=dict)


# -- builders ---------------------------------------------------------------


def namespace(name: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def pod(
    name: str,
    ips: list[str],
    *,
    ns: str = NAMESPACE,
    labels: dict[str, str] | None = None,
    node: str = "node-1",
    host_ips: list[str] | None = None,
    annotations: dict[str, str] | None = None,
    image: str = "voltdb/voltdb-enterprise:14.1.0",
    ports: list[int] | None = None,
) -> Obj:
    status: Obj = {
        "phase": "Running",
        "conditions": [
            {"type": t, "status": "True", "lastTransitionTime": "2025-05-01T10:01:00Z"}
            for t in (
                "PodReadyToStartContainers",
                "Initialized",
                "Ready",
                "ContainersReady",
                "PodScheduled",
            )
        ],
        "qosClass": "Burstable",
        "startTime": "2025-05-01T10:00:05Z",
        "containerStatuses": [
            {
                "name": "main",
                "image": image,
                "imageID": f"docker.io/{image}@sha256:" + "ab" * 32,
                "containerID": "containerd://" + "cd" * 32,
                "ready": True,
                "restartCount": 0,
                "started": True,
                "state": {"running": {"startedAt": "2025-05-01T10:00:30Z"}},
            }
        ],
    }
    if ips:
        status["podIP"] = ips[0]
        status["podIPs"] = [{"ip": ip} for ip in ips]
    if host_ips:
        status["hostIP"] = host_ips[0]
        status["hostIPs"] = [{"ip": ip} for ip in host_ips]
    meta: Obj = {"name": name, "namespace": ns, "labels": labels or {}}
    if annotations:
        meta["annotations"] = annotations
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {
            "containers": [
                {
                    "name": "main",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "ports": [{"containerPort": p, "protocol": "TCP"} for p in (ports or [])],
                    "resources": {},
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                }
            ],
            "nodeName": node,
            "restartPolicy": "Always",
            "dnsPolicy": "ClusterFirst",
            "schedulerName": "default-scheduler",
            "serviceAccountName": "default",
            "terminationGracePeriodSeconds": 30,
            "enableServiceLinks": True,
        },
        "status": status,
    }


def service(
    name: str,
    *,
    ns: str = NAMESPACE,
    selector: dict[str, str] | None,
    ports: list[Obj],
    families: list[str],
    cluster_ips: list[str],
    policy: str = "SingleStack",
    type_: str = "ClusterIP",
    ingress: list[Obj] | None = None,
    external_traffic_policy: str | None = None,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> Obj:
    spec: Obj = {
        "type": type_,
        "ports": ports,
        "clusterIP": cluster_ips[0],
        "clusterIPs": cluster_ips,
        "ipFamilies": families,
        "ipFamilyPolicy": policy,
        "sessionAffinity": "None",
        "internalTrafficPolicy": "Cluster",
    }
    if selector is not None:
        spec["selector"] = selector
    if type_ in ("NodePort", "LoadBalancer"):
        spec["externalTrafficPolicy"] = external_traffic_policy or "Cluster"
    if type_ == "LoadBalancer":
        spec["allocateLoadBalancerNodePorts"] = True
    meta: Obj = {"name": name, "namespace": ns, "labels": labels or {}}
    if annotations:
        meta["annotations"] = annotations
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
        "spec": spec,
        "status": {"loadBalancer": {"ingress": ingress} if ingress else {}},
    }


def port(
    name: str, number: int, node_port: int | None = None, target: int | str | None = None
) -> Obj:
    p: Obj = {"name": name, "protocol": "TCP", "port": number, "targetPort": target or number}
    if node_port:
        p["nodePort"] = node_port
    return p


def endpoint_slice(
    service_name: str,
    family: str,
    endpoints: list[tuple[str, str, str]],  # (pod name, address, node)
    *,
    ns: str = NAMESPACE,
    ports: list[Obj] | None = None,
    suffix: str = "",
) -> Obj:
    tag = suffix or ("4" if family == "IPv4" else "6") + "x7k2"
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": f"{service_name}-{tag}",
            "generateName": f"{service_name}-",
            "namespace": ns,
            "labels": {
                "kubernetes.io/service-name": service_name,
                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
            },
            "ownerReferences": [
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "name": service_name,
                    "uid": "5b0c2d1e-0000-4000-8000-000000000001",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "addressType": family,
        "endpoints": [
            {
                "addresses": [address],
                "conditions": {"ready": True, "serving": True, "terminating": False},
                "nodeName": node,
                "targetRef": {
                    "kind": "Pod",
                    "namespace": ns,
                    "name": pod_name,
                    "uid": "9a1e0000-0000-4000-8000-00000000000" + str(i % 10),
                },
            }
            for i, (pod_name, address, node) in enumerate(endpoints)
        ],
        "ports": ports or [{"name": "replication", "port": DR_PORT, "protocol": "TCP"}],
    }


def node(name: str, addresses: list[tuple[str, str]], pod_cidrs: list[str] | None = None) -> Obj:
    spec: Obj = {}
    if pod_cidrs:
        spec = {"podCIDR": pod_cidrs[0], "podCIDRs": pod_cidrs}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
            },
        },
        "spec": spec,
        "status": {
            "addresses": [{"type": t, "address": a} for t, a in addresses],
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": "2025-05-01T12:00:00Z",
                    "lastTransitionTime": "2025-05-01T10:00:00Z",
                }
            ],
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": "b0",
                "containerRuntimeVersion": "containerd://2.0.5",
                "kernelVersion": "6.8.0-1021",
                "kubeProxyVersion": "",
                "kubeletVersion": "v1.33.2",
                "machineID": "m0",
                "operatingSystem": "linux",
                "osImage": "Ubuntu 24.04.2 LTS",
                "systemUUID": "s0",
            },
        },
    }


def service_cidr(name: str, cidrs: list[str], api_version: str = "networking.k8s.io/v1") -> Obj:
    return {
        "apiVersion": api_version,
        "kind": "ServiceCIDR",
        "metadata": {"name": name, "finalizers": ["networking.k8s.io/service-cidr-finalizer"]},
        "spec": {"cidrs": cidrs},
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "",
                    "message": "",
                    "lastTransitionTime": "2025-05-01T10:00:00Z",
                }
            ]
        },
    }


def network_status(entries: list[Obj]) -> str:
    """The Multus network-status annotation value: a JSON string holding a list."""
    return json.dumps(entries, indent=4)


# -- the Volt release as the chart lays it out --------------------------------

VOLT_LABELS = {"name": "voltdb-cluster", "voltdb-cluster-name": FULLNAME, "release": RELEASE}


def volt_pod_name(i: int) -> str:
    return f"{FULLNAME}-cluster-{i}"


def volt_pods(
    ips: list[list[str]],
    nodes: list[str],
    host_ips: list[list[str]],
    annotations: list[dict[str, str]] | None = None,
) -> list[Obj]:
    return [
        pod(
            volt_pod_name(i),
            pod_ips,
            labels={
                **VOLT_LABELS,
                "statefulset.kubernetes.io/pod-name": volt_pod_name(i),
                "apps.kubernetes.io/pod-index": str(i),
            },
            node=nodes[i % len(nodes)],
            host_ips=host_ips[i % len(host_ips)],
            annotations=(annotations[i] if annotations else None),
            ports=[21212, 21211, 3021, 5555, 8080],
        )
        for i, pod_ips in enumerate(ips)
    ]


def volt_side_services(cluster_ips: list[list[str]], families: list[str], policy: str) -> list[Obj]:
    """The client, http and headless internal Services (not DR: no replication port)."""
    return [
        service(
            f"{FULLNAME}-cluster-client",
            selector=VOLT_LABELS,
            ports=[port("client", 21212), port("admin", 21211)],
            families=families,
            cluster_ips=cluster_ips[0],
            policy=policy,
        ),
        service(
            f"{FULLNAME}-cluster-http",
            selector=VOLT_LABELS,
            ports=[port("http", 8080)],
            families=families,
            cluster_ips=cluster_ips[1],
            policy=policy,
        ),
        service(
            f"{FULLNAME}-cluster-internal",
            selector=VOLT_LABELS,
            ports=[port("internal", 3021), port("zk", 7181), port("http", 8080)],
            families=families,
            cluster_ips=["None"],
            policy=policy,
        ),
    ]


def probe_pod(ips: list[str], node_name: str, host_ips: list[str]) -> Obj:
    return pod(
        PROBE_POD,
        ips,
        labels={"app.kubernetes.io/name": "voltprobe", "pod-template-hash": "7d9f8b6c5"},
        node=node_name,
        host_ips=host_ips,
        image="voltprobe:0.1.0",
    )


def bystanders(ips: list[str]) -> list[Obj]:
    """Pods and a Service that are not Volt, to catch selectors that are not honoured."""
    return [
        pod("nginx-55649fd747-9cr7h", [ips[0]], labels={"app": "nginx"}, image="nginx:1.27"),
        service(
            "nginx",
            selector={"app": "nginx"},
            ports=[port("http", 80)],
            families=["IPv4" if ":" not in ips[0] else "IPv6"],
            cluster_ips=[ips[1]],
        ),
    ]


def common() -> list[Obj]:
    return [namespace("default"), namespace("kube-system"), namespace(NAMESPACE)]


# -- flavours -----------------------------------------------------------------


def dual_stack() -> Flavour:
    nodes = ["k8s-worker-1", "k8s-worker-2", "k8s-worker-3"]
    host_ips = [[f"10.240.0.{4 + i}", f"2001:db8:5678:9abc::{4 + i}"] for i in range(3)]
    pod_ips = [[f"10.244.{i}.10", f"fd12:3456:789a:{i}::10"] for i in range(3)]
    multus = [
        {
            "k8s.v1.cni.cncf.io/networks": "volt/macvlan-xdcr",
            "k8s.v1.cni.cncf.io/network-status": network_status(
                [
                    {
                        "name": "k8s-pod-network",
                        "interface": "eth0",
                        "ips": pod_ips[i],
                        "default": True,
                        "dns": {},
                    },
                    {
                        "name": "volt/macvlan-xdcr",
                        "interface": "net1",
                        "ips": [f"192.0.2.{10 + i}/24", f"2001:db8:100::{10 + i}/64"],
                        "mac": f"86:1d:96:ff:55:0{i}",
                        "dns": {},
                    },
                ]
            ),
        }
        for i in range(3)
    ]
    dr_families, dr_policy = ["IPv4", "IPv6"], "PreferDualStack"
    dr = f"{FULLNAME}-cluster-dr"
    objects: list[Obj] = [
        *common(),
        *[
            node(
                n,
                [("InternalIP", host_ips[i][0]), ("InternalIP", host_ips[i][1]), ("Hostname", n)],
                [f"10.244.{i}.0/24", f"fd12:3456:789a:{i}::/64"],
            )
            for i, n in enumerate(nodes)
        ],
        service_cidr("kubernetes", ["10.96.0.0/16", "fd00:10:96::/112"]),
        probe_pod(["10.244.1.77", "fd12:3456:789a:1::77"], nodes[1], host_ips[1]),
        *volt_pods(pod_ips, nodes, host_ips, multus),
        *volt_side_services(
            [["10.96.10.1", "fd00:10:96::a01"], ["10.96.10.2", "fd00:10:96::a02"]],
            dr_families,
            dr_policy,
        ),
        service(
            dr,
            selector=VOLT_LABELS,
            ports=[port("replication", DR_PORT, node_port=30555)],
            families=dr_families,
            cluster_ips=["10.96.20.1", "fd00:10:96::1401"],
            policy=dr_policy,
            type_="LoadBalancer",
            external_traffic_policy="Local",
            # IPv6 listed first on purpose: families come from parsing, never position.
            ingress=[
                {"ip": "2001:db8:ff::55", "ipMode": "VIP"},
                {"ip": "203.0.113.55", "ipMode": "VIP"},
            ],
        ),
        endpoint_slice(dr, "IPv4", [(volt_pod_name(i), pod_ips[i][0], nodes[i]) for i in range(3)]),
        endpoint_slice(dr, "IPv6", [(volt_pod_name(i), pod_ips[i][1], nodes[i]) for i in range(3)]),
        *bystanders(["10.244.2.99", "10.96.30.1"]),
    ]
    for i in range(3):
        name = f"{FULLNAME}-cluster-{i}-dr"
        objects += [
            service(
                name,
                selector={**VOLT_LABELS, "statefulset.kubernetes.io/pod-name": volt_pod_name(i)},
                ports=[port("replication", DR_PORT, node_port=32760 + i)],
                families=dr_families,
                cluster_ips=[f"10.96.21.{i + 1}", f"fd00:10:96::15{i + 1:02}"],
                policy=dr_policy,
                type_="NodePort",
            ),
            endpoint_slice(name, "IPv4", [(volt_pod_name(i), pod_ips[i][0], nodes[i])]),
            endpoint_slice(name, "IPv6", [(volt_pod_name(i), pod_ips[i][1], nodes[i])]),
        ]
    return Flavour("dual-stack", tuple(objects))


def _single_stack(family: str) -> tuple[list[Obj], list[str]]:
    """Objects shared by the IPv4-only and IPv6-only flavours (no ServiceCIDR)."""
    v6 = family == "IPv6"
    nodes = ["worker-a", "worker-b", "worker-c"]
    host_ips = [[f"2001:db8:10::{i + 1}" if v6 else f"172.18.0.{i + 2}"] for i in range(3)]
    pod_ips = [[f"fd00:10:244:{i + 1}::5" if v6 else f"10.244.{i + 1}.5"] for i in range(3)]
    svc_ip = (
        (lambda n: f"fd00:10:96::{n:x}") if v6 else (lambda n: f"10.96.{n // 250}.{n % 250 + 1}")
    )
    dr = f"{FULLNAME}-cluster-dr"
    objects: list[Obj] = [
        *common(),
        *[
            node(
                n,
                [("InternalIP", host_ips[i][0]), ("Hostname", n)],
                [f"fd00:10:244:{i + 1}::/64" if v6 else f"10.244.{i + 1}.0/24"],
            )
            for i, n in enumerate(nodes)
        ],
        probe_pod(["fd00:10:244:2::77" if v6 else "10.244.2.77"], nodes[1], host_ips[1]),
        *volt_pods(pod_ips, nodes, host_ips),
        *volt_side_services([[svc_ip(101)], [svc_ip(102)]], [family], "SingleStack"),
        service(
            dr,
            selector=VOLT_LABELS,
            ports=[port("replication", DR_PORT)],
            families=[family],
            cluster_ips=[svc_ip(201)],
        ),
        endpoint_slice(dr, family, [(volt_pod_name(i), pod_ips[i][0], nodes[i]) for i in range(3)]),
        *bystanders(["fd00:10:244:3::99" if v6 else "10.244.3.99", svc_ip(300)]),
    ]
    for i in range(3):
        name = f"{FULLNAME}-cluster-{i}-dr"
        objects += [
            service(
                name,
                selector={**VOLT_LABELS, "statefulset.kubernetes.io/pod-name": volt_pod_name(i)},
                ports=[port("replication", DR_PORT)],
                families=[family],
                cluster_ips=[svc_ip(211 + i)],
            ),
            endpoint_slice(name, family, [(volt_pod_name(i), pod_ips[i][0], nodes[i])]),
        ]
    return objects, nodes


def ipv4_only() -> Flavour:
    objects, _ = _single_stack("IPv4")
    objects.append(service_cidr("kubernetes", ["10.96.0.0/16"]))
    return Flavour("ipv4-only", tuple(objects))


def ipv6_only() -> Flavour:
    """IPv6-only on 1.32 with the beta ServiceCIDR API enabled (v1 not served yet)."""
    objects, _ = _single_stack("IPv6")
    objects.append(
        service_cidr("kubernetes", ["fd00:10:96::/108"], api_version="networking.k8s.io/v1beta1")
    )
    served = (DEFAULT_SERVED - {"networking.k8s.io/v1"}) | {"networking.k8s.io/v1beta1"}
    version = {
        **VERSION_INFO,
        "minor": "32",
        "emulationMinor": "32",
        "minCompatibilityMinor": "31",
        "gitVersion": "v1.32.5",
        "gitCommit": "9894294ef13a5b32803e3ca2c0d620a088cc84d1",
    }
    return Flavour("ipv6-only", tuple(objects), version=version, served=served)


EKS_NLB = "k8s-volt-mydbvolt-3f1c2a9b7e-0123456789abcdef.elb.us-west-2.amazonaws.com"


def eks_like() -> Flavour:
    """EKS 1.30, IPv4 VPC CNI: pods take VPC addresses, nodes carry no podCIDRs and the
    ServiceCIDR API is not served; the DR Service is a dual-stack NLB (hostname only)."""
    nodes = [f"ip-192-168-{12 + i}-{34 + i}.us-west-2.compute.internal" for i in range(3)]
    host_ips = [[f"192.168.{12 + i}.{34 + i}"] for i in range(3)]
    pod_ips = [[f"192.168.{12 + i}.{100 + i}"] for i in range(3)]
    dr = f"{FULLNAME}-cluster-dr"
    objects: list[Obj] = [
        *common(),
        *[
            node(
                n,
                [
                    ("InternalIP", host_ips[i][0]),
                    ("ExternalIP", f"198.51.100.{20 + i}"),
                    ("InternalDNS", n),
                    ("Hostname", n),
                ],
            )
            for i, n in enumerate(nodes)
        ],
        probe_pod(["192.168.13.77"], nodes[1], host_ips[1]),
        *volt_pods(pod_ips, nodes, host_ips),
        *volt_side_services([["10.100.14.1"], ["10.100.14.2"]], ["IPv4"], "SingleStack"),
        service(
            dr,
            selector=VOLT_LABELS,
            ports=[port("replication", DR_PORT, node_port=31555)],
            families=["IPv4"],
            cluster_ips=["10.100.20.1"],
            type_="LoadBalancer",
            annotations={
                "service.beta.kubernetes.io/aws-load-balancer-type": "external",
                "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
                "service.beta.kubernetes.io/aws-load-balancer-ip-address-type": "dualstack",
                "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
            },
            ingress=[{"hostname": EKS_NLB}],
        ),
        endpoint_slice(dr, "IPv4", [(volt_pod_name(i), pod_ips[i][0], nodes[i]) for i in range(3)]),
        *bystanders(["192.168.14.99", "10.100.30.1"]),
    ]
    served = DEFAULT_SERVED - {"networking.k8s.io/v1"}
    version = {
        **VERSION_INFO,
        "minor": "30+",
        "emulationMinor": "30",
        "minCompatibilityMinor": "29",
        "gitVersion": "v1.30.13-eks-5e0fdde",
        "gitCommit": "5e0fdde2c6c4e7b3a1bc3b2c4bd0fb5a3b1c9e2f",
    }
    return Flavour(
        "eks-like",
        tuple(objects),
        version=version,
        served=served,
        lb_hostnames={EKS_NLB: ("203.0.113.80", "2001:db8:ee::80")},
    )


FLAVOURS = {
    "dual-stack": dual_stack,
    "ipv4-only": ipv4_only,
    "ipv6-only": ipv6_only,
    "eks-like": eks_like,
}


def scale(pods: int = 5000, services: int = 500) -> Flavour:
    """The dual-stack flavour plus many unrelated pods, Services and EndpointSlices."""
    base = dual_stack()
    extra: list[Obj] = []
    for i in range(services):
        selector = {"app": f"app-{i}"}
        extra.append(
            service(
                f"app-{i:04d}",
                selector=selector,
                ports=[port("http", 8080)],
                families=["IPv4", "IPv6"],
                policy="PreferDualStack",
                cluster_ips=[f"10.96.{100 + i // 250}.{i % 250 + 1}", f"fd00:10:96::1:{i:x}"],
            )
        )
        extra.append(
            endpoint_slice(
                f"app-{i:04d}",
                "IPv4",
                [],
                ports=[{"name": "http", "port": 8080, "protocol": "TCP"}],
            )
        )
    for i in range(pods):
        extra.append(
            pod(
                f"app-{i % services:04d}-{i:05d}",
                [f"10.245.{i // 250}.{i % 250 + 1}", f"fd12:3456:789b::{i:x}"],
                labels={"app": f"app-{i % services}"},
                node=f"k8s-worker-{i % 3 + 1}",
                image="busybox:1.36",
            )
        )
    return Flavour("scale", base.objects + tuple(extra))


def dual_stack_with_ipv4_dr() -> Flavour:
    """A dual-stack cluster whose DR Services were created SingleStack IPv4 (the chart's
    default before anyone set ipFamilies): the pods and ServiceCIDRs have both families."""
    import copy

    objects: list[Obj] = []
    for obj in dual_stack().objects:
        obj = copy.deepcopy(obj)
        name = obj["metadata"]["name"]
        if obj["kind"] == "Service" and name.endswith("-dr"):
            spec = obj["spec"]
            spec.update(
                ipFamilies=["IPv4"],
                ipFamilyPolicy="SingleStack",
                clusterIPs=spec["clusterIPs"][:1],
                clusterIP=spec["clusterIPs"][0],
            )
            ingress = obj.get("status", {}).get("loadBalancer", {}).get("ingress")
            if ingress:
                obj["status"]["loadBalancer"]["ingress"] = [
                    i for i in ingress if ":" not in i["ip"]
                ]
        service = obj["metadata"].get("labels", {}).get("kubernetes.io/service-name", "")
        if (
            obj["kind"] == "EndpointSlice"
            and service.endswith("-dr")
            and obj["addressType"] == "IPv6"
        ):
            continue  # the controller writes slices only for the Service's families
        objects.append(obj)
    return Flavour("dual-stack-ipv4-dr", tuple(objects))


FLAVOURS = {
    "dual-stack": dual_stack,
    "ipv4-only": ipv4_only,
    "ipv6-only": ipv6_only,
    "eks-like": eks_like,
    "dual-stack-ipv4-dr": dual_stack_with_ipv4_dr,
}
