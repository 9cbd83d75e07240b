"""Checks: pure functions over `Facts`, registered in `registry.DEFAULT_REGISTRY`.

Importing this package registers every check module, in this order.
"""

from probe.checks import caveats, dns, local, reach, services  # noqa: F401  (registration)
from probe.checks.registry import DEFAULT_REGISTRY, CheckSpec, Hit, Registry, check

__all__ = ["DEFAULT_REGISTRY", "CheckSpec", "Hit", "Registry", "check"]
