"""Fixtures shared by every test package: the fake Kubernetes API server (fake_api, ...),
a guard that keeps in-process tests off this machine's real DNS resolver, and a
per-session SYN template cache (never the user's ~/.cache)."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from typing import Any

import dns.asyncresolver
import dns.resolver
import pytest

pytest_plugins = ("tests.fakeapi.fixtures",)

SYSTEM_RESOLV_CONF = "/etc/resolv.conf"
FUZZ_EXAMPLES = "10000"  # per decoder, for `pytest -m fuzz` (tests/test_fuzz.py)


def pytest_configure(config: pytest.Config) -> None:
    """`-m fuzz` runs the property-based decoder tests at full length."""
    if re.search(r"(?<!not )\bfuzz\b", config.getoption("markexpr", "") or ""):
        os.environ.setdefault("VOLTPROBE_FUZZ_EXAMPLES", FUZZ_EXAMPLES)


@pytest.fixture(autouse=True, scope="session")
def _session_template_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """voltprobe processes the tests start inherit this too."""
    saved = os.environ.get("VOLTPROBE_CACHE_DIR")
    os.environ["VOLTPROBE_CACHE_DIR"] = str(tmp_path_factory.mktemp("voltprobe-cache"))
    yield
    if saved is None:
        del os.environ["VOLTPROBE_CACHE_DIR"]
    else:
        os.environ["VOLTPROBE_CACHE_DIR"] = saved


@pytest.fixture(autouse=True)
def _no_system_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests send DNS only to servers they start (dnsmasq in the lab, or none): a resolver
    built from the system configuration would query this machine's real nameservers."""
    for module in (dns.resolver, dns.asyncresolver):
        real = module.Resolver

        def guarded(*args: Any, _real: Any = real, **kwargs: Any) -> Any:
            filename = kwargs.get("filename", args[0] if args else SYSTEM_RESOLV_CONF)
            configure = kwargs.get("configure", args[1] if len(args) > 1 else True)
            if configure and filename == SYSTEM_RESOLV_CONF:
                raise AssertionError("a test built a resolver from /etc/resolv.conf")
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, "Resolver", guarded)


@pytest.fixture(autouse=True)
def _no_system_name_lookups(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process tests never ask this machine's resolver for a name (it would query the
    real nameservers): getaddrinfo takes IP literals and localhost only. Names are
    resolved in the lab, inside namespaces whose resolv.conf points at the lab's DNS."""
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        text = host.decode() if isinstance(host, bytes) else host
        if text is not None and text.rstrip(".") not in ("localhost", "ip6-localhost"):
            try:
                socket.inet_pton(socket.AF_INET6 if ":" in text else socket.AF_INET, text)
            except (OSError, ValueError):
                raise AssertionError(f"a test asked the system resolver for {text!r}") from None
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
