"""Find and read policy files: the built-in library plus user `--policy` paths."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from pdguard.engine.metadata import Module, parse_module
from pdguard.errors import PolicyError
from pdguard.findings import PolicyInfo
from pdguard.settings import declarations

DOCS_BASE = "https://github.com/pdguard/pdguard/blob/main/policies/README.md"


def builtin_policy_dir() -> Path:
    """The built-in library: `policies/` of a source checkout, or the copy inside the package."""
    here = Path(__file__).resolve().parent.parent  # src/pdguard
    for candidate in (here / "builtin_policies", here.parent.parent / "policies"):
        if candidate.is_dir() and any(candidate.rglob("*.rego")):
            return candidate
    raise PolicyError("the built-in policy library is missing from this installation (reinstall pdguard)")


LIBRARY_DIR = "lib"  # policies/lib: the Rego library (data.pdguard.lib), loaded for every policy set


@dataclass
class PolicySet:
    modules: list[Module] = field(default_factory=list)
    # what a policy author should fix but that does not stop evaluation (one line each)
    warnings: list[str] = field(default_factory=list)

    @property
    def policies(self) -> list[Module]:
        """Policy modules: deny/warn rules (or a METADATA block) - what is evaluated and catalogued."""
        return [m for m in self.modules if not m.is_test and not m.is_library]

    @property
    def libraries(self) -> list[Module]:
        """Helper modules without deny/warn rules (data.pdguard.lib and users' own helpers)."""
        return [m for m in self.modules if m.is_library]

    @property
    def sources(self) -> list[Module]:
        """Every non-test module: what an engine loads to evaluate the policies."""
        return [m for m in self.modules if not m.is_test]

    @property
    def tests(self) -> list[Module]:
        return [m for m in self.modules if m.is_test]

    def infos(self) -> list[PolicyInfo]:
        return [m.info for m in self.policies if m.info is not None]


def _rego_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root] if root.suffix == ".rego" else []
    return sorted(p for p in root.rglob("*.rego") if p.is_file())


def load_policies(paths: list[str] | None = None, *, builtin: bool = True, tests: bool = False) -> PolicySet:
    """The built-in library (unless `builtin` is false) plus `paths`.

    The Rego library `data.pdguard.lib` (policies/lib) is always loaded: user policies build on
    it also with --no-builtin.
    """
    builtin_dir = builtin_policy_dir()
    roots: list[tuple[Path, str | None]] = []
    if builtin:
        roots.append((builtin_dir, "policies"))
    for p in paths or []:
        path = Path(p)
        if not path.exists():
            raise PolicyError(f"policy path not found: {p}")
        roots.append((path, None))
    if not roots:
        raise PolicyError("no policies to evaluate (--no-builtin given and no --policy path)")
    if not builtin:
        roots.insert(0, (builtin_dir / LIBRARY_DIR, f"policies/{LIBRARY_DIR}"))
    seen_files: set[Path] = set()
    modules: list[Module] = []
    for root, display_root in roots:
        files = _rego_files(root)
        if not files and root.is_dir():
            raise PolicyError(f"no .rego files under {root}")
        library_root = display_root is not None and display_root.endswith(f"/{LIBRARY_DIR}")
        for f in files:
            is_test = f.name.endswith("_test.rego")
            if is_test and (library_root or not tests):
                continue
            real = f.resolve()
            if real in seen_files:
                continue
            seen_files.add(real)
            if display_root is not None:
                rel = f.relative_to(root) if root.is_dir() else Path(f.name)
                display = f"{display_root}/{rel.as_posix()}"
            else:
                display = os.path.relpath(f) if not os.path.isabs(str(f)) else str(f)
            try:
                text = f.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise PolicyError(f"cannot read policy {display}: {exc}") from None
            modules.append(parse_module(display, text, DOCS_BASE if display_root else None))
    # Libraries first: an OPA server compiles each module as it is uploaded, against those before it.
    modules.sort(key=lambda m: not m.is_library)
    ids: dict[str, str] = {}
    packages: dict[str, str] = {}
    for m in modules:
        if m.is_test or m.is_library:
            continue
        if m.info and m.rules:
            if m.package in packages:
                raise PolicyError(f"{m.path}: package {m.package} also has deny/warn rules in {packages[m.package]}")
            packages[m.package] = m.path
            if m.info.id in ids:
                raise PolicyError(f"{m.path}: policy id {m.info.id} is also used by {ids[m.info.id]}")
            ids[m.info.id] = m.path
    ps = PolicySet(modules)
    declarations(ps.infos())  # conflicting or missing setting declarations fail at load
    ps.warnings = authoring_warnings(ps)
    return ps


_READS_SETTING = re.compile(r"""(?:lib\.setting\(\s*"(\w+)"\s*\)|data\.pdguard\.config(?:\.(\w+)|\[\s*"(\w+)"\s*\]))""")


def settings_read(text: str) -> set[str]:
    """The settings a module's text reads directly (lib.setting("x"), data.pdguard.config.x)."""
    return {next(g for g in m.groups() if g) for m in _READS_SETTING.finditer(text)}


def authoring_warnings(ps: PolicySet) -> list[str]:
    """A policy without METADATA; a policy reading a setting it does not list in METADATA."""
    out = []
    for m in ps.policies:
        if not m.has_metadata:
            out.append(f"{m.path}:{m.package_line}: policy package {m.package} has no # METADATA block above "
                       f"its package line: it is reported as id {m.info.id if m.info else m.package}, severity "
                       "medium, without title, description or remediation (add # METADATA with title, "
                       "description and custom: id, severity, remediation)")
        if m.info is None:
            continue
        missing = sorted(settings_read(m.text) - set(m.info.settings))
        if missing:
            out.append(f"{m.path}: policy {m.info.id} reads the setting(s) {', '.join(missing)} without listing "
                       "them in METADATA custom.settings (a list of names, or name: default to declare one)")
    return out
