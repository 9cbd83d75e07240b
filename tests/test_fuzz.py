"""Property-based tests over every decoder of outside input (issue 16: every decoder is
total). Each either yields data or raises its one documented error naming the input;
none raises anything else, recurses without bound or hangs.

CI runs VOLTPROBE_FUZZ_EXAMPLES examples per decoder (default 60). The long run, 10,000
per decoder (tests/conftest.py sets it for `-m fuzz`):

    .venv/bin/python -m pytest -q -p no:cacheprovider -m fuzz tests/test_fuzz.py
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from probe.errors import sanitize
from probe.jsondoc import DocumentError, load_json
from probe.k8sjob import logs
from probe.kube.errors import ApiProblem, Read, problem_from_exception
from probe.kube.kubeconfig import kubeconfig_problem
from probe.kube.reader import Pages
from probe.model import REPORT_BEGIN, REPORT_END, Report, ReportFormatError
from probe.probers import rawcache
from tests.support.processes import VOLTPROBE, closed_port

pytestmark = pytest.mark.fuzz

FUZZ = settings(
    max_examples=int(os.environ.get("VOLTPROBE_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=40),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=30,
)


@cache
def seed_report() -> dict[str, Any]:
    """A real report (a refused loopback port: DNS, probes, findings, recommendation)."""
    done = subprocess.run(
        [VOLTPROBE, "check", "--peer", f"127.0.0.1:{closed_port()}", "--no-kube", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    document: dict[str, Any] = json.loads(done.stdout)
    return document


@st.composite
def mutated_report(draw: st.DrawFn) -> dict[str, Any]:
    """The seed report with one to three values somewhere in it replaced."""
    document = copy.deepcopy(seed_report())
    for _ in range(draw(st.integers(1, 3))):
        parent: Any = document
        while True:
            keys = list(parent) if isinstance(parent, dict) else list(range(len(parent)))
            if not keys:
                break
            key = draw(st.sampled_from(keys))
            child = parent[key]
            if isinstance(child, (dict, list)) and child and draw(st.booleans()):
                parent = child
                continue
            parent[key] = draw(JSON)
            break
    return document


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


# -- reports: Report.from_json, a Job's log -------------------------------------------


@FUZZ
@given(mutated_report())
def test_report_from_json_is_total(document: dict[str, Any]) -> None:
    try:
        report = Report.from_json(load_json(json.dumps(document), "report"))
    except (ReportFormatError, DocumentError):
        return
    assert isinstance(report.exit_code, int)
    assert Report.from_json(json.loads(json.dumps(report.to_json()))) is not None


@FUZZ
@given(
    st.one_of(
        st.text(max_size=300),
        mutated_report().map(json.dumps),
        st.integers(1, 5000).map(nested),
    ),
    st.sampled_from(["", "\r\n", "\x1b[2J", "\x00"]),
)
def test_a_hostile_pod_log_is_a_report_or_no_report(body: str, noise: str) -> None:
    log = f"{noise}junk\n{REPORT_BEGIN}\n{body}\n{REPORT_END}\n{noise}"
    try:
        assert isinstance(logs.extract(log), Report)
    except logs.NoReport as exc:
        assert str(exc)


def test_a_report_nested_deeper_than_the_decoder_is_no_report() -> None:
    for levels in (70, 900, 100_000):
        with pytest.raises(logs.NoReport, match="nested deeper than"):
            logs.extract(f"{REPORT_BEGIN}\n{nested(levels)}\n{REPORT_END}\n")


def test_read_document_names_the_file(tmp_path: Path) -> None:
    from probe.documents import read_document
    from probe.errors import UsageError

    good = tmp_path / "good.json"
    good.write_text(json.dumps(seed_report()))
    assert read_document(str(good)).exit_code == 1
    for name, text in (("cut.json", json.dumps(seed_report())[:200]), ("deep.json", nested(5000))):
        bad = tmp_path / name
        bad.write_text(text)
        with pytest.raises(UsageError, match=f"{bad}: "):
            read_document(str(bad))


# -- kubeconfig -----------------------------------------------------------------------


KUBECONFIG_KEYS = st.sampled_from(
    ["clusters", "contexts", "users", "current-context", "preferences", "apiVersion", "kind"]
)


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=200),
        st.dictionaries(KUBECONFIG_KEYS, JSON, max_size=6).map(yaml.safe_dump).map(str.encode),
        JSON.map(yaml.safe_dump).map(str.encode),
        st.integers(1, 3000).map(lambda n: ("a: " + "{b: " * n + "1" + "}" * n).encode()),
    )
)
def test_kubeconfig_check_is_total(data: bytes) -> None:
    problem = kubeconfig_problem(data)
    assert isinstance(problem, str)


@FUZZ
@given(st.dictionaries(KUBECONFIG_KEYS, JSON, max_size=6))
def test_a_kubeconfig_that_passes_the_check_loads_in_the_client(doc: dict[str, Any]) -> None:
    """What the check lets through, the client reads without AttributeError/TypeError
    (it may still find the config incomplete: a ConfigException, an Unavailable)."""
    from kubernetes.config import ConfigException, kube_config

    if kubeconfig_problem(yaml.safe_dump(doc).encode()):
        return
    try:
        kube_config.KubeConfigLoader(config_dict=doc)
    except ConfigException:
        pass


# -- API bodies -----------------------------------------------------------------------


@FUZZ
@given(st.one_of(st.binary(max_size=300), JSON.map(json.dumps).map(str.encode)))
def test_an_api_error_body_is_a_problem(body: bytes) -> None:
    from kubernetes.client.exceptions import ApiException

    exc = ApiException(status=500, reason="x")
    exc.body = body
    problem = problem_from_exception(Read("list", "pods", namespace="volt"), exc)
    assert isinstance(problem, ApiProblem) and problem.status == 500


@FUZZ
@given(st.lists(JSON, max_size=5))
def test_pages_of_anything_never_raise(pages: list[Any]) -> None:
    collected = Pages(Read("list", "pods", namespace="volt"), None)
    for page in pages:
        answer = collected.add(page if isinstance(page, dict) else {"items": page})
        if answer is None or isinstance(answer, ApiProblem):
            break
    assert all(isinstance(item, dict) for item in collected.items)


# -- the SYN template cache -----------------------------------------------------------


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=300),
        JSON.map(json.dumps).map(str.encode),
        st.dictionaries(
            st.sampled_from(["IPv4", "IPv6"]), st.binary(min_size=0, max_size=80).map(bytes.hex)
        ).map(lambda t: json.dumps({"key": rawcache.scapy_key(), "templates": t}).encode()),
        st.integers(1, 100_000).map(lambda n: nested(n).encode()),
    )
)
def test_the_template_cache_loads_only_our_syn(data: bytes) -> None:
    path = Path(os.environ["VOLTPROBE_CACHE_DIR"]) / "fuzz" / rawcache.FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    loaded = rawcache.load(str(path))
    assert loaded is None or all(
        t.data == rawcache.reference_syn(family) for family, t in loaded.items()
    )


# -- what reaches a terminal or a manifest -------------------------------------------


@FUZZ
@given(st.text(max_size=200))
def test_sanitized_text_has_no_control_characters(text: str) -> None:
    shown = sanitize(text)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in shown)
    assert "\u2028" not in shown and "\u2029" not in shown


def test_a_report_from_a_log_carries_no_terminal_escapes() -> None:
    document = copy.deepcopy(seed_report())
    document["findings"][0]["message"] = "owned\x1b]0;title\x07\x1b[2J\rline\nnext"
    log = f"{REPORT_BEGIN}\n{json.dumps(document)}\n{REPORT_END}\n"
    message = logs.extract(log).findings[0].message
    assert message == "owned\\x1b]0;title\\x07\\x1b[2J\\rline\nnext"


@FUZZ
@given(JSON)
def test_printable_keeps_the_shape_and_drops_control_characters(document: Any) -> None:
    from probe.jsondoc import printable

    cleaned = printable(document)
    strings, stack = [], [cleaned]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            strings.append(value)
        elif isinstance(value, dict):
            strings.extend(value)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    for text in strings:
        assert not any(
            (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0 for c in text
        ), text
    assert type(cleaned) is type(document)
    if not strings:  # nothing to clean: the same document
        assert cleaned == document
