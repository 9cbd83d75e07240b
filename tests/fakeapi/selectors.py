"""labelSelector and fieldSelector parsing and matching, as the apiserver does it.

Label selectors: `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x,y)`,
comma-separated and ANDed. Field selectors: `path=value`, `path==value`, `path!=value`
on the fields each resource supports (metadata.name and metadata.namespace everywhere).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Matcher = Callable[[dict[str, Any]], bool]


class SelectorError(ValueError):
    """The selector text is not valid; the server answers 400 BadRequest."""


_SET_TERM = re.compile(r"^\s*(!?)([A-Za-z0-9_./-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ_TERM = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s*(==|=|!=)\s*([A-Za-z0-9_.-]*)\s*$")
_EXISTS_TERM = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*$")

# Besides metadata.name / metadata.namespace (valid for every kind).
_FIELDS: dict[str, frozenset[str]] = {
    "pods": frozenset({"spec.nodeName", "status.phase", "status.podIP", "spec.restartPolicy"}),
    "services": frozenset({"spec.clusterIP", "spec.type"}),
    "events": frozenset({"involvedObject.name", "involvedObject.kind", "reason", "type"}),
    "secrets": frozenset({"type"}),
    "jobs": frozenset({"status.successful"}),
}


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    terms, depth, current = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += ch
    terms.append(current)
    return [t for t in terms if t.strip()]


def label_matcher(text: str | None) -> Matcher:
    """A predicate on an object's metadata.labels."""
    if not text:
        return lambda obj: True
    tests: list[Callable[[dict[str, str]], bool]] = []
    for term in _split_terms(text):
        if m := _SET_TERM.match(term):
            if m.group(1):
                raise SelectorError(f"unable to parse requirement: {term!r}")
            key, op = m.group(2), m.group(3)
            values = frozenset(v.strip() for v in m.group(4).split(",") if v.strip())
            if op == "in":
                tests.append(lambda labels, k=key, vs=values: labels.get(k) in vs)
            else:
                tests.append(lambda labels, k=key, vs=values: labels.get(k) not in vs)
        elif m := _EQ_TERM.match(term):
            key, op, value = m.groups()
            if op == "!=":
                tests.append(lambda labels, k=key, v=value: labels.get(k) != v)
            else:
                tests.append(lambda labels, k=key, v=value: labels.get(k) == v)
        elif m := _EXISTS_TERM.match(term):
            negate, key = m.groups()
            if negate:
                tests.append(lambda labels, k=key: k not in labels)
            else:
                tests.append(lambda labels, k=key: k in labels)
        else:
            raise SelectorError(f"unable to parse requirement: {term!r}")

    def match(obj: dict[str, Any]) -> bool:
        labels = obj.get("metadata", {}).get("labels") or {}
        return all(test(labels) for test in tests)

    return match


def _field_value(obj: dict[str, Any], path: str) -> str:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value)


def field_matcher(text: str | None, plural: str) -> Matcher:
    """A predicate on the object's fields; unsupported fields are a 400, as in the apiserver."""
    if not text:
        return lambda obj: True
    allowed = _FIELDS.get(plural, frozenset()) | {"metadata.name", "metadata.namespace"}
    tests: list[Callable[[dict[str, Any]], bool]] = []
    for term in _split_terms(text):
        m = _EQ_TERM.match(term)
        if not m:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{term}'")
        path, op, value = m.groups()
        if path not in allowed:
            raise SelectorError(f"field label not supported: {path}")
        if op == "!=":
            tests.append(lambda obj, p=path, v=value: _field_value(obj, p) != v)
        else:
            tests.append(lambda obj, p=path, v=value: _field_value(obj, p) == v)
    return lambda obj: all(test(obj) for test in tests)
