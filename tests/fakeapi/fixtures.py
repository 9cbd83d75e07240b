"""pytest fixtures around the fake server. Import the ones you use into your test module:

    from tests.fakeapi.fixtures import fake_api, tls_files  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .files import KubeContext, TlsFiles, make_self_signed, write_kubeconfig
from .server import DEFAULT_TOKEN, FakeApiServer


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """One self-signed certificate per test session (openssl is slow-ish)."""
    return make_self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def fake_api() -> Iterator[FakeApiServer]:
    """An empty fake API server over HTTP on 127.0.0.1; load a flavour into it."""
    with FakeApiServer(token=DEFAULT_TOKEN) as server:
        yield server


@pytest.fixture
def fake_api_tls(tls_files: TlsFiles) -> Iterator[FakeApiServer]:
    """The same over HTTPS with the session's self-signed certificate."""
    with FakeApiServer(token=DEFAULT_TOKEN, tls=(tls_files.cert, tls_files.key)) as server:
        yield server


def kubeconfig_for(server: FakeApiServer, path: Path, *, namespace: str | None = None,
                   ca_file: str | None = None, token: str | None = DEFAULT_TOKEN) -> Path:
    """A one-context kubeconfig ("fake") pointing at `server`."""
    return write_kubeconfig(path, [KubeContext("fake", server.url, token, namespace, ca_file)])
