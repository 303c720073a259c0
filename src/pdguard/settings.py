"""Policy settings: a typed schema (pydantic), `data.pdguard.config` for every policy.

Built-in settings are declared here with their type, default, bounds and meaning. A user policy
declares its own in its METADATA (`custom.settings`, a mapping of name -> default, or
name -> {default, description}); a policy lists the settings it reads (a list of names, or the
keys of that mapping). Which policies read a setting is derived from those lists, so
`pdguard config defaults` and the catalogue say it.

`pdguard.yaml`'s `settings:` are checked against the schema of the policies loaded: an unknown
key or a wrong type is a ConfigError (exit 2) naming the key - `min_escalation_levels: "3"` is
a string, not a number; a misspelt key is never silently ignored.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from pdguard.errors import ConfigError, PolicyError
from pdguard.textsafe import safe_text

JSON_KINDS: dict[type, str] = {bool: "boolean", int: "integer", float: "number", str: "string", list: "list"}


@dataclass(frozen=True)
class SettingSpec:
    """One setting of `data.pdguard.config`."""

    name: str
    kind: str  # integer | number | string | boolean | list
    default: Any
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None
    declared_by: str = "built-in"  # "built-in" or the policy file that declares it
    read_by: tuple[str, ...] = field(default=())  # policy ids, sorted


def _spec(name: str, kind: str, default: Any, description: str, minimum: float | None = None,
          maximum: float | None = None) -> SettingSpec:
    return SettingSpec(name, kind, default, description, minimum, maximum)


# The built-in settings, in the order `pdguard config defaults` prints them.
BUILTIN: dict[str, SettingSpec] = {s.name: s for s in (
    _spec("service_name_pattern", "string", "^[a-z0-9]+(-[a-z0-9]+)*$",
          "Regular expression (RE2) every service name must match."),
    _spec("required_team", "string", "",
          "When set, every service must belong to this team (id or name); empty: any team."),
    _spec("disabled_service_max_age_days", "integer", 30,
          "A disabled or maintenance service quiet (no incident) for more than this many days is reported.", 0),
    _spec("stale_service_days", "integer", 90,
          "An active service with no incident for more than this many days is stale.", 1),
    _spec("min_escalation_levels", "integer", 2,
          "Minimum number of unique escalation levels (levels that page someone new).", 1),
    _spec("min_schedule_coverage_percent", "number", 100,
          "Minimum rendered coverage of a schedule, in percent.", 0, 100),
    _spec("incident_ack_max_minutes", "integer", 30,
          "A high-urgency incident triggered (unacknowledged) longer than this many minutes is reported.", 1),
    _spec("incident_open_max_hours", "integer", 24,
          "A high-urgency incident open (not resolved) longer than this many hours is reported.", 1),
    _spec("min_team_members", "integer", 1, "Minimum members of a team.", 0),
    _spec("min_schedule_users", "integer", 2,
          "Minimum distinct users in the current layers of a schedule.", 1),
    _spec("noisy_service_incidents", "integer", 10,
          "A service that opened at least this many incidents in the last noisy_service_window_days days is noisy.", 1),
    _spec("noisy_service_window_days", "integer", 7,
          "The days over which a service's incidents are counted to tell whether it is noisy.", 1),
)}

# Settings holding a regular expression the policies give Rego's regex.match (RE2 syntax): checked
# when the configuration is loaded, not when a policy first evaluates it.
REGEX_SETTINGS: frozenset[str] = frozenset({"service_name_pattern"})

# Constructs of other regex dialects (PCRE, Python `re`) that RE2 does not have.
_NOT_RE2: tuple[tuple[str, str], ...] = (
    ("(?<=", "a lookbehind"), ("(?<!", "a negative lookbehind"), ("(?=", "a lookahead"),
    ("(?!", "a negative lookahead"), ("(?>", "an atomic group"), ("(?P=", "a named backreference"),
    ("(?(", "a conditional"), ("(?#", "a comment group"),
)

_PY_TYPES: dict[str, Any] = {
    "integer": int, "number": int | float, "string": str, "boolean": bool, "list": list[Any],
}


def kind_of(value: Any) -> str | None:
    """The setting kind of a default value (bool before int: a bool is an int in Python)."""
    for py, kind in JSON_KINDS.items():
        if type(value) is py:
            return kind
    return None


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"


def declarations(infos: list[Any]) -> dict[str, SettingSpec]:
    """The schema of a policy set: the built-in settings and those its policies declare, each with
    the ids of the policies that read it. Raises PolicyError for a conflicting declaration, or a
    setting a policy lists but nobody declares."""
    specs: dict[str, SettingSpec] = dict(BUILTIN)
    readers: dict[str, set[str]] = {name: set() for name in specs}
    for info in infos:
        for name, decl in (getattr(info, "setting_defaults", None) or {}).items():
            where = f"{info.file}: METADATA custom.settings.{name}"
            if name in BUILTIN:
                raise PolicyError(f"{where}: '{name}' is a built-in setting: list it without a default")
            default = decl.get("default")
            kind = kind_of(default)
            if kind is None:
                raise PolicyError(f"{where}: the default must be a boolean, number, string or list, not "
                                  f"{_describe(default)}")
            if isinstance(default, float) and not math.isfinite(default):
                raise PolicyError(f"{where}: the default must be a finite number")
            spec = SettingSpec(name, kind, default, str(decl.get("description") or ""), declared_by=info.file)
            known = specs.get(name)
            if known is not None and (known.kind, known.default) != (spec.kind, spec.default):
                raise PolicyError(f"{where}: also declared by {known.declared_by} with the default {known.default!r}")
            specs.setdefault(name, spec)
            readers.setdefault(name, set())
    for info in infos:
        for name in getattr(info, "settings", None) or []:
            if name not in specs:
                raise PolicyError(f"{info.file}: METADATA custom.settings lists '{name}', which no policy declares: "
                                  f"give it a default ({name}: <default>)")
            readers[name].add(info.id)
    return {name: SettingSpec(s.name, s.kind, s.default, s.description, s.minimum, s.maximum, s.declared_by,
                              tuple(sorted(readers.get(name, ())))) for name, s in specs.items()}


def _model(specs: dict[str, SettingSpec]) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for name, s in specs.items():
        fields[name] = (_PY_TYPES[s.kind], Field(default=s.default, ge=s.minimum, le=s.maximum))
    return create_model("PolicySettings", __config__=ConfigDict(strict=True, extra="forbid", allow_inf_nan=False),
                        **fields)


def _message(err: dict[str, Any], specs: dict[str, SettingSpec]) -> str:
    name = str(err["loc"][0]) if err.get("loc") else "?"
    value = err.get("input")
    if err["type"] == "extra_forbidden":
        close = difflib.get_close_matches(name, list(specs), n=1)
        hint = f" (did you mean {close[0]}?)" if close else (
            " (a user policy declares its own in METADATA custom.settings)")
        return f"settings.{name}: unknown setting{hint}"
    spec = specs.get(name)
    if spec is not None and (err["type"].endswith("_type") or err["type"] == "finite_number"):
        want = {"integer": "an integer", "number": "a number", "string": "a string", "boolean": "true or false",
                "list": "a list"}[spec.kind]
        return f"settings.{name}: expected {want}, got {_describe(value)}"
    return f"settings.{name}: {err['msg'].lower()}, got {_describe(value)}"


def _re2_structure(pattern: str) -> str | None:
    """What makes `pattern` certainly not RE2 (a dialect's construct RE2 lacks, a backreference,
    an unbalanced group or class, a trailing backslash), else None. Conservative: it refuses
    nothing RE2 accepts; the engine's own check (:func:`regex_problem`) decides the rest."""
    i, n, depth = 0, len(pattern), 0
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                return "it ends with a lone backslash"
            nxt = pattern[i + 1]
            octal = i + 2 < n and pattern[i + 2] in "01234567"  # \12: an octal code in Go's RE2
            if nxt in "89" or (nxt in "1234567" and not octal):
                return f"a backreference (\\{nxt}) is not RE2 syntax"
            if nxt == "Q":  # \Q...\E: literal text
                end = pattern.find("\\E", i + 2)
                i = n if end < 0 else end + 2
                continue
            i += 2
            continue
        if c == "[":
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":  # a leading ] is literal
                j += 1
            while j < n and pattern[j] != "]":
                if pattern[j] == "\\":
                    j += 2
                    continue
                if pattern.startswith("[:", j) and (k := pattern.find(":]", j + 2)) >= 0:
                    j = k + 2
                    continue
                j += 1
            if j >= n:
                return "a character class [ is not closed"
            i = j + 1
            continue
        if c == "(":
            for token, what in _NOT_RE2:
                if pattern.startswith(token, i):
                    return f"{what} {token} is not RE2 syntax"
            depth += 1
        elif c == ")":
            if depth == 0:
                return "a ) closes no group"
            depth -= 1
        i += 1
    return "a group ( is not closed" if depth else None


