"""Neutralise untrusted text before a human sees it: `pdguard.textsafe.safe_text` and friends.

Names, ids, messages and error texts come from PagerDuty (or a snapshot file) and are untrusted.
Printed raw, ``\\x1b[2J`` clears the terminal, an OSC sequence retitles the window or plants a
hyperlink, ``\\r`` overwrites a line, and bidi controls (U+202E …, "Trojan Source") make text
read differently from what it is. Every human-readable output (table, inventory listings, diff,
Markdown, HTML, log lines and error messages) passes data through :func:`safe_text`, which
replaces each dangerous character with a visible escape:

* C0 controls (U+0000–U+001F, except the kept whitespace), DEL (U+007F) and C1 controls
  (U+0080–U+009F, e.g. the one-byte CSI U+009B) → ``\\x1b``, ``\\x07``, ``\\x9b`` …
* bidi embedding/override/isolate controls and marks (U+061C, U+200E, U+200F, U+202A–U+202E,
  U+2066–U+2069) and the line/paragraph separators U+2028/U+2029 → ``\\u202e`` …
* lone surrogates (U+D800–U+DFFF: they cannot even be encoded) → ``\\ud800``.

Newlines and tabs: :func:`safe_text` turns every run of whitespace (including newlines) into one
space by default, for single-line places (table cells, log lines); ``multiline=True`` keeps
``\\n`` and ``\\t`` (and turns ``\\r\\n`` into ``\\n``) for blocks of text.

Machine formats (JSON, SARIF, JUnit) keep the data exact: their serialisers escape it, so they stay
valid and lossless; they do not use this module.

    from pdguard.textsafe import safe_text
    safe_text("api\\x1b[2J")            # 'api\\\\x1b[2J' (visible, inert)
    safe_text(None)                      # ''
"""

from __future__ import annotations

import logging
import re
from typing import Any

_BIDI_AND_SEPARATORS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
# Everything that is neutralised, whitespace excluded (handled separately).
_UNSAFE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI_AND_SEPARATORS}\ud800-\udfff]")
_WS = re.compile(r"[ \t\n\r]+")


def _escape(m: re.Match[str]) -> str:
    cp = ord(m.group(0))
    return f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}"


def safe_text(value: Any, *, multiline: bool = False) -> str:
    """`value` as text with control, bidi and separator characters replaced by visible escapes.

    Single-line by default (whitespace runs → one space, trimmed); `multiline` keeps newlines
    and tabs (a lone ``\\r`` is escaped: it would overwrite the line on a terminal).
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if multiline:
        text = text.replace("\r\n", "\n")
        text = text.replace("\r", "\\x0d")
        return _UNSAFE.sub(_escape, text)
    text = _UNSAFE.sub(_escape, text)
    return _WS.sub(" ", text).strip()


def is_safe(text: str, *, multiline: bool = False) -> bool:
    """True when `text` holds nothing :func:`safe_text` would neutralise (used by tests): no
    control, bidi or separator character, no carriage return (it overwrites a line on a terminal;
    :func:`safe_text` leaves none), and single-line text no line break."""
    if _UNSAFE.search(text) or "\r" in text:
        return False
    return multiline or "\n" not in text


def safe_data(value: Any) -> Any:
    """A copy of a JSON-like structure with every string passed through :func:`safe_text`
    (keys included), for renderers that format nested data."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {safe_text(k): safe_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [safe_data(v) for v in value]
    return value


class SafeFormatter(logging.Formatter):
    """A logging formatter whose message part is one neutralised line (log injection, escapes).

    Tracebacks (``exc_info``, only logged when debugging) keep their lines but lose control
    characters.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging API
        record.message = safe_text(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging API
        return safe_text(super().formatException(ei), multiline=True)
