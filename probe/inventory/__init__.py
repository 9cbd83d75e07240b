"""The local side of the check: the Kubernetes cluster voltprobe runs in (or this host).

    gather(options, dr_port) -> Inventory     never raises for the cluster or network
    host_inventory(reason)   -> Inventory     --no-kube / no-cluster fallback
                                              (gather assumes the API may be read)

Submodules load on first use, so `probe.inventory.types` (imported by everything) stays
cheap; Kubernetes itself is imported only inside the functions that talk to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from probe.inventory.environment import Environment
    from probe.inventory.types import Inventory
    from probe.model import Family
    from probe.options import KubeOptions

__all__ = ["Environment", "gather", "host_inventory"]


def gather(options: KubeOptions, dr_port: int, env: Environment | None = None) -> Inventory:
    from probe.inventory.cluster import gather as gather_cluster

    return gather_cluster(options, dr_port, env)


def host_inventory(reason: str, families: Sequence[Family] | None = None) -> Inventory:
    from probe.inventory.host import host_inventory as from_host

    return from_host(reason, families)


def __getattr__(name: str) -> Any:
    if name == "Environment":
        from probe.inventory.environment import Environment

        return Environment
    raise AttributeError(f"module 'probe.inventory' has no attribute {name!r}")
