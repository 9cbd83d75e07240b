"""Which cluster to ask, and with what credentials.

Order: an explicit --kubeconfig or --context wins; otherwise in-cluster config when
KUBERNETES_SERVICE_HOST is set; otherwise the kubeconfig (KUBECONFIG, then
~/.kube/config). Not finding a cluster is an outcome (`Unavailable`), not an error.
The client gets its own Configuration: the library's global default is never set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from probe.options import KubeOptions

SERVICEACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


@dataclass(frozen=True)
class ConfigSources:
    """Where client configuration comes from; tests pass their own (no os.environ writes)."""

    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    serviceaccount_dir: str = SERVICEACCOUNT_DIR
    home: str = field(default_factory=lambda: os.path.expanduser("~"))


@dataclass(frozen=True)
class Connection:
    api_client: Any  # kubernetes.client.ApiClient
    source: str  # "in-cluster" | "kubeconfig"
    server: str  # the API server URL
    namespace: str | None  # from the context or the service account, if any
    description: str  # how it was configured, for the report


@dataclass(frozen=True)
class Unavailable:
    reason: str


# seconds for loading the configuration, exec credential plugins included (`aws eks
# get-token` and `gke-gcloud-auth-plugin` take a second or two); a slower one is a finding
CONNECT_SECONDS = 15.0


def connect(options: KubeOptions, env: ConfigSources) -> Connection | Unavailable:
    """The client for the cluster to read, or why there is none. Total: a kubeconfig the
    client cannot read, or an exec plugin that takes longer than CONNECT_SECONDS (cut to
    the run's deadline), is `Unavailable`, never an exception."""
    from probe.kube.reader import CallTimedOut, bounded_call
    from probe.stop import current

    seconds = current().bound(CONNECT_SECONDS)
    try:
        found: Connection | Unavailable = bounded_call(
            lambda: _connect(options, env), seconds, "kube-connect"
        )
    except CallTimedOut:
        return Unavailable(
            f"loading the Kubernetes credentials took more than {seconds:.3g} s "
            "(a slow exec credential plugin in the kubeconfig?)"
        )
    except (RecursionError, AttributeError, TypeError, ValueError, KeyError) as exc:
        return Unavailable(f"kubeconfig unusable: {type(exc).__name__}: {str(exc)[:200]}")
    return found


def kubeconfig_files(options: KubeOptions, env: ConfigSources) -> list[str]:
    """The kubeconfig files `connect` would read (in-cluster config reads none)."""
    if not (options.kubeconfig or options.context) and env.environ.get("KUBERNETES_SERVICE_HOST"):
        return []
    path = kubeconfig_path(options, env)
    return [os.path.expanduser(p) for p in path.split(os.pathsep) if p]


def _connect(options: KubeOptions, env: ConfigSources) -> Connection | Unavailable:
    if options.kubeconfig or options.context:
        return _from_kubeconfig(options, env)
    if env.environ.get("KUBERNETES_SERVICE_HOST"):
        inside = _in_cluster(options, env)
        if isinstance(inside, Connection):
            return inside
        outside = _from_kubeconfig(options, env)
        if isinstance(outside, Connection):
            return outside
        return Unavailable(f"{inside.reason}; {outside.reason}")
    return _from_kubeconfig(options, env)


def check_selection(options: KubeOptions, env: ConfigSources | None = None) -> None:
    """Refuse, as kubectl does, a --kubeconfig that does not exist or a --context that no
    kubeconfig file defines: a typo in the command (UsageError, exit 2), not a finding.

    Only the names are read here; an unusable kubeconfig is still a finding later.
    """
    from probe.errors import UsageError

    env = env or ConfigSources()
    if options.kubeconfig and not os.path.isfile(options.kubeconfig):
        why = "a directory" if os.path.isdir(options.kubeconfig) else "no such file"
        raise UsageError(f"--kubeconfig {options.kubeconfig}: {why}")
    if not options.context:
        return
    path = kubeconfig_path(options, env)
    names = context_names(path)
    if not any(os.path.isfile(p) for p in path.split(os.pathsep) if p):
        raise UsageError(
            f'context "{options.context}": there is no kubeconfig ({path} does not exist)'
        )
    if options.context not in names:
        known = ", ".join(sorted(names)[:10]) or "none"
        raise UsageError(
            f'context "{options.context}" does not exist in {path} (contexts: {known})'
        )


def context_names(path: str) -> set[str]:
    """The context names that the kubeconfig file(s) in `path` (os.pathsep-separated)
    define; files that cannot be read or parsed contribute none."""
    import yaml

    names: set[str] = set()
    for file in (p for p in path.split(os.pathsep) if p):
        try:
            with open(os.path.expanduser(file), encoding="utf-8") as handle:
                document = yaml.safe_load(handle.read(1 << 20))
        except (OSError, ValueError, yaml.YAMLError, RecursionError):
            continue
        contexts = document.get("contexts") if isinstance(document, dict) else None
        for entry in contexts if isinstance(contexts, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                names.add(entry["name"])
    return names


def _api_client(config: Any, options: KubeOptions) -> Any:
    """An ApiClient for `config`, impersonating as --as/--as-group ask (the headers of
    https://kubernetes.io/docs/reference/access-authn-authz/authentication/#user-impersonation)."""
    from kubernetes import client

    api_client = client.ApiClient(config)
    if options.as_user:
        api_client.set_default_header("Impersonate-User", options.as_user)
    if options.as_group:
        api_client.set_default_header("Impersonate-Group", options.as_group)
    return api_client


def _configuration() -> Any:
    """A fresh client Configuration: one retry (a stale keep-alive connection), no more."""
    from kubernetes import client
    from urllib3.util.retry import Retry

    config = client.Configuration()
    config.retries = Retry(total=1, connect=1, read=1, status=0, redirect=0, other=0)
    return config


def _config_errors() -> tuple[type[BaseException], ...]:
    import yaml
    from kubernetes.config import ConfigException

    return (
        ConfigException,
        OSError,
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        RecursionError,
        yaml.YAMLError,
    )


def _in_cluster(options: KubeOptions, env: ConfigSources) -> Connection | Unavailable:
    from kubernetes.config.incluster_config import InClusterConfigLoader

    directory = env.serviceaccount_dir
    config = _configuration()
    try:
        InClusterConfigLoader(
            token_filename=os.path.join(directory, "token"),
            cert_filename=os.path.join(directory, "ca.crt"),
            environ=env.environ,
        ).load_and_set(config)
    except _config_errors() as exc:
        return Unavailable(f"in-cluster config failed ({directory}): {exc}")
    namespace = _read_text(os.path.join(directory, "namespace"))
    return Connection(
        _api_client(config, options),
        "in-cluster",
        config.host,
        namespace,
        f"in-cluster service account ({directory})",
    )


def kubeconfig_path(options: KubeOptions, env: ConfigSources) -> str:
    """--kubeconfig, then $KUBECONFIG (may list several files), then ~/.kube/config."""
    return (
        options.kubeconfig
        or env.environ.get("KUBECONFIG")
        or os.path.join(env.home, ".kube", "config")
    )


def _from_kubeconfig(options: KubeOptions, env: ConfigSources) -> Connection | Unavailable:
    from kubernetes.config import kube_config

    path = kubeconfig_path(options, env)
    files = [p for p in path.split(os.pathsep) if p]
    if not any(os.path.isfile(os.path.expanduser(p)) for p in files):
        where = "not in a cluster (KUBERNETES_SERVICE_HOST unset)"
        if env.environ.get("KUBERNETES_SERVICE_HOST"):
            where = "in-cluster config unusable"
        return Unavailable(f"no kubeconfig at {path} and {where}")
    config = _configuration()
    try:
        kube_config.load_kube_config(
            config_file=path,
            context=options.context,
            client_configuration=config,
            persist_config=False,
        )
        contexts, active = kube_config.list_kube_config_contexts(config_file=path)
    except _config_errors() as exc:
        return Unavailable(f"kubeconfig {path} unusable: {exc}")
    context_name = options.context or (active or {}).get("name")
    namespace = next(
        (
            (c.get("context") or {}).get("namespace")
            for c in contexts or []
            if c.get("name") == context_name
        ),
        None,
    )
    return Connection(
        _api_client(config, options),
        "kubeconfig",
        config.host,
        namespace,
        f"kubeconfig {path}, context {context_name}",
    )


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip() or None
    except OSError:
        return None
