"""Writing an output file (--report-file, --values-out, --termination-log, --pcap) safely.

    a regular file, or none yet   written to a temporary file in the same directory,
                                  then renamed into place (a reader never sees half a
                                  report; a crash leaves the old file); new files 0600
    a symbolic link               refused: the link's target would be overwritten
                                  (unless it points at a device or pipe, below)
    a device, pipe or socket      written in place (/dev/termination-log when it is
    (/dev/stdout, a FIFO)         not a bind mount, a FIFO, /dev/stdout), opened
                                  non-blocking: a FIFO with no reader is an error at
                                  once (ENXIO), a reader that stops reading costs at
                                  most SPECIAL_WRITE_SECONDS
    a regular file that cannot    written in place, no symlink followed (the kubelet's
    be renamed over               /dev/termination-log is a bind-mounted file)

`check_destination` runs before the run starts, so a typo or a read-only directory
costs nothing (UsageError, exit 2, naming the file).
"""

from __future__ import annotations

import errno
import os
import select
import stat
import tempfile
import time

from probe.errors import UsageError, sanitize

SPECIAL_WRITE_SECONDS = 2.0  # the most a pipe or device write may block the run
NEW_FILE_MODE = 0o600  # reports name the cluster's addresses and namespaces
_IN_PLACE_ERRORS = (errno.EACCES, errno.EPERM, errno.EROFS, errno.EBUSY, errno.EXDEV)


def is_special(path: str) -> bool:
    """True when `path` is (or links to) a device, a pipe or a socket."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def check_destination(option: str, path: str) -> None:
    """Raise UsageError (exit 2) naming `option` and `path` unless the file can be written.

    Checked before the run: the directory exists and is writable, the path is not a
    directory or a symbolic link to a regular file, an existing regular file is
    writable. Devices and pipes are accepted (whether a reader is there is known only
    when writing)."""
    shown = f"{option} {sanitize(path)}"
    if path == "" or "\0" in path:
        raise UsageError(f"{shown}: not a file name")
    try:
        link = stat.S_ISLNK(os.lstat(path).st_mode)
    except FileNotFoundError:
        link = False
    except OSError as exc:
        raise UsageError(f"{shown}: {exc.strerror}") from None
    if is_special(path):
        if not os.access(path, os.W_OK):
            raise UsageError(f"{shown}: not writable")
        return
    if link:
        raise UsageError(
            f"{shown}: is a symbolic link; voltprobe does not write through links "
            "(give the file's real path)"
        )
    if os.path.isdir(path):
        raise UsageError(f"{shown}: is a directory, not a file")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UsageError(f"{shown}: directory {sanitize(directory)} does not exist")
    if os.path.exists(path):
        if not os.access(path, os.W_OK):
            raise UsageError(f"{shown}: the file is not writable")
    elif not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"{shown}: directory {sanitize(directory)} is not writable")


def write_output(path: str, data: bytes, timeout: float = SPECIAL_WRITE_SECONDS) -> None:
    """Write `data` to `path` as the module docstring says. Raises OSError (strerror set)
    when it cannot; `timeout` seconds bound a write to a pipe or device."""
    try:
        link = stat.S_ISLNK(os.lstat(path).st_mode)
    except FileNotFoundError:
        link = False
    if is_special(path):
        _write_special(path, data, timeout)
        return
    if link:
        raise OSError(errno.ELOOP, "is a symbolic link (not followed)")
    try:
        _replace(path, data)
    except OSError as exc:
        if exc.errno not in _IN_PLACE_ERRORS or not os.path.isfile(path):
            raise
        _write_in_place(path, data)


def _replace(path: str, data: bytes) -> None:
    """Temporary file in the same directory, fsync, rename over `path`."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)  # an existing file keeps its mode
    except FileNotFoundError:
        mode = NEW_FILE_MODE
    fd, temporary = tempfile.mkstemp(prefix=".voltprobe-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fchmod(out.fileno(), mode)
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def _write_in_place(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW | os.O_NOCTTY | os.O_CLOEXEC)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _write_special(path: str, data: bytes, timeout: float) -> None:
    """A device or pipe, non-blocking: ENXIO at once when a FIFO has no reader; a reader
    that does not read makes it time out (ETIMEDOUT) after `timeout` seconds."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise OSError(errno.ENXIO, "a pipe with no reader") from None
        raise
    try:
        ends = time.monotonic() + timeout
        view = memoryview(data)
        while view:
            try:
                written = os.write(fd, view)
            except BlockingIOError:
                written = 0
            view = view[written:]
            if not view:
                break
            left = ends - time.monotonic()
            if left <= 0:
                raise OSError(errno.ETIMEDOUT, f"the reader took more than {timeout:g} s")
            select.select([], [fd], [], left)
    finally:
        os.close(fd)
