"""The scapy-built SYN templates, kept on disk between runs.

Importing scapy's inet layers costs ~0.2 s of CPU: more than a whole `--quick` batch
on a LAN, and with IP-literal peers and --no-kube there is no DNS or API wait for it
to hide behind. The two templates depend only on scapy's installation and on
voltprobe's SYN fields, so the first raw run stores the bytes scapy built, and later
runs load them without importing scapy. A stored file is used only when

* its key matches this scapy installation (directory, VERSION, size and mtime of the
  modules that build the packets) and voltprobe's SYN fields;
* it is owned by this user and writable by nobody else (the bytes go out as root);
* each template is, byte for byte, the SYN voltprobe means to send (`reference_syn`,
  written out here field by field without scapy): one flipped bit (the IPv4
  More-Fragments flag, say) and the file is rebuilt, so a damaged file can never put
  anything else on the wire;
* it is a regular file no larger than MAX_BYTES (a FIFO or a device there is never
  opened blocking) whose JSON is a flat object.

Anything else means scapy builds the templates again and the file is rewritten.
VOLTPROBE_CACHE_DIR picks the directory; set it empty to turn the cache off.
"""

from __future__ import annotations

import json
import os
import stat
import struct
import sys

from probe.model import Family
from probe.probers.rawpackets import (
    HOP_LIMIT,
    SYN_MSS,
    SYN_WINDOW,
    SynTemplate,
    build_templates,
    make_template,
)

FORMAT = 1
FILE_NAME = "syn-templates.json"
# the scapy modules whose code decides the bytes of our SYN
_SCAPY_FILES = ("VERSION", "packet.py", "fields.py", "layers/inet.py", "layers/inet6.py")
_TCP_SYN = 0x02
_TCP_OPTION_MSS = 2
MAX_BYTES = 64 * 1024  # the file holds two ~60-byte templates and a key


def cache_dir() -> str | None:
    """$VOLTPROBE_CACHE_DIR, else $XDG_CACHE_HOME/voltprobe, else ~/.cache/voltprobe;
    None when VOLTPROBE_CACHE_DIR is set but empty (cache off)."""
    configured = os.environ.get("VOLTPROBE_CACHE_DIR")
    if configured is not None:
        return configured or None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "voltprobe")


def templates() -> dict[Family, SynTemplate]:
    """The SYN templates: from the cache when it is valid, else built by scapy and stored."""
    cached = cached_templates()
    return cached if cached is not None else build_and_store()


def build_and_store() -> dict[Family, SynTemplate]:
    """Import scapy, build the templates and store them for the next run."""
    built = build_templates()
    path = _cache_file()
    if path is not None:
        store(path, built)
    return built


def cached_templates() -> dict[Family, SynTemplate] | None:
    """The stored templates if they are valid for this installation, else None (no scapy)."""
    path = _cache_file()
    return load(path) if path is not None else None


def _cache_file() -> str | None:
    directory = cache_dir()
    return os.path.join(directory, FILE_NAME) if directory is not None else None


def scapy_key() -> dict[str, object] | None:
    """What the stored bytes depend on, found without importing scapy (None: no scapy)."""
    package = _scapy_dir()
    if package is None:
        return None
    files: dict[str, list[int]] = {}
    for name in _SCAPY_FILES:
        try:
            info = os.stat(os.path.join(package, name))
        except OSError:
            continue
        files[name] = [info.st_size, info.st_mtime_ns]
    return {
        "format": FORMAT,
        "syn": [SYN_WINDOW, SYN_MSS, HOP_LIMIT],
        "scapy": package,
        "files": files,
    }


def _scapy_dir() -> str | None:
    loaded = sys.modules.get("scapy")
    if loaded is not None and getattr(loaded, "__file__", None):
        return os.path.dirname(os.path.abspath(loaded.__file__ or ""))
    for entry in sys.path:  # how the import system finds a top-level package
        candidate = os.path.abspath(os.path.join(entry or os.curdir, "scapy"))
        if os.path.isfile(os.path.join(candidate, "__init__.py")):
            return candidate
    return None


def load(path: str) -> dict[Family, SynTemplate] | None:
    """The templates in `path`, or None when it is missing, foreign, stale or damaged."""
    key = scapy_key()
    if key is None:
        return None
    try:
        # O_NONBLOCK: a FIFO planted as the cache file must not hang the run
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as stored:
            info = os.fstat(stored.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
                return None
            if info.st_uid != os.geteuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return None
            document = json.loads(stored.read(MAX_BYTES + 1))
        if document.get("key") != key:
            return None
        loaded = {
            family: make_template(family, bytes.fromhex(document["templates"][family.value]))
            for family in (Family.IPV4, Family.IPV6)
        }
    except (
        OSError,
        ValueError,
        KeyError,
        IndexError,
        TypeError,
        AttributeError,
        RecursionError,
        struct.error,
    ):
        return None
    if not all(check_template(template) for template in loaded.values()):
        return None
    return loaded


def store(path: str, built: dict[Family, SynTemplate]) -> None:
    """Write the templates atomically; best effort (a read-only home costs only speed)."""
    import tempfile  # only on a cold cache: it pulls in shutil and random

    key = scapy_key()
    if key is None:
        return
    document = {
        "key": key,
        "templates": {family.value: template.data.hex() for family, template in built.items()},
    }
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".syn-templates-", dir=directory)
        try:
            with os.fdopen(handle, "w", encoding="ascii") as out:
                json.dump(document, out)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        return


def reference_syn(family: Family) -> bytes:
    """The bare SYN voltprobe sends, with the fields it patches (addresses, ports,
    sequence number, checksums) zero, written out field by field (RFC 791, RFC 8200,
    RFC 9293): no IP options, id 0 and no fragment flags (DF, MF) or offset, TTL /
    hop limit HOP_LIMIT, window SYN_WINDOW, one MSS option, no payload. What scapy
    builds for `build_templates` (tests/test_raw_cache.py checks it)."""
    mss = struct.pack("!BBH", _TCP_OPTION_MSS, 4, SYN_MSS)
    tcp_length = 20 + len(mss)
    #                     sport dport seq ack  data offset    flags     window     sum urg
    tcp = struct.pack("!HHIIBBHHH", 0, 0, 0, 0, (tcp_length // 4) << 4, _TCP_SYN, SYN_WINDOW, 0, 0)
    tcp += mss
    if family is Family.IPV4:
        #                  ver/IHL tos total            id frag ttl        proto sum
        ip = struct.pack("!BBHHHBBH", 0x45, 0, 20 + tcp_length, 0, 0, HOP_LIMIT, 6, 0)
        return ip + bytes(8) + tcp  # source and destination zero
    #                  version 6, traffic class and flow label 0; payload, next, hop limit
    ip = struct.pack("!IHBB", 6 << 28, tcp_length, 6, HOP_LIMIT)
    return ip + bytes(32) + tcp


def check_template(template: SynTemplate) -> bool:
    """True when the template is, byte for byte, `reference_syn` of its family and its
    offsets and partial sums are the ones `make_template` derives from those bytes.
    Guards the bytes a file hands to a raw socket."""
    reference = reference_syn(template.family)
    return template.data == reference and template == make_template(template.family, reference)
