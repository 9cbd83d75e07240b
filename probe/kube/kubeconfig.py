"""A kubeconfig checked before the Kubernetes client reads it: bounded size and nesting,
and the shape the client assumes (it raises AttributeError or TypeError, or recurses,
on anything else).

    check_kubeconfig(path) -> None     raises UsageError (exit 2) naming the file

Shape (kubernetes.io/docs/reference/config-api/kubeconfig.v1/): a mapping whose
`clusters`, `contexts` and `users` are lists of mappings, each with a string `name` and
a mapping `cluster` / `context` / `user`; `current-context` a string.
"""

from __future__ import annotations

import os

from probe.errors import UsageError, sanitize
from probe.jsondoc import DocumentError, read_bounded
from probe.jsondoc import depth as document_depth

MAX_BYTES = 4 * 1024 * 1024  # kubeconfigs with embedded certificates are tens of KiB
MAX_DEPTH = 16  # a kubeconfig nests five or six levels (users[].user.exec.env[].name)
MAX_NODES = 100_000  # mappings, lists and scalars: YAML aliases can repeat one node a lot
_LISTS = {"clusters": "cluster", "contexts": "context", "users": "user"}


def check_kubeconfigs(kubeconfig: str | None, context: str | None) -> None:
    """Check every kubeconfig file the client would read for --kubeconfig / --context
    (KUBECONFIG may list several); UsageError (exit 2) naming the first bad one."""
    from probe.kube.config import ConfigSources, kubeconfig_files
    from probe.options import KubeOptions

    options = KubeOptions(kubeconfig=kubeconfig, context=context)
    for path in kubeconfig_files(options, ConfigSources()):
        check_kubeconfig(path)


def check_kubeconfig(path: str) -> None:
    """Raise UsageError naming `path` (one entry of a KUBECONFIG list) unless the file is a
    kubeconfig the client can read. A missing file is not checked (the caller decides)."""
    if not os.path.isfile(path):
        return
    shown = f"kubeconfig {sanitize(path)}"
    try:
        data = read_bounded(path, MAX_BYTES)
    except OSError as exc:
        raise UsageError(f"{shown}: {exc.strerror}") from None
    except DocumentError as exc:
        raise UsageError(f"{shown}: {exc}") from None
    problem = kubeconfig_problem(data)
    if problem:
        raise UsageError(f"{shown}: {sanitize(problem)}")


def kubeconfig_problem(data: bytes) -> str:
    """What is wrong with a kubeconfig's bytes ("" when nothing is). Total: never raises."""
    import yaml

    try:
        doc = yaml.safe_load(data)
    except RecursionError:
        return f"nested deeper than {MAX_DEPTH} levels"
    except (yaml.YAMLError, ValueError) as exc:
        return f"not valid YAML ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
    if doc is None:
        return "empty"
    if not isinstance(doc, dict):
        return f"not a mapping (a {type(doc).__name__})"
    depth = document_depth(doc, MAX_DEPTH, MAX_NODES)
    if depth > MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH} levels"
    if depth < 0:
        return f"more than {MAX_NODES} values (YAML aliases?)"
    for key, inner in _LISTS.items():
        entries = doc.get(key)
        if entries is None:
            continue
        if not isinstance(entries, list):
            return f"{key} is not a list"
        for index, entry in enumerate(entries):
            where = f"{key}[{index}]"
            if not isinstance(entry, dict):
                return f"{where} is not a mapping"
            if not isinstance(entry.get("name"), str):
                return f"{where}.name is not a string"
            if not isinstance(entry.get(inner), (dict, type(None))):
                return f"{where}.{inner} is not a mapping"
    current = doc.get("current-context")
    if current is not None and not isinstance(current, str):
        return "current-context is not a string"
    if not isinstance(doc.get("preferences"), (dict, type(None))):
        return "preferences is not a mapping"
    return ""
