"""Time and memory limits for one policy evaluation (``--eval-timeout``, ``--eval-memory``, ``limits:``).

Rego has no loops, but a user policy can still iterate for hours (two nested ``numbers.range``)
or build a value of many gigabytes, and regorus cannot be interrupted from Python. So the embedded
engine evaluates in a forked child process (:func:`run_limited`):

* the child inherits the compiled policies (copy-on-write: nothing is compiled twice), loads the
  input, evaluates the policy packages one at a time, announcing each to the parent, and sends
  back the result; it exits with ``os._exit`` (freeing a large input is not paid for);
* the memory limit is ``RLIMIT_AS`` in the child: the address space it may add to what the
  process had when it forked. An allocation beyond it fails, regorus aborts, and the parent
  reports the limit (Linux; on platforms without ``RLIMIT_AS`` the limit is not enforced);
* the time limit covers the whole child (loading the input and evaluating); when it is reached
  the parent kills the child (``SIGKILL``).

Because the child announces each package before evaluating it, the parent knows which policy was
running when a limit was hit and names it. Measured overhead on the evaluation path: see
``benchmarks/eval.py`` (the ``limits`` column). Where ``fork`` does not exist (Windows) the
evaluation runs in process without limits.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pdguard import errors
from pdguard.errors import EngineError, EvalLimitError, PdguardError
from pdguard.units import format_duration, format_size, parse_limit_seconds, parse_size

if TYPE_CHECKING:  # pragma: no cover
    from pdguard.config import LimitSettings


@dataclass(frozen=True)
class EvalLimits:
    timeout: float | None = None  # seconds; None: no limit
    memory: int | None = None  # bytes of address space the evaluation may add; None: no limit

    @classmethod
    def from_settings(cls, settings: LimitSettings) -> EvalLimits:
        return cls(parse_limit_seconds(settings.eval_timeout, what="--eval-timeout"),
                   parse_size(settings.eval_memory, what="--eval-memory"))

    @property
    def enabled(self) -> bool:
        return self.timeout is not None or self.memory is not None


def fork_available() -> bool:
    return hasattr(os, "fork") and sys.platform not in ("win32", "emscripten", "wasi")


# Frames child -> parent: 1 type byte + 8-byte big-endian length + payload.
_PROGRESS, _RESULT, _ERROR, _NOMEM = b"P", b"R", b"E", b"M"
_HEADER = struct.Struct(">cQ")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _frame(kind: bytes, payload: bytes) -> bytes:
    return _HEADER.pack(kind, len(payload)) + payload


def _vm_size() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def _child(work: Callable[[Callable[[str], None]], bytes], limits: EvalLimits, out_fd: int, err_fd: int) -> None:
    """In the forked child: never returns."""
    code = 1
    try:
        import faulthandler

        faulthandler.disable()  # an abort at the memory limit is expected: no crash dump on the terminal
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; it kills us if needed
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.dup2(err_fd, 2)  # regorus' "memory allocation of N bytes failed" goes to the parent
        if limits.memory is not None:
            import resource

            base = _vm_size()
            if base is not None:
                cap = base + limits.memory
                try:
                    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
                except (ValueError, OSError):  # pragma: no cover - platforms without RLIMIT_AS
                    pass

        def progress(name: str) -> None:
            _write_all(out_fd, _frame(_PROGRESS, name.encode("utf-8")))

        result = work(progress)
        _write_all(out_fd, _frame(_RESULT, result))
        code = 0
    except MemoryError:
        try:
            _write_all(out_fd, _frame(_NOMEM, b""))
        except BaseException:  # noqa: BLE001
            pass
        code = 3
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent as one line
        cls = type(exc).__name__ if isinstance(exc, PdguardError) else "EngineError"
        msg = str(exc) if isinstance(exc, PdguardError) else f"policy evaluation failed: {type(exc).__name__}: {exc}"
        try:
            _write_all(out_fd, _frame(_ERROR, json.dumps({"cls": cls, "msg": msg}).encode()))
        except BaseException:  # noqa: BLE001
            pass
    finally:
        os._exit(code)


_MAX_WAIT = 86400.0  # seconds: one select() call at most (a longer --eval-timeout loops)


def run_limited(
    work: Callable[[Callable[[str], None]], bytes],
    limits: EvalLimits,
    *,
    describe: Callable[[str | None], str] = lambda name: name or "policy evaluation",
) -> bytes:
    """Run ``work(progress)`` in a forked child within `limits`; return the bytes it returns.

    ``progress(name)`` tells the parent what the child starts on (a policy package); when a limit
    is hit, :class:`EvalLimitError` names it through ``describe(name)`` (``None``: nothing started
    yet). A :class:`PdguardError` raised in the child is raised again here with its class and
    message; anything else becomes an :class:`EngineError`.
    """
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child (its coverage is not collected)
        os.close(out_r)
        os.close(err_r)
        _child(work, limits, out_w, err_w)
    os.close(out_w)
    os.close(err_w)
    deadline = None if limits.timeout is None else started + limits.timeout
    buf = bytearray()
    err = bytearray()
    current: str | None = None
    result: bytes | None = None
    failure: tuple[str, str] | None = None
    nomem = False
    timed_out = False
    status: int | None = None
    sel = selectors.DefaultSelector()
    try:
        sel.register(out_r, selectors.EVENT_READ, "out")
        sel.register(err_r, selectors.EVENT_READ, "err")
        open_fds = 2
        while open_fds:
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                timed_out = True
                break
            if wait is not None:  # poll() takes at most 2**31 ms (~24.8 days): wake up and wait again
                wait = min(wait, _MAX_WAIT)
            for key, _ in sel.select(wait):
                chunk = os.read(key.fd, 1 << 16)
                if not chunk:
                    sel.unregister(key.fd)
                    open_fds -= 1
                    continue
                if key.data == "err":
                    if len(err) < 1 << 16:
                        err += chunk
                    continue
                buf += chunk
                while len(buf) >= _HEADER.size:
                    kind, size = _HEADER.unpack_from(buf)
                    if len(buf) < _HEADER.size + size:
                        break
                    payload = bytes(buf[_HEADER.size : _HEADER.size + size])
                    del buf[: _HEADER.size + size]
                    if kind == _PROGRESS:
                        current = payload.decode("utf-8", "replace")
                    elif kind == _RESULT:
                        result = payload
                    elif kind == _NOMEM:
                        nomem = True
                    elif kind == _ERROR:
                        data = json.loads(payload)
                        failure = (str(data.get("cls")), str(data.get("msg")))
        if timed_out:
            _kill(pid)
            status = _reap(pid, None)
        else:
            status = _reap(pid, deadline)
            if status is None:  # pipes closed, child still alive at the deadline
                timed_out = True
                _kill(pid)
                status = _reap(pid, None)
    finally:
        sel.close()
        os.close(out_r)
        os.close(err_r)
        if status is None:
            _kill(pid)
            _reap(pid, None)
    if timed_out:
        assert limits.timeout is not None
        raise EvalLimitError(
            f"policy evaluation stopped: {describe(current)} exceeded the time limit of "
            f"{format_duration(limits.timeout)} (raise it with --eval-timeout or limits.eval_timeout in pdguard.yaml)"
        )
    if result is not None and status == 0:
        return result
    stderr = err.decode("utf-8", "replace")
    if limits.memory is not None and (nomem or "memory allocation of" in stderr
                                      or (status is not None and status in (-signal.SIGABRT, -signal.SIGSEGV, 3))):
        raise EvalLimitError(
            f"policy evaluation stopped: {describe(current)} exceeded the memory limit of "
            f"{format_size(limits.memory)} (raise it with --eval-memory or limits.eval_memory in pdguard.yaml)"
        )
    if failure is not None:
        cls = getattr(errors, failure[0], None)
        if not (isinstance(cls, type) and issubclass(cls, PdguardError)):
            cls = EngineError
        raise cls(failure[1])
    how = f"signal {-status}" if status is not None and status < 0 else f"exit status {status}"
    raise EngineError(f"policy evaluation crashed ({how}) while evaluating {describe(current)}")


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap(pid: int, deadline: float | None) -> int | None:
    """The child's exit code (negative: killed by that signal), or None if it still runs at `deadline`."""
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG if deadline is not None else 0)
        except ChildProcessError:
            return 0
        if done:
            return os.waitstatus_to_exitcode(status)
        if deadline is not None and time.monotonic() >= deadline:
            return None
        time.sleep(0.01)
