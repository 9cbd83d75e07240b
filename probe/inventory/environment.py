"""What the inventory takes from its surroundings, as one value tests can replace.

Production uses `Environment.default()`: the process environment, the pod's
service-account directory, dnspython and this host's interfaces. Tests pass
their own: env variables without touching os.environ, token/CA files in a temp
directory (for load_incluster_config), a resolver that never leaves loopback.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from probe.inventory.dns import ResolveHost, resolve_host
from probe.inventory.host import host_families
from probe.kube.config import SERVICEACCOUNT_DIR, ConfigSources
from probe.model import Family

PAGE_SIZE = 500  # items per list call, as kubectl does


@dataclass(frozen=True)
class Environment:
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    serviceaccount_dir: str = SERVICEACCOUNT_DIR
    resolve_host: ResolveHost = resolve_host
    interface_families: Callable[[], tuple[Family, ...]] = host_families
    page_size: int = PAGE_SIZE
    home: str = field(default_factory=lambda: os.path.expanduser("~"))

    @classmethod
    def default(cls) -> Environment:
        return cls()

    @property
    def config_sources(self) -> ConfigSources:
        return ConfigSources(self.environ, self.serviceaccount_dir, self.home)
