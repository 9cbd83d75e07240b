"""The SYN template cache: scapy's bytes come back unchanged, and a file that is
stale, damaged or not ours is never used (scapy builds the templates again)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from probe.model import Family
from probe.probers import rawcache
from probe.probers.rawpackets import SynTemplate, build_templates, make_template

SCAPY_BUILT = build_templates()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VOLTPROBE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / rawcache.FILE_NAME


def rewrite(path: Path, change: dict[str, object]) -> None:
    document = json.loads(path.read_text())
    document.update(change)
    path.write_text(json.dumps(document))


def test_first_run_stores_scapys_bytes_and_the_next_loads_them(cache: Path) -> None:
    assert rawcache.cached_templates() is None
    assert rawcache.templates() == SCAPY_BUILT
    assert cache.stat().st_mode & 0o777 == 0o600
    assert cache.parent.stat().st_mode & 0o777 == 0o700
    assert rawcache.cached_templates() == SCAPY_BUILT


def test_a_warm_cache_does_not_import_scapy(cache: Path) -> None:
    rawcache.templates()
    code = (
        "import sys\n"
        "from probe.probers import rawcache\n"
        "assert rawcache.cached_templates() is not None\n"
        "print(sorted(m for m in sys.modules if m.startswith('scapy')))\n"
    )
    env = {**os.environ, "VOLTPROBE_CACHE_DIR": str(cache.parent)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)  # fmt: skip
    assert out.stdout.strip() == "[]"


def test_an_empty_cache_dir_turns_the_cache_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOLTPROBE_CACHE_DIR", "")
    assert rawcache.cache_dir() is None
    assert rawcache.templates() == SCAPY_BUILT


def test_the_default_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VOLTPROBE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert rawcache.cache_dir() == str(tmp_path / "voltprobe")


def test_a_key_from_another_scapy_installation_is_not_used(cache: Path) -> None:
    rawcache.templates()
    key = json.loads(cache.read_text())["key"]
    rewrite(cache, {"key": {**key, "files": {"layers/inet.py": [1, 2]}}})
    assert rawcache.cached_templates() is None
    assert rawcache.templates() == SCAPY_BUILT  # rebuilt, and the file rewritten
    assert rawcache.cached_templates() == SCAPY_BUILT


@pytest.mark.parametrize("mode", [0o620, 0o602])
def test_a_file_others_may_write_is_not_used(cache: Path, mode: int) -> None:
    rawcache.templates()
    cache.chmod(mode)
    assert rawcache.cached_templates() is None


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_a_file_owned_by_another_user_is_not_used(cache: Path) -> None:
    rawcache.templates()
    os.chown(cache, 65534, 65534)
    assert rawcache.cached_templates() is None


@pytest.mark.parametrize("content", ["", "{", "[]", '{"key": 1}', "\x00\x01"])
def test_a_damaged_file_is_not_used(cache: Path, content: str) -> None:
    rawcache.templates()
    cache.write_text(content)
    assert rawcache.cached_templates() is None


def v4(data: bytes) -> SynTemplate:
    return make_template(Family.IPV4, data)


def v6(data: bytes) -> SynTemplate:
    return make_template(Family.IPV6, data)


def patched(data: bytes, at: int, new: bytes) -> bytes:
    return data[:at] + new + data[at + len(new) :]


GOOD4 = SCAPY_BUILT[Family.IPV4].data
GOOD6 = SCAPY_BUILT[Family.IPV6].data
NOT_A_BARE_SYN = {
    "v4 SYN+FIN": v4(patched(GOOD4, 33, b"\x03")),
    "v4 SYN+ACK": v4(patched(GOOD4, 33, b"\x12")),
    "v4 a destination": v4(patched(GOOD4, 16, bytes([192, 0, 2, 1]))),
    "v4 a port": v4(patched(GOOD4, 22, b"\x15\xb3")),
    "v4 a payload": v4(patched(GOOD4, 2, b"\x00\x30") + b"DATA"),
    "v4 another window": v4(patched(GOOD4, 34, b"\xff\xff")),
    "v4 another protocol": v4(patched(GOOD4, 9, b"\x11")),
    "v4 IP options": v4(patched(GOOD4, 0, b"\x46")),
    "v4 truncated": v4(GOOD4[:30]),
    "v4 another TCP option": v4(patched(GOOD4, 40, b"\x03")),
    "v4 More-Fragments": v4(patched(GOOD4, 6, b"\x20")),
    "v4 Don't-Fragment": v4(patched(GOOD4, 6, b"\x40")),
    "v4 a fragment offset": v4(patched(GOOD4, 7, b"\x01")),
    "v4 an IP id": v4(patched(GOOD4, 4, b"\x00\x01")),
    "v4 a TOS": v4(patched(GOOD4, 1, b"\x10")),
    "v4 another TTL": v4(patched(GOOD4, 8, b"\x3f")),
    "v4 the urgent pointer": v4(patched(GOOD4, 38, b"\x00\x01")),
    "v4 another MSS": v4(patched(GOOD4, 42, b"\x05\xb5")),
    "v6 a flow label": v6(patched(GOOD6, 3, b"\x01")),
    "v6 a traffic class": v6(patched(GOOD6, 0, b"\x61")),
    "v6 SYN+RST": v6(patched(GOOD6, 53, b"\x06")),
    "v6 a source": v6(patched(GOOD6, 8, b"\x20\x01\x0d\xb8")),
    "v6 another next header": v6(patched(GOOD6, 6, b"\x00")),
    "v6 a payload": v6(patched(GOOD6, 4, b"\x00\x1c") + b"DATA"),
    "v6 a sequence number": v6(patched(GOOD6, 44, b"\x00\x00\x00\x01")),
}


def test_scapys_templates_pass_the_check() -> None:
    assert all(rawcache.check_template(t) for t in SCAPY_BUILT.values())


@pytest.mark.parametrize("family", list(Family))
def test_the_reference_written_without_scapy_is_what_scapy_builds(family: Family) -> None:
    assert rawcache.reference_syn(family) == SCAPY_BUILT[family].data


@pytest.mark.parametrize("family", list(Family))
def test_every_single_flipped_bit_fails_the_check(family: Family) -> None:
    good = SCAPY_BUILT[family].data
    for bit in range(len(good) * 8):
        damaged = bytearray(good)
        damaged[bit // 8] ^= 0x80 >> (bit % 8)
        assert not rawcache.check_template(make_template(family, bytes(damaged))), bit


def test_a_stored_template_with_the_more_fragments_bit_is_rebuilt(cache: Path) -> None:
    rawcache.templates()
    document = json.loads(cache.read_text())
    document["templates"][Family.IPV4.value] = NOT_A_BARE_SYN["v4 More-Fragments"].data.hex()
    cache.write_text(json.dumps(document))
    assert rawcache.cached_templates() is None
    assert rawcache.templates() == SCAPY_BUILT  # rebuilt by scapy
    assert rawcache.cached_templates() == SCAPY_BUILT  # and stored again


def test_a_fifo_or_deep_json_as_the_cache_file_is_not_used(cache: Path) -> None:
    cache.parent.mkdir(parents=True)
    os.mkfifo(cache)  # no writer: a blocking open would hang the run
    assert rawcache.cached_templates() is None
    cache.unlink()
    cache.write_text("[" * 100_000 + "]" * 100_000)
    assert rawcache.cached_templates() is None


@pytest.mark.parametrize("name", list(NOT_A_BARE_SYN))
def test_anything_but_our_bare_syn_fails_the_check(name: str) -> None:
    assert not rawcache.check_template(NOT_A_BARE_SYN[name])


def test_a_stored_template_that_fails_the_check_is_not_used(cache: Path) -> None:
    rawcache.templates()
    document = json.loads(cache.read_text())
    document["templates"][Family.IPV4.value] = NOT_A_BARE_SYN["v4 SYN+FIN"].data.hex()
    cache.write_text(json.dumps(document))
    assert rawcache.cached_templates() is None


def test_an_unwritable_cache_dir_costs_only_the_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("VOLTPROBE_CACHE_DIR", str(blocker / "cache"))  # under a file
    assert rawcache.templates() == SCAPY_BUILT
    assert rawcache.cached_templates() is None
