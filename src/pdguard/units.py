"""Durations (``8h``, ``90d``, ``1h30m``) and sizes (``4GiB``, ``512M``) in options and pdguard.yaml;
timestamps in snapshots, stored scans and Terraform files (:func:`parse_time`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from pdguard.errors import ConfigError

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)", re.IGNORECASE)
_SIZE_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgt])(?:i?b)?$", re.IGNORECASE)
_SIZE_UNITS = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_OFF = ("0", "none", "off", "unlimited")
# The longest duration accepted anywhere (100 years): beyond it, deadlines and ages fall outside
# what datetime, time_t and poll() can represent, and no interval, timeout or age means that much.
MAX_DURATION_SECONDS = 100 * 365 * 86400.0


def parse_duration(text: str | float | int, *, what: str = "interval", require_unit: bool = False) -> float:
    """"8h", "30m", "1s", "90" (seconds), "1h30m", "1.5h", "2w" -> seconds (> 0).

    With `require_unit`, a bare number is refused (an age of ``90`` is more likely meant as days
    than as seconds: ask instead of guessing)."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        if require_unit:
            raise ConfigError(f"invalid {what} '{text}': give a unit, e.g. 90d, 12h or 30m")
        seconds = float(text)
    else:
        s = str(text).strip().lower().replace(" ", "")
        if not s:
            raise ConfigError(f"empty {what} (use e.g. 8h, 30m, 90s{'' if require_unit else ' or 90'})")
        try:
            seconds = float(s)
        except ValueError:
            pos, seconds = 0, 0.0
            for m in _PART_RE.finditer(s):
                if m.start() != pos:
                    break
                seconds += float(m.group(1)) * _UNITS[m.group(2).lower()]
                pos = m.end()
            if pos != len(s):
                raise ConfigError(f"invalid {what} '{text}' (use e.g. 8h, 30m, 90d or 1h30m)") from None
        else:
            if require_unit:
                raise ConfigError(f"invalid {what} '{text}': give a unit, e.g. 90d, 12h or 30m")
    if not 0 < seconds < float("inf"):  # NaN is neither
        raise ConfigError(f"invalid {what} '{text}': it must be greater than zero")
    if seconds > MAX_DURATION_SECONDS:
        raise ConfigError(f"invalid {what} '{text}': at most 100 years (36500d)")
    return seconds


def check_timeout(seconds: float, what: str) -> float:
    """A timeout given as a number of seconds (``--timeout``, ``--opa-timeout``): finite, > 0 and
    at most :data:`MAX_DURATION_SECONDS`, else a one-line :class:`ConfigError` (exit 2)."""
    if not 0 < seconds <= MAX_DURATION_SECONDS:  # NaN fails every comparison
        raise ConfigError(f"{what} must be a positive number of seconds (at most 100 years), got {seconds}")
    return seconds


def parse_limit_seconds(text: str | float | int | None, *, what: str) -> float | None:
    """A time limit: a duration (bare numbers are seconds), or 0/none/off for no limit (None)."""
    if text is None or str(text).strip().lower() in _OFF:
        return None
    return parse_duration(text, what=what)


def parse_size(text: str | int | None, *, what: str) -> int | None:
    """``4GiB``, ``4G``, ``512MiB``, ``512m`` -> bytes (binary units); 0/none/off -> None (no limit)."""
    if text is None or str(text).strip().lower() in _OFF:
        return None
    if isinstance(text, int) and not isinstance(text, bool):
        raise ConfigError(f"invalid {what} '{text}': give a unit, e.g. 4GiB or 512MiB")
    m = _SIZE_RE.match(str(text).strip())
    if not m:
        raise ConfigError(f"invalid {what} '{text}' (use e.g. 4GiB, 512MiB or 'none')")
    value = int(float(m.group(1)) * _SIZE_UNITS[m.group(2).lower()])
    if value <= 0:
        raise ConfigError(f"invalid {what} '{text}': it must be greater than zero")
    return value


def format_size(n: int) -> str:
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} B"


def format_duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 / RFC 3339 timestamp (``Z``, ``z`` or an offset; one without an offset is taken
    as UTC) as an aware UTC datetime; None when `value` is not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)).astimezone(UTC)
