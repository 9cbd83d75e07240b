"""A fake Kubernetes API server for tests: real HTTP(S), a generic object store,
realistic cluster flavours, Status errors and fault injection.

    from tests.fakeapi import FakeApiServer, Fault, objects

    with FakeApiServer() as api:
        api.load(objects.dual_stack())
        api.add_fault(Fault(verb="list", resource="nodes", status=403))

Modules: server (HTTP, routing, faults, hooks), store (objects, paging),
selectors, status (Status bodies), resources (known kinds), objects (flavours),
files (kubeconfig, in-cluster files, TLS), hooks (e.g. complete_jobs), fixtures.
"""

from .files import (
    InClusterFiles,
    KubeContext,
    TlsFiles,
    make_self_signed,
    write_incluster_files,
    write_kubeconfig,
)
from .server import DEFAULT_TOKEN, DEFAULT_USER, FakeApiServer, Fault, RequestRecord

__all__ = [
    "DEFAULT_TOKEN",
    "DEFAULT_USER",
    "FakeApiServer",
    "Fault",
    "InClusterFiles",
    "KubeContext",
    "RequestRecord",
    "TlsFiles",
    "make_self_signed",
    "write_incluster_files",
    "write_kubeconfig",
]
