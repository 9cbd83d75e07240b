"""`voltprobe inventory`: a cluster's inventory without probing.

    voltprobe inventory -o json > a.json      for the side that runs first
    voltprobe check --peer-report a.json       the other side probes every endpoint A advertises

The document is the `local` section a report has, under the same voltprobe/v1 schema
(kind inventory), with the cluster's name. Exit 0; 3 when the Kubernetes API could not
be read (the document still says why).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from probe.cli.args import add_cluster_options, add_report_options, int_range
from probe.options import CHECK_DEFAULTS

FORMATS = ("table", "json", "yaml")


def add_parser(commands: Any) -> None:
    from probe.cli.check import add_cluster_name_option

    parser = commands.add_parser(
        "inventory",
        help="read the local cluster's DR Services and families, without probing",
        description="Read the local cluster (DR Services, the endpoints they advertise, pod, "
        "Service and node families) and print it as a voltprobe/v1 document, for "
        "`voltprobe check --peer-report` in the other cluster.",
    )
    port = CHECK_DEFAULTS.port
    parser.add_argument(
        "--port",
        type=int_range("--port", 1, 65535),
        default=port,
        help=f"the DR port (default {port})",
    )
    add_cluster_name_option(parser)
    add_cluster_options(parser, "namespace of the Volt cluster (default: the context's)")
    parser.add_argument("--release", help="Helm release name of the Volt cluster")
    add_report_options(
        parser,
        FORMATS,
        "json",
        "json and yaml the voltprobe/v1 inventory document (for check --peer-report and "
        "report), table what the cluster advertises, for reading",
        verbose_help=None,
        color=False,
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:

    from probe.cli.args import kube_options
    from probe.cli.identity import kube_context
    from probe.documents import InventoryReport
    from probe.kube.config import check_selection
    from probe.kube.kubeconfig import check_kubeconfigs
    from probe.model import ClusterLabel
    from probe.pipeline import gather_inventory
    from probe.render import dumps_lines

    kube = kube_options(args)
    check_kubeconfigs(kube.kubeconfig, kube.context)  # malformed files: exit 2
    check_selection(kube)  # a kubeconfig or context that does not exist: exit 2
    context = kube_context(kube)
    inventory = gather_inventory(replace_options(kube, args.port))
    document = InventoryReport(
        inventory.to_json(),
        ClusterLabel(args.cluster or context, None, context),
        options={"port": args.port},
    )
    if args.output == "json":
        sys.stdout.write(dumps_lines(document.to_json()))
    elif args.output == "yaml":
        import yaml

        sys.stdout.write(yaml.safe_dump(document.to_json(), sort_keys=False))
    else:
        sys.stdout.write(inventory_table(document))
    return document.exit_code


def replace_options(kube: Any, port: int) -> Any:
    from probe.options import CheckOptions

    return CheckOptions(port=port, kube=kube)


def inventory_table(document: Any) -> str:
    from probe.merge.advertised import advertised
    from probe.render.table import wrap_lines
    from probe.render.wide import local_block

    lines = [f"Cluster {document.cluster.name or '-'}", local_block(document.local)]
    offered = advertised(document.local, document.options.get("port", CHECK_DEFAULTS.port))
    lines.append("Advertised DR endpoints (what other clusters dial):")
    lines += [f"  {e.endpoint:<28} {e.family or '-':<5} {e.via}" for e in offered] or ["  none"]
    return wrap_lines("\n".join(lines) + "\n")