@lru_cache(maxsize=64)
def _engine_accepts(pattern: str) -> bool | None:
    """The embedded engine's own verdict (`regex.is_valid`, what the policies' regex.match reads);
    None when regorus cannot be imported or answer here."""
    try:
        import regorus
    except ImportError:  # pragma: no cover - depends on the platform's glibc
        return None
    try:
        engine = regorus.Engine()
        engine.set_input({"pattern": pattern})
        result = engine.eval_query("valid = regex.is_valid(input.pattern)")
        return bool(result["result"][0]["bindings"]["valid"])
    except Exception:  # pragma: no cover - an engine without regex.is_valid: the structural check decides
        return None


def regex_problem(pattern: str) -> str | None:
    """Why `pattern` is not a regular expression Rego's regex.match accepts (RE2 syntax), else None:
    the embedded engine (regorus) decides, after a structural check that names the usual causes
    (and is all there is where regorus cannot be imported)."""
    why = _re2_structure(pattern)
    if why is None and _engine_accepts(pattern) is False:
        why = "the policy engine's regex.is_valid rejects it"
    if why is None:
        return None
    # as written (repr would double every backslash of a regex), control characters made visible
    return f"'{safe_text(pattern)}' is not a valid regular expression (RE2 syntax, what Rego's regex.match reads): {why}"


def validate(raw: dict[str, Any], specs: dict[str, SettingSpec], where: str = "pdguard.yaml") -> dict[str, Any]:
    """The settings document (`data.pdguard.config`): defaults overlaid with `raw`, checked
    against `specs`. Raises ConfigError naming the first bad key."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: settings must be a mapping")
    try:
        model = _model(specs).model_validate(raw)
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: str(e.get("loc")))
        raise ConfigError(f"{where}: {_message(errors[0], specs)}") from None
    values = model.model_dump()
    for name in sorted(REGEX_SETTINGS & raw.keys() & specs.keys()):  # the defaults are valid
        problem = regex_problem(values[name])
        if problem is not None:
            raise ConfigError(f"{where}: settings.{name}: {problem}")
    return {name: values[name] for name in specs}


def check_known_types(raw: Any, where: str = "pdguard.yaml") -> None:
    """At config load: the built-in settings given have the right type (unknown keys are checked
    once the policies, which may declare their own, are loaded)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: settings must be a mapping")
    validate({k: v for k, v in raw.items() if k in BUILTIN}, BUILTIN, where)
