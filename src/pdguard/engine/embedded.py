"""The embedded engine: regorus (PyPI `gordon-to-regorus`), in process, no server needed.

Facts this relies on (measured): in process, `set_input(dict)` beats `set_input_json`; in a forked
child, handing the document over as JSON text (`orjson`, parsed by `set_input_json`) beats
`set_input(dict)`, which would touch, and so copy, every page of the parent's document; sets of
objects must be read with `eval_rule_as_json`; an undefined rule is the string "<undefined>";
the compiled/RVM mode is not used (it returned a spurious member and stops at 25,000
instructions). Compiled policies are kept across evaluations: `prepare()` is skipped when the same
modules and data are given again.

Evaluation is ONE query (:func:`embedded_module`, beside the entry module both engines load): the
library's indexes are computed once and shared by every policy, as in OPA's one query of
`data.pdguard_entry.result` (evaluating package after package in separate queries recomputed them
per package: 1.5-1.8x the time at 1/10 size). Before each package the query calls the
`__pdguard_progress` extension, so Python knows which policy is being evaluated.

With :class:`~pdguard.engine.limits.EvalLimits` (what `make_engine` passes: `--eval-timeout`,
`--eval-memory`), evaluation runs in a forked child (see :mod:`pdguard.engine.limits`) that reports
that progress to the parent, and a limit hit names the policy package that was being evaluated.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Callable
from typing import Any

from pdguard.engine.base import ENTRY_PACKAGE, InputRef, TestResult, entry_module
from pdguard.engine.limits import EvalLimits, fork_available, run_limited
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


_UNDEFINED = '"<undefined>"'


def _document_json(doc: dict[str, Any]) -> bytes:
    try:
        import orjson

        return orjson.dumps(doc)
    except (ImportError, TypeError):
        return json.dumps(doc, separators=(",", ":"), default=str).encode("utf-8")


def _eval_json(eng: Any, rule: str) -> str:
    try:
        raw = eng.eval_rule_as_json(rule)
    except Exception as exc:
        raise EngineError(f"policy evaluation failed: {regorus_error(exc)}") from None
    return raw if isinstance(raw, str) else json.dumps(raw)


PROGRESS_EXTENSION = "__pdguard_progress"
EMBEDDED_PACKAGE = "pdguard_embedded"
EMBEDDED_RULE = f"data.{EMBEDDED_PACKAGE}.result"
_UNDEFINED_VALUE = "<undefined>"


def embedded_module(targets: list[Module]) -> str:
    """The embedded engine's query, `data.pdguard_embedded.result`: the entry module's `envelope`
    and, only when its `supported` holds, the `deny`/`warn` of every package, each package's rules
    evaluated right after `__pdguard_progress(package)` (object values are evaluated in order, a
    rule body before its head). An undefined rule comes back as "<undefined>", so the error names it."""
    fields, rules = [], []
    for i, m in enumerate(targets):
        fields.append(f"  {json.dumps(m.package)}: _p{i}")
        values = ", ".join(f'"{r}": _p{i}_{r}' for r in m.rules)
        rules.append(f"_p{i} := {{{values}}} if {PROGRESS_EXTENSION}({json.dumps(m.package)})")
        for r in m.rules:
            rules.append(f"_p{i}_{r} := data.{m.package}.{r}\n\ndefault _p{i}_{r} := {json.dumps(_UNDEFINED_VALUE)}")
    body = ",\n".join(fields)
    defs = "\n\n".join(rules)
    return f"""package {EMBEDDED_PACKAGE}

result := {{"envelope": data.{ENTRY_PACKAGE}.envelope, "results": results}}

results := {{
{body}
}} if data.{ENTRY_PACKAGE}.supported else := {{}}

