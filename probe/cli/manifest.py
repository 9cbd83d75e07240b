"""`voltprobe manifest`: render the in-cluster manifests with the parameters filled in.

    voltprobe manifest --peer HOST[:PORT] [--namespace NS] [--image IMG] [--raw] [--per-pod]
                       [--dry-run-service]     the Role variant with `create services`
    voltprobe manifest clusterrole [--namespace NS]
    voltprobe manifest responder [--service-type T] [--ip-family-policy P] [--ip-families F,F]
    voltprobe manifest runner-role [--namespace NS] [--with-ephemeral] [--with-responder]
                                                        what `voltprobe job run` needs
    voltprobe manifest runner-policy [--image IMG]      the admission policy limiting it

The output is what k8s/*.yaml hold with the defaults (both come from probe/k8sjob/).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from probe.cli.args import add_peer_options, add_per_pod_option, add_timeout_option, int_range

WHAT = ("job", "clusterrole", "responder", "runner-role", "runner-policy")


def add_parser(commands: Any) -> None:
    from probe.k8sjob.defaults import (
        DEFAULT_IP_FAMILY_POLICY,
        DEFAULT_NAMESPACE,
        DEFAULT_SERVICE_TYPE,
        IP_FAMILY_POLICIES,
        SERVICE_TYPES,
    )

    parser = commands.add_parser(
        "manifest",
        help="render the in-cluster Job (or responder) manifests for kubectl/GitOps",
        description="Print Kubernetes manifests with the parameters filled in: the probe Job "
        "with its ServiceAccount and read-only RBAC (default), the optional cluster-wide read "
        "access (clusterrole), the DR-port responder (responder), the Role a person needs "
        "to use `voltprobe job run` (runner-role), or the ValidatingAdmissionPolicy that "
        "limits that Role to voltprobe's own Jobs and objects (runner-policy).",
    )
    parser.add_argument(
        "what", nargs="?", choices=WHAT, default="job", help="which manifests (default job)"
    )
    parser.add_argument(
        "-n",
        "--namespace",
        default=DEFAULT_NAMESPACE,
        help=f"namespace of every object (default {DEFAULT_NAMESPACE}); use the "
        "Volt cluster's namespace",
    )
    parser.add_argument("--name", help="object name (default voltprobe / voltprobe-responder)")
    job = parser.add_argument_group("job")
    add_job_options(job, peer_required=False)
    job.add_argument(
        "--with-cluster-role",
        action="store_true",
        help="also render the optional ClusterRole + binding (nodes, servicecidrs)",
    )
    runner = parser.add_argument_group("runner-role")
    runner.add_argument(
        "--with-ephemeral",
        action="store_true",
        help="also patch pods/ephemeralcontainers, for `job run --from-volt-pod` (a write "
        "to the Volt pods; an ephemeral container stays until its pod restarts)",
    )
    runner.add_argument(
        "--with-responder",
        action="store_true",
        help="also create/delete pods and services, for `job run --responder` (voltprobe "
        "serve behind a Service, deleted after the run)",
    )
    job.add_argument(
        "--dry-run-service",
        action="store_true",
        help="the Role variant that also allows `create services`, and the check run with "
        "--dry-run-service (a server-side dry-run create: settles whether a family can be "
        "allocated; persists nothing)",
    )
    responder = parser.add_argument_group("responder")
    responder.add_argument(
        "--service-type",
        choices=SERVICE_TYPES,
        default=DEFAULT_SERVICE_TYPE,
        help=f"Service type (default {DEFAULT_SERVICE_TYPE})",
    )
    responder.add_argument(
        "--ip-family-policy",
        choices=IP_FAMILY_POLICIES,
        default=DEFAULT_IP_FAMILY_POLICY,
        help=f"Service ipFamilyPolicy (default {DEFAULT_IP_FAMILY_POLICY})",
    )
    responder.add_argument(
        "--ip-families",
        metavar="FAMILY[,FAMILY]",
        help="Service ipFamilies in order, e.g. IPv6,IPv4 (default: unset)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    sys.stdout.write(manifest_text(args))
    return 0


def manifest_text(args: argparse.Namespace) -> str:
    """The manifests asked for; bad parameters raise UsageError (exit 2)."""
    from probe.errors import UsageError
    from probe.k8sjob import files
    from probe.k8sjob.defaults import DEFAULT_NAME, DEFAULT_RESPONDER_NAME

    if args.with_ephemeral and args.what != "runner-role":
        raise UsageError("--with-ephemeral belongs to `voltprobe manifest runner-role`")
    if args.with_responder and args.what != "runner-role":
        raise UsageError("--with-responder belongs to `voltprobe manifest runner-role`")
    if args.what == "responder":
        return files.responder_file(responder_params(args, args.name or DEFAULT_RESPONDER_NAME))
    if args.what == "runner-role":
        return files.runner_role_file(args.namespace, args.with_ephemeral, args.with_responder)
    if args.what == "runner-policy":
        return files.runner_policy_file(args.image)
    if args.what == "clusterrole":
        return files.cluster_role_file(args.name or DEFAULT_NAME, args.namespace)
    if not args.peer:
        raise UsageError("manifest needs --peer HOST[:PORT][,...] (the peer cluster's DR endpoint)")
    params = job_params(args, args.name or DEFAULT_NAME, args.namespace)
    return files.job_file(params, cluster_read=args.with_cluster_role)


def add_job_options(parser: Any, peer_required: bool, per_context: bool = False) -> None:
    """The Job's parameters, shared by `manifest` and `job run` (they render one Job)."""
    from probe.k8sjob.defaults import DEFAULT_ACTIVE_DEADLINE, DEFAULT_IMAGE, DEFAULT_TTL

    add_peer_options(parser, required=peer_required)
    add_timeout_option(parser)
    parser.add_argument(
        "--image",
        default=DEFAULT_IMAGE,
        help=f"voltprobe image (default {DEFAULT_IMAGE}, a placeholder)",
    )
    parser.add_argument(
        "--raw",
        action="store_true",
        help="raw SYN probes: root + NET_RAW; needs a privileged-level namespace",
    )
    add_per_pod_option(parser)
    parser.add_argument(
        "--deadline",
        type=int_range("--deadline", 1, 86400),
        default=DEFAULT_ACTIVE_DEADLINE,
        help=f"the Job's activeDeadlineSeconds (default {DEFAULT_ACTIVE_DEADLINE})",
    )
    parser.add_argument(
        "--ttl",
        type=int_range("--ttl", 0, 31536000),
        default=DEFAULT_TTL,
        help=f"the Job's ttlSecondsAfterFinished (default {DEFAULT_TTL})",
    )
    parser.add_argument(
        "--cluster",
        metavar="[CTX=]NAME" if per_context else "NAME",
        action="append" if per_context else "store",
        default=[] if per_context else None,
        help="this cluster's name in the report, so `voltprobe report` can pair it with the "
        "peer's (job run: default the kubeconfig context, CTX=NAME per context; a pod has "
        "none)",
    )
    parser.add_argument(
        "--peer-cluster", metavar="NAME", help="the peer cluster's name in the report"
    )


