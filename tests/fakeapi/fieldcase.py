"""Field cases: a namespace's objects and the API's behaviour, from one multi-document YAML.

The first document is not an object (`kind: FakeKube`): its `options` say how the API
behaves (../shared/field-cases/kube/README.md):

- servicecidrsForbidden: true   listing ServiceCIDRs answers 403 (the Job's default rights)
- servicecidrsAbsent: true      the ServiceCIDR API is not served (404, before 1.33)
- forbidden: [endpointslices]   listing that resource answers 403
- serviceFamilies: [IPv6]       (ours) the families a Service create may allocate; a create
                                in another family answers 422 `not configured on this cluster`

    case = load_case(path)
    serve_case(api, case)          # objects stored, faults and served APIs set

The objects are served as written (addresses in them are never probed by the tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .objects import Flavour
from .resources import DEFAULT_SERVED
from .server import FakeApiServer, Fault

Obj = dict[str, Any]

_RESOURCE_GROUPS = {"endpointslices": "discovery.k8s.io/v1", "servicecidrs": "networking.k8s.io/v1"}


@dataclass(frozen=True)
class FieldCase:
    name: str
    objects: tuple[Obj, ...]
    servicecidrs_forbidden: bool = False
    servicecidrs_absent: bool = False
    forbidden: tuple[str, ...] = ()  # plurals whose list answers 403
    service_families: tuple[str, ...] | None = None

    @property
    def namespace(self) -> str:
        spaces = {
            (o.get("metadata") or {}).get("namespace")
            for o in self.objects
            if (o.get("metadata") or {}).get("namespace")
        }
        return sorted(spaces)[0] if spaces else "default"


def parse_case(name: str, text: str) -> FieldCase:
    """A FieldCase from the file's text; ValueError when the first document is not FakeKube."""
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    if not docs or not isinstance(docs[0], dict) or docs[0].get("kind") != "FakeKube":
        raise ValueError(f"{name}: the first document must be `kind: FakeKube`")
    options = docs[0].get("options") or {}
    families = options.get("serviceFamilies")
    return FieldCase(
        name=name,
        objects=tuple(docs[1:]),
        servicecidrs_forbidden=bool(options.get("servicecidrsForbidden")),
        servicecidrs_absent=bool(options.get("servicecidrsAbsent")),
        forbidden=tuple(options.get("forbidden") or ()),
        service_families=tuple(families) if families is not None else None,
    )


def load_case(path: Path) -> FieldCase:
    return parse_case(path.stem, path.read_text())


def serve_case(api: FakeApiServer, case: FieldCase) -> None:
    """Store the case's objects and make the API behave as its options say."""
    served = DEFAULT_SERVED
    if any(o.get("apiVersion", "").startswith("multicluster.x-k8s.io/") for o in case.objects):
        served = served | {"multicluster.x-k8s.io/v1alpha1"}
    api.load(Flavour(case.name, case.objects, served=served))
    if case.servicecidrs_absent:
        # the group stays (NetworkPolicies); only the ServiceCIDR resource is not served
        api.add_fault(Fault(resource="servicecidrs", status=404))
    if case.servicecidrs_forbidden:
        api.add_fault(Fault(verb="list", resource="servicecidrs", status=403))
    for plural in case.forbidden:
        api.add_fault(
            Fault(
                verb="list",
                resource=plural,
                status=403,
                group_version=_RESOURCE_GROUPS.get(plural),
            )
        )
    api.service_families = case.service_families
