"""The published JSON Schema of voltprobe/v1 documents (`report-v1.json`, package data).

Evolution rule (also in the schema's description and the README): v1 grows only by new
optional fields, and readers ignore fields they do not know; removing a field, making
one required, or changing a field's meaning or type makes voltprobe/v2.

    validate(document)   raises ReportFormatError naming the first field that is wrong

`jsonschema` is imported on first use: only reading reports back needs it.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from probe.model import ReportFormatError

SCHEMA_FILE = "report-v1.json"


@cache
def schema() -> dict[str, Any]:
    """The schema document (parsed once)."""
    text = resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema())


def validate(document: Any) -> None:
    """Check `document` against the voltprobe/v1 schema.

    Raises ReportFormatError with one line: the JSON path of the first wrong field (e.g.
    `probes[3].state`) and what is wrong, never the whole offending value.
    """
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(document))
    if error is None:
        return
    raise ReportFormatError(_describe(error))


def _describe(error: Any) -> str:
    path = _path(error.absolute_path)
    where = path or "the document"
    validator = error.validator
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "a field"
        return f"{_join(path, missing)} is missing"
    if validator == "type":
        expected = error.validator_value
        kinds = expected if isinstance(expected, list) else [expected]
        return f"{where} is not {' or '.join(_article(k) for k in kinds)}"
    if validator in ("enum", "const"):
        shown = json.dumps(error.instance)[:40]
        allowed = error.validator_value if validator == "enum" else [error.validator_value]
        return f"{where}: unknown value {shown} (expected {', '.join(map(str, allowed))})"
    return f"{where}: {error.message[:120]}"


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


_ARTICLES = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true/false",
    "null": "null",
}


def _article(kind: str) -> str:
    return _ARTICLES.get(kind, kind)
