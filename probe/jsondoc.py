"""Documents from outside (a Job's log, a report file, an API body) decoded with bounds:
size, nesting depth and node count are checked, so a hostile document is an error
naming it, never a RecursionError or a walk that does not end.

    load_json(text, what)   -> Any      raises DocumentError ("<what>: <why>")
    depth(value)            -> int      nesting of dicts and lists, iteratively
    printable(document)     -> Any      the same document, control characters escaped
    read_bounded(path)      -> bytes    raises OSError, DocumentError (too large)
"""

from __future__ import annotations

import json
from typing import Any

MAX_BYTES = 16 * 1024 * 1024  # a report of 4,096 probes and its findings is a few MiB
MAX_DEPTH = 64  # a voltprobe report nests about 8 levels
MAX_NODES = 2_000_000  # values in one document (aliases in YAML can multiply them)


class DocumentError(ValueError):
    """A document that is too large, too deep or not JSON; the message names it."""


def depth(value: Any, limit: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> int:
    """The nesting depth of dicts and lists in `value` (a scalar: 0), without recursion.
    Stops early: returns limit + 1 as soon as it is passed, -1 past `max_nodes` values."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    visited = 0
    while stack:
        item, level = stack.pop()
        visited += 1
        if visited > max_nodes:
            return -1
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if level > limit:
            return level
        stack.extend((child, level + 1) for child in children)
    return deepest


def load_json(
    text: str | bytes, what: str, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH
) -> Any:
    """`text` decoded as JSON within the bounds; DocumentError naming `what` otherwise."""
    if len(text) > max_bytes:
        raise DocumentError(f"{what}: larger than {max_bytes // 1024 // 1024} MiB")
    try:
        # NaN and Infinity are not JSON (RFC 8259 6), though Python's decoder takes them
        document = json.loads(text, parse_constant=_not_json)
    except RecursionError:
        raise DocumentError(f"{what}: nested deeper than {max_depth} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise DocumentError(f"{what}: not valid JSON ({exc})") from None
    found = depth(document, max_depth)
    if found > max_depth:
        raise DocumentError(f"{what}: nested deeper than {max_depth} levels")
    if found < 0:
        raise DocumentError(f"{what}: more than {MAX_NODES} values")
    return document


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def printable(document: Any) -> Any:
    """A copy of a decoded JSON document whose strings (keys too) carry no terminal control
    characters (escaped as by `probe.errors.sanitize`; newlines and tabs kept): a report read
    from a pod's log is printed on the user's terminal. Iterative; call after load_json."""
    from probe.errors import sanitize

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return sanitize(value, len(value), keep="\n\t")
        if isinstance(value, dict):
            return {}
        if isinstance(value, list):
            return []
        return value

    root = clean(document)
    stack: list[tuple[Any, Any]] = [(document, root)]
    while stack:
        source, copy = stack.pop()
        if isinstance(source, dict):
            for key, item in source.items():
                copy[clean(key)] = new = clean(item)
                stack.append((item, new))
        elif isinstance(source, list):
            for item in source:
                copy.append(new := clean(item))
                stack.append((item, new))
    return root


def read_bounded(path: str, limit: int = MAX_BYTES) -> bytes:
    """The bytes of the file at `path` ('-': stdin), reading no more than `limit` + 1.
    Raises OSError when it cannot be read, DocumentError ('larger than N MiB') when it
    holds more than `limit` bytes."""
    import sys

    if path == "-":
        data = sys.stdin.buffer.read(limit + 1)
    else:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    if len(data) > limit:
        raise DocumentError(f"larger than {limit >> 20} MiB")
    return data
