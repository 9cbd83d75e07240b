"""pytest fixtures around the fake server. Register them in a test module with:

pytest_plugins = ("tests.fakeapi.fixtures",)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .files import TlsFiles, kubeconfig_for, make_self_signed
from .server import DEFAULT_TOKEN, FakeApiServer

__all__ = ["fake_api", "fake_api_tls", "kubeconfig_for", "tls_files"]


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