def job_params(args: argparse.Namespace, name: str, namespace: str) -> Any:
    """JobParams from the options `add_job_options` defined; a bad peer is exit 2 now."""
    from probe.k8sjob.objects import JobParams
    from probe.targets import parse_peers

    parse_peers(args.peer, args.port)  # a bad peer is a usage error now, not a failed Job later
    return JobParams(
        peers=tuple(args.peer),
        name=name,
        namespace=namespace,
        image=args.image,
        port=args.port,
        timeout=args.timeout,
        raw=args.raw,
        per_pod=args.per_pod,
        dry_run_service=getattr(args, "dry_run_service", False),
        active_deadline_seconds=args.deadline,
        ttl_seconds_after_finished=args.ttl,
        cluster=args.cluster,
        peer_cluster=args.peer_cluster,
    )


def responder_params(args: argparse.Namespace, name: str) -> Any:
    from probe.errors import UsageError
    from probe.k8sjob.objects import ResponderParams
    from probe.model import Family

    families: tuple[Family, ...] = ()
    if args.ip_families:
        try:
            families = tuple(Family.make(f) for f in args.ip_families.split(","))
        except ValueError as exc:
            raise UsageError(f"--ip-families: {exc}") from None
    return ResponderParams(
        name=name,
        namespace=args.namespace,
        image=args.image,
        port=args.port,
        service_type=args.service_type,
        ip_family_policy=args.ip_family_policy,
        ip_families=families,
    )
