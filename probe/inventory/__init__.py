"""The local side of the check: the Kubernetes cluster voltprobe runs in (or this host).

    gather(options, dr_port) -> Inventory     never raises for the cluster or network
    host_inventory(reason)   -> Inventory     --no-kube / no-cluster fallback

Kubernetes is imported only inside the functions that talk to it.
"""

from probe.inventory.environment import Environment
from probe.inventory.gather import gather
from probe.inventory.host import host_inventory

__all__ = ["Environment", "gather", "host_inventory"]
