"""Read a policy module's `# METADATA` block in Python (engines do not all support `rego.metadata.*`).

A block is a run of comment lines starting with `# METADATA`, YAML after the `# ` prefix, placed
directly above the `package` line (package-scoped annotations, as OPA defines them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

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
    has_metadata: bool = True  # a policy module with a METADATA block above its package line


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
        info, has_metadata = _parse_metadata(path, text, package, package_line, docs_base)
        _check_deny_form(path, text)
    else:
        has_metadata = True
    return Module(path, text, package, package_line, is_test, rules, tests, info, is_library, has_metadata)


_V0_DENY = re.compile(r"^(deny|warn)\s*\[\s*(\w+)\s*\]\s*(\{|if\b)", re.M)
_SET_HEAD = re.compile(r"^(deny|warn)\s+contains\s+(\w+)\s+if\s*\{", re.M)
OBJECT_FORM = (
    'return an object per finding: `deny contains lib.finding(msg, "service", svc) if {...}` (import '
    'data.pdguard.lib), i.e. {"msg": msg, "resource": {"type": "service", "id": svc.id, "name": svc.name}}'
)


def _check_deny_form(path: str, text: str) -> None:
    """conftest-style rules (`deny[msg] {...}`, or a set of message strings) are refused at load with
    the object form pdguard needs."""
    m = _V0_DENY.search(text)
    if m:
        line = text.count("\n", 0, m.start()) + 1
        raise PolicyError(f"{path}:{line}: `{m.group(1)}[{m.group(2)}]` is conftest's Rego v0 form of a set of "
                          f"messages in Rego v0; pdguard reads Rego v1, and pdguard needs findings: {OBJECT_FORM}")
    for m in _SET_HEAD.finditer(text):
        var = m.group(2)
        body = text[m.end():]
        body = body[:_rule_end(body)]
        if re.search(rf"^\s*{var}\s*:?=\s*(sprintf\(|\"|`|concat\()", body, re.M):
            line = text.count("\n", 0, m.start()) + 1
            raise PolicyError(f"{path}:{line}: `{m.group(1)} contains {var}` builds a message string (conftest style); "
                              f"pdguard needs findings: {OBJECT_FORM}")


def _rule_end(body: str) -> int:
    """Where the rule body that `body` starts inside of ends (its closing brace at depth 0)."""
    depth = 1
    for i, ch in enumerate(body):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
    return len(body)


def _parse_metadata(path: str, text: str, package: str, package_line: int,
                    docs_base: str | None) -> tuple[PolicyInfo, bool]:
    """The policy's METADATA, and whether it has a block (else defaults from the package name)."""
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
        return PolicyInfo(id=fallback_id, title=fallback_id, package=package, file=path), False
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
    names, defaults = _settings(path, package_line, custom.get("settings"))
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
        settings=names,
        setting_defaults=defaults,
    ), True


_SETTING_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def _settings(path: str, line: int, value: Any) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """`custom.settings`: a list of the settings the policy reads, or a mapping that also declares
    them - name: default, or name: {default: ..., description: ...}."""
    if value is None:
        return [], {}
    where = f"{path}:{line}: METADATA custom.settings"
    if isinstance(value, list):
        items: dict[str, Any] = {str(v): None for v in value if isinstance(v, str)}
        if len(items) != len(value):
            raise PolicyError(f"{where} must list setting names (strings)")
    elif isinstance(value, dict):
        items = {str(k): v for k, v in value.items()}
    else:
        raise PolicyError(f"{where} must be a list of names or a mapping of name: default")
    defaults: dict[str, dict[str, Any]] = {}
    for name, decl in items.items():
        if not _SETTING_NAME.match(name):
            raise PolicyError(f"{where}: '{name}' is not a setting name (lower case letters, digits, _)")
        if isinstance(value, dict):
            if isinstance(decl, dict):
                if "default" not in decl or set(decl) - {"default", "description"}:
                    raise PolicyError(f"{where}.{name}: give {{default: ..., description: ...}} or the default itself")
                defaults[name] = {"default": decl["default"], "description": decl.get("description") or ""}
            else:
                defaults[name] = {"default": decl, "description": ""}
    return sorted(items), defaults
