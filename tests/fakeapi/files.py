"""Files a client needs to reach the fake server: kubeconfig, in-cluster token/CA, TLS cert."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .server import DEFAULT_TOKEN, FakeApiServer


@dataclass(frozen=True)
class TlsFiles:
    cert: str  # PEM certificate, also the CA to trust (self-signed)
    key: str


def make_self_signed(directory: Path) -> TlsFiles:
    """A self-signed certificate for 127.0.0.1, ::1 and localhost, made with the openssl CLI."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "apiserver.crt", directory / "apiserver.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=kube-apiserver",
            "-addext",
            "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost,DNS:kubernetes.default.svc",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
        ],
        check=True,
        capture_output=True,
    )
    return TlsFiles(str(cert), str(key))


@dataclass(frozen=True)
class KubeContext:
    name: str
    server: str
    token: str | None
    namespace: str | None = None
    ca_file: str | None = None


def write_kubeconfig(path: Path, contexts: list[KubeContext], current: str | None = None) -> Path:
    """A kubeconfig (JSON is valid YAML) with one cluster and user per context."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": current or contexts[0].name,
        "clusters": [
            {
                "name": c.name,
                "cluster": {
                    "server": c.server,
                    **({"certificate-authority": c.ca_file} if c.ca_file else {}),
                },
            }
            for c in contexts
        ],
        "users": [
            {"name": c.name, "user": {"token": c.token} if c.token else {}} for c in contexts
        ],
        "contexts": [
            {
                "name": c.name,
                "context": {
                    "cluster": c.name,
                    "user": c.name,
                    **({"namespace": c.namespace} if c.namespace else {}),
                },
            }
            for c in contexts
        ],
    }
    path.write_text(json.dumps(config, indent=2))
    return path


@dataclass(frozen=True)
class InClusterFiles:
    directory: (
        str  # holds token, ca.crt and namespace, like /var/run/secrets/kubernetes.io/serviceaccount
    )
    environ: dict[str, str]  # KUBERNETES_SERVICE_HOST / _PORT for the fake server


def write_incluster_files(
    directory: Path, *, host: str, port: int, token: str, ca_cert: str, namespace: str
) -> InClusterFiles:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "token").write_text(token)
    (directory / "ca.crt").write_text(Path(ca_cert).read_text())
    (directory / "namespace").write_text(namespace)
    return InClusterFiles(
        str(directory),
        {"KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": str(port)},
    )


def kubeconfig_for(
    server: FakeApiServer,
    path: Path,
    *,
    namespace: str | None = None,
    ca_file: str | None = None,
    token: str | None = DEFAULT_TOKEN,
) -> Path:
    """A one-context kubeconfig ("fake") pointing at `server`."""
    return write_kubeconfig(path, [KubeContext("fake", server.url, token, namespace, ca_file)])
