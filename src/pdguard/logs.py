"""Log lines: ISO 8601 UTC timestamps, a short origin, the level for problems, text neutralised, URLs redacted.

``2026-11-26T09:00:00.123Z pdguard watch: scan 3: 124 assets, 12 findings (3 failing)``
``2026-11-26T09:00:01.456Z pdguard watch: error: tick 2 failed (retrying at the next tick): …``

:func:`setup` installs one stderr handler on the root logger (every pdguard command calls it
through :func:`pdguard.cligrammar.configure_logging`). Every line, including third-party ones
(``httpx`` request lines under ``-vv``) and exception text, goes through
:func:`pdguard.textsafe.safe_text` (log injection, terminal escapes from PagerDuty text) and
:func:`pdguard.redact.redact_text`.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

from pdguard.redact import redact_text
from pdguard.textsafe import safe_text


def iso_utc(timestamp: float) -> str:
    """``2026-11-26T09:00:00.123Z`` for a POSIX timestamp."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _origin(name: str) -> str:
    if name == "pdguard.watch":
        return "pdguard watch"
    if name == "pdguard" or name.startswith("pdguard."):
        return "pdguard"
    return f"pdguard ({name.split('.')[0]})"


class Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        level = "" if record.levelno < logging.WARNING else f"{record.levelname.lower()}: "
        line = f"{iso_utc(record.created)} {_origin(record.name)}: {level}{safe_text(record.getMessage())}"
        if record.exc_info:
            line += "\n" + safe_text(self.formatException(record.exc_info), multiline=True)
        return redact_text(line)


_HANDLER_FLAG = "_pdguard"


def setup(verbosity: int = 0, stream: TextIO | None = None) -> None:
    """Route logging to stderr with :class:`Formatter`. 0: warnings and errors; 1 (``-v``): + pdguard's
    info lines (API retries and rate-limit waits); 2 (``-vv``): + debug and every HTTP request.

    Idempotent: a second call replaces pdguard's handler (and its levels), never adds another.
    """
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, _HANDLER_FLAG, False):
            root.removeHandler(h)
    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, _HANDLER_FLAG, True)
    handler.setFormatter(Formatter())
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("pdguard").setLevel(
        logging.DEBUG if verbosity >= 2 else logging.INFO if verbosity else logging.WARNING)
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    if verbosity >= 2:
        logging.getLogger("httpx").setLevel(logging.INFO)  # one line per request
