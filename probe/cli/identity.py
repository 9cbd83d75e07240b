"""Who is probing whom: the cluster names `check` and `inventory` record in a report.

The default name of the local cluster is its kubeconfig context (`--context`, else the
kubeconfig's current-context); inside a pod there is none, so `job run` and `voltprobe
manifest` pass --cluster explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from probe.options import KubeOptions


def kube_context(kube: KubeOptions, environ: Mapping[str, str] | None = None) -> str | None:
    """The kubeconfig context a run uses, or None (in a pod, no kubeconfig, unreadable).

    Mirrors probe/kube/config.py's order: --kubeconfig/--context win; in a pod
    (KUBERNETES_SERVICE_HOST) the service account is used and there is no context."""
    if not kube.enabled:
        return None
    if kube.context:
        return kube.context
    env = os.environ if environ is None else environ
    if not kube.kubeconfig and env.get("KUBERNETES_SERVICE_HOST"):
        return None
    path = kube.kubeconfig or (env.get("KUBECONFIG") or "").split(os.pathsep)[0]
    path = path or os.path.join(os.path.expanduser("~"), ".kube", "config")
    document = _read_yaml(path)
    current = document.get("current-context") if isinstance(document, dict) else None
    return current if isinstance(current, str) and current else None


def _read_yaml(path: str) -> Any:
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle.read(1 << 20))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
