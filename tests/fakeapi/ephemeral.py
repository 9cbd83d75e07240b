"""The pods/ephemeralcontainers subresource as the apiserver handles it (Kubernetes 1.25+).

A PATCH or PUT there changes spec.ephemeralContainers and nothing else of the pod:
- PATCH application/strategic-merge-patch+json (kubectl debug): the list merges by name
  (patchMergeKey); application/merge-patch+json replaces the list; a JSON patch
  (application/json-patch+json) must be a list of operations.
- PUT: the pod as a whole, of which only spec.ephemeralContainers is taken.
Validation (pkg/apis/core/validation: ValidatePodEphemeralContainersUpdate,
validateEphemeralContainers) answers 422: existing ephemeral containers may not be changed
or removed; names are unique across containers, init and ephemeral containers; only the
allow-listed fields may be set (no ports, resources, probes, lifecycle); volume mounts
name the pod's own volumes and take no subPath. Pure functions.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

Obj = dict[str, Any]
Error = tuple[str, str, str]  # (field path, error type, detail), as status.invalid takes them

# EphemeralContainerCommon fields validation allows (allowedEphemeralContainerFields).
ALLOWED_FIELDS = frozenset(
    {
        "name",
        "image",
        "command",
        "args",
        "workingDir",
        "env",
        "envFrom",
        "volumeMounts",
        "volumeDevices",
        "terminationMessagePath",
        "terminationMessagePolicy",
        "imagePullPolicy",
        "securityContext",
        "stdin",
        "stdinOnce",
        "tty",
        "targetContainerName",
    }
)
FORBIDDEN = "cannot be set for an Ephemeral Container"
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


class BadPatch(ValueError):
    """The body cannot be applied at all (400 BadRequest); the message says why."""


def _merge(base: Any, patch: Any) -> Any:
    """A strategic merge of two container objects: maps merge, everything else replaces."""
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = copy.deepcopy(base)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = _merge(merged.get(key), value)
    return merged


def patched(pod: Obj, body: bytes, content_type: str) -> list[Obj]:
    """The ephemeralContainers list after a PATCH with `body` (raises BadPatch)."""
    try:
        document = json.loads(body or b"null")
    except ValueError as exc:
        raise BadPatch(f"invalid JSON in the patch: {exc}") from None
    current = copy.deepcopy(pod.get("spec", {}).get("ephemeralContainers") or [])
    if "json-patch" in content_type:
        if not isinstance(document, list):
            raise BadPatch("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        for op in document:
            if op.get("op") == "add" and op.get("path") == "/spec/ephemeralContainers/-":
                current.append(op.get("value"))
            else:
                raise BadPatch(f"the fake API server applies only add .../-, not {op}")
        return current
    if not isinstance(document, dict):
        raise BadPatch("the patch is not a JSON object")
    wanted = (document.get("spec") or {}).get("ephemeralContainers")
    if wanted is None:
        return current
    if "merge-patch" in content_type and "strategic" not in content_type:
        return list(wanted)
    for item in wanted:
        names = [c.get("name") for c in current]
        if isinstance(item, dict) and item.get("name") in names:
            index = names.index(item["name"])
            current[index] = _merge(current[index], item)
        else:
            current.append(item)
    return current


def replaced(body: bytes) -> list[Obj]:
    """The ephemeralContainers list of a PUT's pod (raises BadPatch)."""
    try:
        document = json.loads(body or b"null")
    except ValueError as exc:
        raise BadPatch(f"invalid JSON in the body: {exc}") from None
    if not isinstance(document, dict):
        raise BadPatch("the body is not a Pod")
    return list((document.get("spec") or {}).get("ephemeralContainers") or [])


def validate(pod: Obj, new: list[Obj]) -> list[Error]:
    """What the apiserver objects to in replacing `pod`'s ephemeral containers by `new`."""
    errors: list[Error] = []
    spec = pod.get("spec") or {}
    old = spec.get("ephemeralContainers") or []
    by_name = {c.get("name"): c for c in new if isinstance(c, dict)}
    for container in old:
        name = container.get("name")
        if name not in by_name:
            errors.append(
                (
                    "spec.ephemeralContainers",
                    "Forbidden",
                    f'existing ephemeral containers "{name}" may not be removed',
                )
            )
        elif by_name[name] != container:
            errors.append(
                (
                    "spec.ephemeralContainers",
                    "Forbidden",
                    f'existing ephemeral containers "{name}" may not be changed',
                )
            )
    taken = {
        c.get("name") for c in (spec.get("containers") or []) + (spec.get("initContainers") or [])
    }
    volumes = {v.get("name") for v in spec.get("volumes") or []}
    for i, container in enumerate(new):
        path = f"spec.ephemeralContainers[{i}]"
        if not isinstance(container, dict):
            errors.append((path, "Invalid value", "not an object"))
            continue
        name = container.get("name")
        if not name:
            errors.append((f"{path}.name", "Required value", ""))
        elif not isinstance(name, str) or len(name) > 63 or not _LABEL.fullmatch(name):
            errors.append((f"{path}.name", "Invalid value", f'"{name}": must be a DNS-1123 label'))
        elif name in taken:
            errors.append((f"{path}.name", "Duplicate value", f'"{name}"'))
        taken.add(name)
        if not container.get("image"):
            errors.append((f"{path}.image", "Required value", ""))
        for key in sorted(set(container) - ALLOWED_FIELDS):
            errors.append((f"{path}.{key}", "Forbidden", FORBIDDEN))
        for j, mount in enumerate(container.get("volumeMounts") or []):
            if mount.get("name") not in volumes:
                errors.append(
                    (f"{path}.volumeMounts[{j}].name", "Not found", f'"{mount.get("name")}"')
                )
            if mount.get("subPath"):
                errors.append((f"{path}.volumeMounts[{j}].subPath", "Forbidden", FORBIDDEN))
    return errors


def container_names(pod: Obj) -> tuple[list[str], list[str], list[str]]:
    """(containers, init containers, ephemeral containers) of `pod`, by name."""
    spec = pod.get("spec") or {}
    return tuple(  # type: ignore[return-value]
        [str(c.get("name")) for c in spec.get(key) or []]
        for key in ("containers", "initContainers", "ephemeralContainers")
    )


def log_problem(pod: Obj, container: str | None) -> tuple[str | None, str]:
    """(the container whose log to read, "") or (None, why not): 400 texts of the apiserver
    (pkg/registry/core/pod/strategy.go LogLocation) and the kubelet."""
    name = pod["metadata"]["name"]
    regular, init, ephemeral = container_names(pod)
    if not container:
        if len(regular) == 1:
            return regular[0], ""
        return None, (
            f"a container name must be specified for pod {name}, choose one of: {regular}"
            + (f" or one of the init containers: {init}" if init else "")
            + (f" or one of the ephemeral containers: {ephemeral}" if ephemeral else "")
        )
    if container not in regular + init + ephemeral:
        return None, f"container {container} is not valid for pod {name}"
    if container in ephemeral:
        statuses = (pod.get("status") or {}).get("ephemeralContainerStatuses") or []
        state = next((s.get("state") or {} for s in statuses if s.get("name") == container), {})
        if not state.get("running") and not state.get("terminated"):
            reason = (state.get("waiting") or {}).get("reason") or "ContainerCreating"
            return None, f'container "{container}" in pod "{name}" is waiting to start: {reason}'
    return container, ""
