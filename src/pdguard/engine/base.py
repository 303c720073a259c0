"""The contract both engines implement, and the entry module they both evaluate.

Evaluation is ONE query of a generated module, `data.pdguard_entry.result`, which returns the
snapshot envelope (schema_version, meta, collection shapes) and, per enabled policy package, its
`deny`/`warn` sets. Both engines load the same policy text and the same generated entry module,
so the same policies and input give the same results on either.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pdguard.engine.metadata import Module
from pdguard.snapshot import COLLECTIONS, SCHEMA_MAJOR

ENTRY_PACKAGE = "pdguard_entry"
ENTRY_RULE = f"data.{ENTRY_PACKAGE}.result"


def entry_module(targets: list[Module]) -> str:
    """`result` (envelope + every package's deny/warn: what OPA evaluates in one query), and the
    `envelope` and `supported` it is built from (the embedded engine's own query module,
    :func:`pdguard.engine.embedded.embedded_module`, builds on those two)."""
    parts = []
    for m in targets:
        rules = ", ".join(f'"{r}": data.{m.package}.{r}' for r in m.rules)
        parts.append(f'  "{m.package}": {{{rules}}}')
    results = ",\n".join(parts)
    collections = json.dumps(list(COLLECTIONS))
    envelope = f"""  "schema_version": object.get(input, "schema_version", null),
  "meta": object.get(input, "meta", null),
  "iac": object.get(input, "iac", null),
  "not_lists": [k | some k in {collections}; not is_array(object.get(input, k, []))],"""
    # Policies are evaluated only over a snapshot of the schema they are written for: another
    # major version gives no results, and Python turns its schema_version into a one-line error.
    return f"""package {ENTRY_PACKAGE}

envelope := {{
{envelope}
}}

result := {{
{envelope}
  "results": results,
}}

supported if {{
  is_string(input.schema_version)
  split(input.schema_version, ".")[0] == "{SCHEMA_MAJOR}"
}}

results := {{
{results}
}} if supported else := {{}}
"""


@dataclass
class InputRef:
    """The snapshot to evaluate: an in-memory document or a JSON file (read by the engine)."""

    doc: dict[str, Any] | None = None
    path: Path | None = None

    def chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        """The document as JSON text, in pieces: a file is read `size` bytes at a time (a request
        body streamed from it never holds the whole snapshot in memory); a document is dumped once."""
        if self.doc is not None:
            yield json.dumps(self.doc, separators=(",", ":")).encode("utf-8")
            return
        assert self.path is not None
        with open(self.path, "rb") as fh:
            while chunk := fh.read(size):
                yield chunk


@dataclass
class TestResult:
    package: str
    name: str
    file: str
    passed: bool
    error: str | None = None
    output: list[str] = field(default_factory=list)  # print() lines of a failing test


class Engine(Protocol):
    name: str
    # What the last evaluate() can tell about itself for the report's meta.evaluation
    # (OPA: server URL, bundle and revision, decision_id); None when there is nothing to add.
    last_evaluation: dict[str, Any] | None

    def evaluate(self, modules: list[Module], targets: list[Module], data: dict[str, Any],
                 input_ref: InputRef) -> dict[str, Any]:
        """Return the entry result: {schema_version, meta, not_lists, results: {package: {deny, warn}}}."""
        ...

    def run_tests(self, modules: list[Module], data: dict[str, Any]) -> list[TestResult]:
        ...

    def query(self, modules: list[Module], data: dict[str, Any], input_ref: InputRef | None,
              query: str) -> dict[str, Any]:
        """An ad-hoc query: {"result": [{"expressions": [{"value", "text"}], "bindings"?}]}, {} if undefined."""
        ...
