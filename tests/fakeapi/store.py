"""A generic, thread-safe object store keyed by (group/version, resource, namespace, name).

It completes metadata the way the apiserver does (uid, resourceVersion,
creationTimestamp, generateName) and answers list calls with selectors and
limit/continue paging over a stable (namespace, name) order.
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from . import resources
from .resources import ResourceType
from .selectors import Matcher

Key = tuple[str, str, str, str]  # (group_version, plural, namespace or "", name)

CREATION_TIMESTAMP = "2025-05-01T10:00:00Z"


class Conflict(Exception):
    """The object already exists (409 AlreadyExists)."""


class Missing(Exception):
    """The object does not exist (404 NotFound)."""


class BadContinue(Exception):
    """The continue token is not one this store issued (400 BadRequest)."""


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    resource_version: str
    continue_token: str | None
    remaining: int | None


class ObjectStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._objects: dict[Key, dict[str, Any]] = {}
        self._rv = 1000

    # -- writing ---------------------------------------------------------

    def _complete(
        self, rt: ResourceType, obj: dict[str, Any], namespace: str | None
    ) -> dict[str, Any]:
        obj = copy.deepcopy(obj)
        obj["apiVersion"] = rt.group_version
        obj["kind"] = rt.kind
        meta = obj.setdefault("metadata", {})
        if rt.namespaced:
            meta["namespace"] = namespace or meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        if not meta.get("name"):
            if not meta.get("generateName"):
                raise ValueError("name or generateName is required")
            meta["name"] = meta["generateName"] + secrets.token_hex(3)[:5]
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", CREATION_TIMESTAMP)
        self._rv += 1
        meta["resourceVersion"] = str(self._rv)
        return obj

    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create or replace an object given as the apiserver would return it."""
        rt = resources.by_kind(obj["apiVersion"], obj["kind"])
        with self._lock:
            stored = self._complete(rt, obj, obj.get("metadata", {}).get("namespace"))
            self._objects[self._key(rt, stored)] = stored
            return copy.deepcopy(stored)

    def put_many(self, objs: list[dict[str, Any]]) -> None:
        for obj in objs:
            self.put(obj)

    def create(
        self, rt: ResourceType, namespace: str | None, obj: dict[str, Any], dry_run: bool = False
    ) -> dict[str, Any]:
        with self._lock:
            stored = self._complete(rt, obj, namespace)
            key = self._key(rt, stored)
            if key in self._objects:
                raise Conflict(stored["metadata"]["name"])
            if not dry_run:
                self._objects[key] = stored
            return copy.deepcopy(stored)

    def delete(self, rt: ResourceType, namespace: str | None, name: str) -> dict[str, Any]:
        with self._lock:
            obj = self._objects.pop((rt.group_version, rt.plural, namespace or "", name), None)
            if obj is None:
                raise Missing(name)
            self._rv += 1
            return obj

    # -- reading ---------------------------------------------------------

    @staticmethod
    def _key(rt: ResourceType, obj: dict[str, Any]) -> Key:
        meta = obj["metadata"]
        return (rt.group_version, rt.plural, meta.get("namespace", ""), meta["name"])

    @property
    def resource_version(self) -> str:
        return str(self._rv)

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> dict[str, Any]:
        with self._lock:
            obj = self._objects.get((rt.group_version, rt.plural, namespace or "", name))
            if obj is None:
                raise Missing(name)
            return copy.deepcopy(obj)

    def list(
        self,
        rt: ResourceType,
        namespace: str | None,
        match: Matcher,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> Page:
        start = _decode_continue(continue_token) if continue_token else None
        with self._lock:
            keys = sorted(
                k
                for k in self._objects
                if k[0] == rt.group_version
                and k[1] == rt.plural
                and (namespace is None or k[2] == namespace)
            )
            rv = str(self._rv)
            items = []
            for key in keys:
                if start is not None and (key[2], key[3]) <= start:
                    continue
                obj = self._objects[key]
                if match(obj):
                    items.append((key, obj))
            page = items if not limit else items[:limit]
            more = limit is not None and limit > 0 and len(items) > limit
            token = _encode_continue(rv, page[-1][0]) if more and page else None
            return Page(
                items=[copy.deepcopy(obj) for _, obj in page],
                resource_version=rv,
                continue_token=token,
                remaining=len(items) - len(page) if more else None,
            )


def _encode_continue(rv: str, key: Key) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": int(rv), "start": f"{key[2]}/{key[3]}"})
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_continue(token: str) -> tuple[str, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        namespace, _, name = data["start"].partition("/")
        return namespace, name
    except (ValueError, KeyError, TypeError) as exc:
        raise BadContinue(token) from exc
