"""The embedded engine: regorus (PyPI `gordon-to-regorus`), in process, no server needed.

Facts this relies on (measured): `set_input(dict)` beats `set_input_json`; sets of objects must be
read with `eval_rule_as_json`; an undefined rule is the string "<undefined>"; the compiled/RVM mode
is not used (it returned a spurious member and stops at 25,000 instructions). Compiled policies
are kept across evaluations: `prepare()` is skipped when the same modules and data are given again.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from typing import Any

from pdguard.engine.base import ENTRY_PACKAGE, ENTRY_RULE, InputRef, TestResult, entry_module
from pdguard.engine.metadata import Module
from pdguard.errors import EngineError, InputError, PolicyError

try:  # pragma: no cover - depends on the platform's glibc
    import regorus

    IMPORT_ERROR: str | None = None
except ImportError as exc:  # pragma: no cover
    regorus = None
    IMPORT_ERROR = str(exc).splitlines()[0] if str(exc) else "ImportError"

_LOC = re.compile(r"-->\s*(?P<file>[^\n]+?):(?P<line>\d+):(?P<col>\d+)")
_ERR = re.compile(r"^error:\s*(?P<msg>.+)$", re.M)


def regorus_error(exc: BaseException) -> str:
    """One line from a regorus error: `file:line:col: message` (the Rust backtrace dropped)."""
    text = str(exc).split("Stack backtrace")[0]
    loc = _LOC.search(text)
    err = _ERR.search(text)
    msg = err.group("msg").strip() if err else " ".join(text.split()) or type(exc).__name__
    if loc:
        return f"{loc.group('file')}:{loc.group('line')}:{loc.group('col')}: {msg}"
    return msg


def _require() -> Any:
    if regorus is None:
        raise EngineError(
            f"the embedded engine (regorus) cannot be imported here ({IMPORT_ERROR}); its wheels need "
            "glibc >= 2.34 — use an OPA server instead: --engine opa --opa-url http://localhost:8181"
        )
    return regorus


class EmbeddedEngine:
    name = "embedded"
    last_evaluation: dict[str, Any] | None = None

    def __init__(self) -> None:
        self._engine: Any = None
        self._key: str | None = None

    def _prepare(self, modules: list[Module], extra: list[tuple[str, str]], data: dict[str, Any]) -> Any:
        rg = _require()
        h = hashlib.sha256()
        for m in modules:
            h.update(m.path.encode())
            h.update(m.text.encode())
        for name, text in extra:
            h.update(name.encode())
            h.update(text.encode())
        h.update(json.dumps(data, sort_keys=True, default=str).encode())
        key = h.hexdigest()
        if self._engine is not None and key == self._key:
            return self._engine
        eng = rg.Engine()
        for m in modules:
            try:
                eng.add_policy(m.path, m.text)
            except Exception as exc:  # regorus raises RuntimeError with a Rust report
                raise PolicyError(f"invalid Rego: {regorus_error(exc)}") from None
        for name, text in extra:
            try:
                eng.add_policy(name, text)
            except Exception as exc:
                raise PolicyError(f"invalid Rego: {regorus_error(exc)}") from None
        eng.add_data(data)
        self._engine, self._key = eng, key
        return eng

    def evaluate(self, modules: list[Module], targets: list[Module], data: dict[str, Any],
                 input_ref: InputRef) -> dict[str, Any]:
        eng = self._prepare(modules, [(f"{ENTRY_PACKAGE}.rego", entry_module(targets))], data)
        try:
            if input_ref.doc is not None:
                eng.set_input(input_ref.doc)
            else:
                eng.set_input_from_json_file(str(input_ref.path))
        except Exception as exc:
            where = input_ref.path or "snapshot"
            raise InputError(f"{where} is not a readable JSON snapshot: {regorus_error(exc)}") from None
        # A policy's print() goes to stderr (regorus would write it to stdout, into a JSON report).
        eng.set_gather_prints(True)
        try:
            raw = eng.eval_rule_as_json(ENTRY_RULE)
        except Exception as exc:
            raise EngineError(f"policy evaluation failed: {regorus_error(exc)}") from None
        finally:
            for line in _prints(eng):
                print(f"pdguard: print: {line}", file=sys.stderr)
            eng.set_gather_prints(False)
        result = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(result, dict):
            raise EngineError("policy evaluation returned no result (is the input a JSON object?)")
        return result

    def query(self, modules: list[Module], data: dict[str, Any], input_ref: InputRef | None,
              query: str) -> dict[str, Any]:
        """One ad-hoc Rego query (`pdguard policy eval`): {"result": [{expressions, bindings?}...]},
        {} when undefined - the shape of OPA's /v1/query."""
        self._engine = None  # a fresh engine: no input left from an earlier evaluation
        eng = self._prepare(modules, [], data)
        if input_ref is not None:
            try:
                if input_ref.doc is not None:
                    eng.set_input(input_ref.doc)
                else:
                    eng.set_input_from_json_file(str(input_ref.path))
            except Exception as exc:
                raise InputError(f"{input_ref.path or 'input'} is not readable JSON: {regorus_error(exc)}") from None
        eng.set_gather_prints(True)
        try:
            raw = eng.eval_query_as_json(query)
        except Exception as exc:
            raise PolicyError(f"query: {regorus_error(exc)}") from None
        finally:
            for line in _prints(eng):
                print(f"pdguard: print: {line}", file=sys.stderr)
            eng.set_gather_prints(False)
            self._engine = None
        result = json.loads(raw) if isinstance(raw, str) else raw
        return result if isinstance(result, dict) else {}

    def run_tests(self, modules: list[Module], data: dict[str, Any]) -> list[TestResult]:
        eng = self._prepare(modules, [], data)
        # print() output of a failing test (e.g. data.pdguard.lib.testing's got/want) is shown with it.
        eng.set_gather_prints(True)
        out: list[TestResult] = []
        try:
            for m in modules:
                for t in m.tests:
                    eng.take_prints()
                    try:
                        value = eng.eval_rule(f"data.{m.package}.{t}")
                    except Exception as exc:
                        out.append(TestResult(m.package, t, m.path, False, regorus_error(exc), _prints(eng)))
                        continue
                    passed = value is True
                    error = None if passed else ("undefined" if value in (None, "<undefined>") else f"= {value!r}")
                    out.append(TestResult(m.package, t, m.path, passed, error, [] if passed else _prints(eng)))
        finally:
            eng.take_prints()
            eng.set_gather_prints(False)
        return out


def _prints(eng: Any) -> list[str]:
    try:
        return [str(line) for line in eng.take_prints()]
    except Exception:  # pragma: no cover - a regorus without print support
        return []
