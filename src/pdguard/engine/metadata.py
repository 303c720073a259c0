"""Read a policy module's `# METADATA` block in Python (engines do not all support `rego.metadata.*`).

A block is a run of comment lines starting with `# METADATA`, YAML after the `# ` prefix, placed
directly above the `package` line (package-scoped annotations, as OPA defines them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from pdguard.errors import PolicyError
from pdguard.findings import SEVERITIES, PolicyInfo

_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][\w.]*(?:\[\"[^\"]+\"\])*)\s*$", re.M)
_RULE_HEAD = re.compile(r"^(deny|warn)\s*(?:contains|\[|:=|=|if|\{)", re.M)
_TEST_HEAD = re.compile(r"^(test_\w+)\b", re.M)
_METADATA = re.compile(r"^\s*#\s*METADATA\s*$", re.M)


@dataclass
class Module:
    path: str  # as given (display)
    text: str
    package: str
    package_line: int
    is_test: bool
    rules: tuple[str, ...]  # deny/warn entry points defined here
    tests: tuple[str, ...]  # test_* rules (test modules)
    info: PolicyInfo | None  # METADATA (policy modules)
    is_library: bool = False  # no deny/warn rules and no METADATA: a helper module (data.pdguard.lib)


def parse_module(path: str, text: str, docs_base: str | None = None) -> Module:
    m = _PACKAGE.search(text)
    if not m:
        raise PolicyError(f"{path}: no 'package' declaration")
    package = m.group(1)
    package_line = text.count("\n", 0, m.start()) + 1
    is_test = path.endswith("_test.rego") or package.endswith("_test")
    rules = tuple(sorted(set(_RULE_HEAD.findall(text))))
    tests = tuple(dict.fromkeys(_TEST_HEAD.findall(text))) if is_test else ()
    info = None
    is_library = not is_test and not rules and not _METADATA.search(text)
    if not is_test and not is_library:
        info = _parse_metadata(path, text, package, package_line, docs_base)
    return Module(path, text, package, package_line, is_test, rules, tests, info, is_library)


def _parse_metadata(path: str, text: str, package: str, package_line: int, docs_base: str | None) -> PolicyInfo:
    lines = text.splitlines()
    # Walk up from the package line over the contiguous comment block.
    i = package_line - 2
    block: list[str] = []
    while i >= 0 and lines[i].lstrip().startswith("#"):
        block.insert(0, lines[i])
        i -= 1
    start = next((k for k, ln in enumerate(block) if ln.strip().lstrip("#").strip() == "METADATA"), None)
    fallback_id = package.removeprefix("pdguard.")
    if start is None:
        return PolicyInfo(id=fallback_id, title=fallback_id, package=package, file=path)
    yaml_lines = []
    for ln in block[start + 1:]:
        s = ln.lstrip()[1:]  # drop '#'
        yaml_lines.append(s[1:] if s.startswith(" ") else s)
    try:
        meta = yaml.safe_load("\n".join(yaml_lines)) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = (package_line - len(block) + start + 1 + mark.line + 1) if mark else package_line
        raise PolicyError(f"{path}:{line}: invalid METADATA YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(meta, dict):
        raise PolicyError(f"{path}:{package_line}: METADATA must be a YAML mapping")
    custom = meta.get("custom") or {}
    if not isinstance(custom, dict):
        raise PolicyError(f"{path}:{package_line}: METADATA 'custom' must be a mapping")
    severity = str(custom.get("severity", "medium")).lower()
    if severity not in SEVERITIES:
        raise PolicyError(f"{path}:{package_line}: METADATA severity '{severity}' is not one of {', '.join(SEVERITIES)}")
    pid = str(custom.get("id") or fallback_id)
    docs = custom.get("docs_url") or (f"{docs_base}#{pid.lower()}" if docs_base else None)
    related = meta.get("related_resources") or []
    return PolicyInfo(
        id=pid,
        title=str(meta.get("title") or pid),
        description=" ".join(str(meta.get("description") or "").split()),
        severity=severity,
        remediation=str(custom.get("remediation") or "").strip(),
        docs_url=docs,
        package=package,
        file=path,
        tags=[str(t) for t in custom.get("tags") or []],
        enabled_by_default=bool(custom.get("enabled", True)),
        related_resources=[str(r.get("ref") if isinstance(r, dict) else r) for r in related],
    )
