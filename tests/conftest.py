"""Fixtures shared by every test package: the fake Kubernetes API server (fake_api, ...),
and a guard that keeps in-process tests off this machine's real DNS resolver."""

from __future__ import annotations

from typing import Any

import dns.asyncresolver
import dns.resolver
import pytest

pytest_plugins = ("tests.fakeapi.fixtures",)

SYSTEM_RESOLV_CONF = "/etc/resolv.conf"


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