{defs}
"""


def evaluate_query(eng: Any, prints: list[str] | None = None) -> bytes:
    """`{"result": {"envelope": …, "results": {package: {rule: value}}}, "prints": [line, …]}` as
    JSON text, assembled around regorus' own JSON (no decode/encode round trip in a child). A
    policy's print() lines are gathered (regorus would write them to stdout, into a JSON report)
    and returned; they are also appended to `prints`, also when the evaluation fails."""
    gathered: list[str] = [] if prints is None else prints
    eng.set_gather_prints(True)
    try:
        raw = _eval_json(eng, EMBEDDED_RULE)
    finally:
        gathered.extend(_prints(eng))
        eng.set_gather_prints(False)
    if raw == _UNDEFINED:
        raise EngineError("policy evaluation returned no result (is the input a JSON object?)")
    return f'{{"result":{raw},"prints":{json.dumps(gathered)}}}'.encode()


def _no_progress(_package: str) -> None:
    return None


def _emit_prints(lines: list[str]) -> None:
    for line in lines:
        print(f"pdguard: print: {line}", file=sys.stderr)


class EmbeddedEngine:
    name = "embedded"
    last_evaluation: dict[str, Any] | None = None

    def __init__(self, limits: EvalLimits | None = None) -> None:
        self._engine: Any = None
        self._key: str | None = None
        self.limits = limits or EvalLimits()
        self._progress: Callable[[str], None] = _no_progress

    def _on_progress(self, package: Any) -> bool:
        """The `__pdguard_progress` extension: the query is about to evaluate `package`."""
        self._progress(str(package))
        return True

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
        try:
            eng.add_extension(PROGRESS_EXTENSION, 1, self._on_progress)
        except Exception as exc:  # pragma: no cover - a regorus without extensions
            raise EngineError(f"the embedded engine cannot register its progress hook: {regorus_error(exc)}") from None
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
        eng = self._prepare(modules, [(f"{ENTRY_PACKAGE}.rego", entry_module(targets)),
                                      (f"{EMBEDDED_PACKAGE}.rego", embedded_module(targets))], data)
        where = input_ref.path or "snapshot"

        def load(text: bytes | None) -> None:
            try:
                if text is not None:
                    eng.set_input_json(text.decode("utf-8"))
                elif input_ref.doc is not None:
                    eng.set_input(input_ref.doc)
                else:
                    eng.set_input_from_json_file(str(input_ref.path))
            except Exception as exc:
                raise InputError(f"{where} is not a readable JSON snapshot: {regorus_error(exc)}") from None

        limited = self.limits.enabled and fork_available()
        if limited:
            text = _document_json(input_ref.doc) if input_ref.doc is not None else None
            by_package = {m.package: m for m in targets}

            def describe(package: str | None) -> str:
                m = by_package.get(package or "")
                if m is None:
                    return "loading the snapshot"
                return f"policy {m.info.id} ({m.path})" if m.info else f"policy package {m.package} ({m.path})"

            def work(progress: Callable[[str], None]) -> bytes:  # in the child
                self._progress = progress
                load(text)
                return evaluate_query(eng)

            raw = run_limited(work, self.limits, describe=describe)
        else:
            load(None)
            prints: list[str] = []
            try:
                raw = evaluate_query(eng, prints)
            finally:
                _emit_prints(prints)  # also those of an evaluation that failed
        parsed = json.loads(raw)
        if limited:  # the child's print() lines come back with its result
            _emit_prints(parsed.get("prints") or [])
        result = parsed.get("result")
        if not isinstance(result, dict) or not isinstance(result.get("envelope"), dict):
            raise EngineError("policy evaluation returned no result (is the input a JSON object?)")
        results = result.get("results")
        by_package = {m.package: m for m in targets}
        for package, rules in (results or {}).items():
            for rule, value in (rules or {}).items():
                if value == _UNDEFINED_VALUE:
                    where = by_package[package].path if package in by_package else package
                    raise EngineError(f"{where}: {rule} is undefined (expected a set of findings)")
        return {**result["envelope"], "results": results}

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
