"""Finding the Volt DR Services and pods among a namespace's objects. Pure functions.

A DR Service is recognised by its ports (a port named `replication`, or the DR
port); its name is only a cross-check against the chart's layout:
`<fullname>-cluster-dr` (cluster-wide) and `<fullname>-cluster-<N>-dr` (per pod).
Volt pods are the ones the DR Services' selectors pick; no chart label is assumed.
`voltprobe job run --responder`'s stand-in Service is never a DR Service (it is marked
as the responder's by `job run` itself); the `voltprobe manifest responder` one is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]

# Matched with fullmatch: `$` alone would accept a trailing newline.
CLUSTER_DR = re.compile(r"(?P<fullname>.+)-cluster-dr")
PER_POD_DR = re.compile(r"(?P<fullname>.+)-cluster-(?P<index>\d+)-dr")
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"


def fullnames(release: str) -> tuple[str, ...]:
    """The chart's fullname for a release: the release itself if it names the chart."""
    return (release,) if "voltdb" in release else (f"{release}-voltdb", release)


@dataclass(frozen=True)
class DrCandidate:
    obj: Obj
    per_pod: bool
    fullname: str | None  # from the name, when it follows the chart's layout


# The labels of `job run --responder`'s Service (probe.k8sjob.responder): its Pod is no
# Volt pod, and its families must not count as the Volt pods'.
JOB_RUN_RESPONDER = {
    "app.kubernetes.io/name": "voltprobe",
    "app.kubernetes.io/component": "responder",
}


def _job_run_responder(obj: Obj) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return all(labels.get(k) == v for k, v in JOB_RUN_RESPONDER.items())


def _has_dr_port(obj: Obj, dr_port: int) -> bool:
    ports = (obj.get("spec") or {}).get("ports") or []
    return any(p.get("name") == "replication" or p.get("port") == dr_port for p in ports)


def find_dr_services(
    services: list[Obj], dr_port: int, release: str | None
) -> tuple[list[DrCandidate], list[str]]:
    """The DR Services among `services`, and notes on names and ports that disagree."""
    wanted = fullnames(release) if release else None
    found: list[DrCandidate] = []
    notes: list[str] = []
    for obj in services:
        name = (obj.get("metadata") or {}).get("name") or ""
        per_pod_match, cluster_match = PER_POD_DR.fullmatch(name), CLUSTER_DR.fullmatch(name)
        match = per_pod_match or cluster_match
        fullname = match.group("fullname") if match else None
        if (wanted and fullname not in wanted) or _job_run_responder(obj):
            continue
        if not _has_dr_port(obj, dr_port):
            if match:
                notes.append(
                    f"Service {name} is named like a Volt DR Service but has no port named "
                    f"`replication` and no port {dr_port}; not treated as DR"
                )
            continue
        selector = (obj.get("spec") or {}).get("selector") or {}
        per_pod = bool(per_pod_match) or (not match and POD_NAME_LABEL in selector)
        if not match:
            notes.append(
                f"Service {name} exposes the DR port but is not named <fullname>-cluster-dr "
                f"or <fullname>-cluster-N-dr; treated as a DR Service"
            )
        found.append(DrCandidate(obj, per_pod, fullname))
    names = sorted({c.fullname for c in found if c.fullname})
    if len(names) > 1:
        notes.append(
            f"several Volt releases in the namespace ({', '.join(names)}); use --release to pick one"
        )
    return found, notes


def selectors(candidates: list[DrCandidate]) -> list[dict[str, str]]:
    return [dict(sel) for c in candidates if (sel := (c.obj.get("spec") or {}).get("selector"))]


def common_selector(sels: list[dict[str, str]]) -> dict[str, str]:
    """The labels every selector shares: one list call can fetch every Volt pod with it."""
    if not sels:
        return {}
    common = dict(sels[0])
    for sel in sels[1:]:
        common = {k: v for k, v in common.items() if sel.get(k) == v}
    return common


def selector_text(selector: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))


def matches_any(obj: Obj, sels: list[dict[str, str]]) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return any(all(labels.get(k) == v for k, v in sel.items()) for sel in sels)


def is_release_pod(obj: Obj, release: str) -> bool:
    """A StatefulSet pod of the release's Volt cluster, by name: <fullname>-cluster-<N>."""
    name = (obj.get("metadata") or {}).get("name") or ""
    return any(re.fullmatch(rf"{re.escape(f)}-cluster-\d+", name) for f in fullnames(release))
