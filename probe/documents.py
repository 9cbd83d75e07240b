"""voltprobe/v1 documents read back from files: reports, inventories, Job logs.

    read_document(path)          -> Report | InventoryReport   (UsageError, exit 2, if not)
    parse_document(text, name)   -> Report | InventoryReport

A report is untrusted input: it is validated against the published schema
(`probe/schema/report-v1.json`) before it is typed. Whatever is wrong with it (another
schema version, a truncated or hand-edited file) is one line naming the file and the
problem, never a traceback. A Job's raw log is accepted too: the report between its
marker lines (`probe/k8sjob/logs.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from probe import __version__
from probe.errors import UsageError
from probe.model import REPORT_BEGIN, SCHEMA, ClusterLabel, Report, ReportFormatError

MAX_BYTES = 64 * 1024 * 1024  # a report of 4,096 probe rows is ~1 MB

INVENTORY = "inventory"
MERGE = "merge"


@dataclass(frozen=True)
class InventoryReport:
    """A cluster's inventory without probing (`voltprobe inventory -o json`): the same
    `local` section a report has, and the cluster's name."""

    local: dict[str, Any]
    cluster: ClusterLabel = field(default_factory=ClusterLabel)
    version: str = __version__
    options: dict[str, Any] = field(default_factory=dict)  # {"port": the DR port}

    @property
    def exit_code(self) -> int:
        return 0 if self.local.get("kubernetes", {}).get("available") else 3

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "kind": INVENTORY,
            "version": self.version,
            "cluster": self.cluster.to_json(),
            "options": self.options,
            "local": self.local,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> InventoryReport:
        local = doc.get("local")
        if not isinstance(local, dict):
            raise ReportFormatError("local is missing or not an object")
        options = doc.get("options")
        return cls(
            local,
            ClusterLabel.from_json(doc.get("cluster")),
            str(doc.get("version")),
            options if isinstance(options, dict) else {},
        )


Document = Report | InventoryReport


def read_document(path: str) -> Document:
    """The report or inventory in the file at `path` ('-' is stdin).

    Raises UsageError (exit 2) with one line `PATH: problem` when the file cannot be read
    or is not a voltprobe/v1 report or inventory."""
    from probe.jsondoc import DocumentError, read_bounded

    try:
        data = read_bounded(path, MAX_BYTES)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except DocumentError as exc:
        raise UsageError(f"{path}: {exc}: not a voltprobe report") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text: not a voltprobe report") from None
    return parse_document(text, path)


def parse_document(text: str, name: str) -> Document:
    """The typed document in `text` (JSON, YAML, or a Job log with report markers);
    raises UsageError naming `name` and the first problem."""
    try:
        return _parse(text)
    except ReportFormatError as exc:
        raise UsageError(f"{name}: {exc}") from None


def _parse(text: str) -> Document:
    from probe.schema import validate

    document = _load(text)
    if not isinstance(document, dict):
        raise ReportFormatError("not a voltprobe report (a JSON object was expected)")
    schema = document.get("schema")
    if schema is None:
        raise ReportFormatError("no `schema` field: not a voltprobe report")
    if schema != SCHEMA:
        raise ReportFormatError(
            f"schema is {str(schema)[:40]!r}; this voltprobe reads {SCHEMA} only "
            "(a report from another voltprobe version?)"
        )
    validate(document)
    kind = document.get("kind", "report")
    if kind == MERGE:
        raise ReportFormatError("a merged result, not a report: give the reports it came from")
    if kind == INVENTORY:
        return InventoryReport.from_json(document)
    return Report.from_json(document)


def _load(text: str) -> Any:
    """JSON, a Job's log (the JSON between the markers) or YAML (`-o yaml`)."""
    from probe.k8sjob.logs import NoReport, report_text

    if REPORT_BEGIN in text:
        try:
            text = report_text(text)
        except NoReport as exc:
            raise ReportFormatError(f"a Job log, but {exc}") from None
    stripped = text.lstrip()
    if not stripped:
        raise ReportFormatError("empty file")
    if stripped.startswith(("{", "[")):
        from probe.jsondoc import DocumentError, load_json

        try:  # bounded: size, depth and count (a hostile file must not crash the reader)
            return load_json(text, "the file")
        except DocumentError as exc:
            why = str(exc).removeprefix("the file: ")
            if why.startswith("not valid JSON"):
                why = why.replace("not valid JSON", "not valid JSON, cut off or edited?", 1)
            raise ReportFormatError(why) from None
    import yaml

    from probe.jsondoc import MAX_DEPTH, MAX_NODES, depth

    try:
        document = yaml.safe_load(text)
    except RecursionError:  # PyYAML composes nested nodes recursively
        raise ReportFormatError(f"nested deeper than {MAX_DEPTH} levels") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ReportFormatError(f"neither JSON nor YAML{where}") from None
    found = depth(document)  # the same bounds as JSON's
    if found > MAX_DEPTH:
        raise ReportFormatError(f"nested deeper than {MAX_DEPTH} levels")
    if found < 0:
        raise ReportFormatError(f"more than {MAX_NODES} values (YAML aliases?)")
    import json

    try:  # .nan and .inf are YAML, not JSON numbers: a report must hold the same as JSON
        json.dumps(document, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ReportFormatError(f"not a JSON-compatible document: {exc}") from None
    return document
