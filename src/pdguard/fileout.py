"""Safe file output: the one helper every command uses to write a file (`pdguard.fileout.write_output`).

What it does with the path it is given:

* ``-``: standard output.
* A symlink (or a chain of them): the write goes **through** it to the final target, which is
  updated in place of being replaced, so the link stays a link and its target is fresh. A
  *dangling* link (its target, or a directory on the way to it, does not exist), or a path under
  one, is a one-line :class:`OutputError` before anything is created: a link left behind must not
  make pdguard create files and directories wherever it points (:func:`refuse_dangling`).
* A character/block device, a FIFO or a socket (``/dev/null``, ``/dev/stdout``, a named pipe):
  written directly, never replaced by a regular file.
* A directory: a one-line :class:`OutputError`.
* A regular file, or nothing yet: written **atomically** — a temporary file in the same directory,
  fsync, rename — so readers see the old content or the complete new one, never half a file, and
  a failure (full disk, interrupted run) leaves the old file as it was. A new file gets the usual
  mode ``0666 & ~umask``; an existing file keeps its mode (and, when run as root, its owner).

Every ``OSError`` (permission, full disk, missing parent that cannot be created) becomes an
:class:`OutputError` (exit 2) naming the file: never a traceback, never a partial file.

    from pdguard.fileout import write_output
    write_output("report.sarif", text)            # str (UTF-8) or bytes
    write_output("-", text)                        # stdout
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import sys
import tempfile
import threading
from pathlib import Path
from typing import BinaryIO

from pdguard.errors import PdguardError

_umask_lock = threading.Lock()


class OutputError(PdguardError):
    """A file output that cannot be written (exit 2)."""


def current_umask() -> int:
    """The process umask, read without changing it for other threads (Linux: /proc), else briefly set."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _umask_lock:  # pragma: no cover - non-Linux
        mask = os.umask(0o022)
        os.umask(mask)
        return mask


def _encode(data: bytes | str) -> bytes:
    # A lone surrogate (possible in JSON from the API: "\ud800") must not crash the write.
    return data.encode("utf-8", errors="replace") if isinstance(data, str) else data


def _describe(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on device"
    return exc.strerror or type(exc).__name__


def resolve_target(path: str | os.PathLike[str]) -> Path:
    """The path the bytes will end up at: symlinks followed to their final target (even dangling)."""
    return Path(os.path.realpath(os.fspath(path)))


def dangling_link(path: str | os.PathLike[str]) -> str | None:
    """The dangling symlink `path` is, or lies under (a link whose target does not exist), else None.
    Only links are looked at: a missing regular directory on the way is created as usual."""
    p = Path(os.fspath(path))
    for candidate in (p, *p.parents):
        if os.path.islink(candidate) and not os.path.exists(candidate):
            return os.fspath(candidate)
    return None


def refuse_dangling(path: str | os.PathLike[str], *, what: str = "output", shown: str | None = None) -> None:
    """A one-line :class:`OutputError` (exit 2) when `path` is (or lies under) a dangling symlink,
    before anything is created: writing through it would create its target and the target's
    missing directories wherever the link points. `shown`: how the user named the output."""
    if os.fspath(path) == "-":
        return
    link = dangling_link(path)
    if link is None:
        return
    try:
        points_to = os.readlink(link)
    except OSError:  # pragma: no cover - removed in between
        points_to = "?"
    shown = os.fspath(path) if shown is None else shown
    which = "it is" if link == os.fspath(path) else f"{link} is"
    raise OutputError(f"cannot write {what} {shown}: {which} a symbolic link to {points_to}, which does not exist; "
                      "create the target or remove the link")


def write_output(path: str | os.PathLike[str], data: bytes | str, *, what: str = "output") -> None:
    """Write `data` to `path` safely (see the module docstring). `what` names the file in errors."""
    raw = _encode(data)
    if os.fspath(path) == "-":
        out = getattr(sys.stdout, "buffer", None)
        if out is None:  # a text-only stream (tests)
            sys.stdout.write(raw.decode("utf-8"))
        else:
            sys.stdout.flush()
            out.write(raw)
        sys.stdout.flush()
        return
    shown = os.fspath(path)
    refuse_dangling(path, what=what)
    target = resolve_target(path)
    try:
        st = _existing(target, what, shown)
        if st is not None and not stat.S_ISREG(st.st_mode):
            with _open_in_place(target) as fh:
                fh.write(raw)
        else:
            _write_atomic(target, raw, st)
    except OSError as exc:
        raise OutputError(f"cannot write {what} {shown}: {_describe(exc)}") from None


def _existing(target: Path, what: str, shown: str) -> os.stat_result | None:
    """The target's status (None: nothing there yet); a directory is an :class:`OutputError`."""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(f"cannot write {what} {shown}: it is a directory")
    return st


def _open_in_place(target: Path) -> BinaryIO:
    """A device, FIFO or socket: opened for writing as it is; no temporary file, no rename, no chmod."""
    return os.fdopen(os.open(target, os.O_WRONLY | getattr(os, "O_NOCTTY", 0)), "wb")


def _set_mode(file: int | Path, st: os.stat_result | None) -> None:
    """An existing file's mode (and, as root, owner) for its replacement; else 0666 & ~umask."""
    if st is None:
        os.chmod(file, 0o666 & ~current_umask())
        return
    os.chmod(file, stat.S_IMODE(st.st_mode))
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        with contextlib.suppress(OSError):
            os.chown(file, st.st_uid, st.st_gid)


def _sync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable (best effort)."""
    with contextlib.suppress(OSError):
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def _write_atomic(target: Path, raw: bytes, st: os.stat_result | None) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=str(target.parent))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
            _set_mode(fh.fileno(), st)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _sync_dir(target.parent)


def place_output(path: str | os.PathLike[str], src: str | os.PathLike[str], *, what: str = "output") -> None:
    """Put the finished file `src` at `path` with :func:`write_output`'s rules: through symlinks, a
    device/FIFO written in place, a regular file replaced atomically (renamed when `src` is on the
    same file system, the rename is what a streamed snapshot uses; copied otherwise). `src` is gone
    afterwards; on an error `path` is left as it was."""
    src = Path(src)
    shown = os.fspath(path)
    refuse_dangling(path, what=what)
    target = resolve_target(path)
    try:
        st = _existing(target, what, shown)
        if st is not None and not stat.S_ISREG(st.st_mode):
            with open(src, "rb") as fh, _open_in_place(target) as out:
                shutil.copyfileobj(fh, out, 1 << 20)
            src.unlink()
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        _set_mode(src, st)
        try:
            os.replace(src, target)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            _write_atomic(target, src.read_bytes(), st)  # another file system: copy, then rename
            src.unlink()
            return
    except OSError as exc:
        raise OutputError(f"cannot write {what} {shown}: {_describe(exc)}") from None
    _sync_dir(target.parent)
