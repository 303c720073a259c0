"""The interface every output format implements.

An output turns a :class:`pdguard.findings.Report` into text. Modules register themselves in
``FORMATS`` by name; ``get_output(name)`` imports lazily so that e.g. the SARIF module is not
loaded for a table-only run.
"""

from __future__ import annotations

import importlib
from typing import ClassVar, Protocol

from pdguard.errors import ConfigError
from pdguard.findings import Report

# name -> "module:Class"
FORMATS: dict[str, str] = {
    "table": "pdguard.output.table:TableOutput",
    "json": "pdguard.output.json:JSONOutput",
    "sarif": "pdguard.output.sarif:SarifOutput",
    "junit": "pdguard.output.junit:JUnitOutput",
    "markdown": "pdguard.output.markdown:MarkdownOutput",
    "html": "pdguard.output.html:HTMLOutput",
}


class Output(Protocol):
    name: ClassVar[str]

    def render(self, report: Report, *, color: bool = False) -> str:
        """Return the whole document for `report` (`color` only matters to the table)."""
        ...


def get_output(name: str) -> Output:
    try:
        target = FORMATS[name]
    except KeyError:
        raise ConfigError(f"unknown output format '{name}' (choose from {', '.join(FORMATS)})") from None
    module_name, cls_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    return cls()
