"""OPA bundles of pdguard's policies: `pdguard policy bundle`, and the revision both sides agree on.

A bundle (https://www.openpolicyagent.org/docs/management-bundles) is a gzipped tarball:

- `.manifest`: `revision` (the content revision below), `roots` (the `pdguard` namespace, the
  entry package `pdguard_entry`, and the packages of user policies outside `pdguard`),
  `rego_version: 1`, and `metadata.pdguard` (pdguard version, entry point, policy ids);
- every policy module (tests excluded) at the path it was loaded from (built-ins under `policies/`);
- `pdguard_entry.rego`: the generated entry module (`pdguard.engine.base.entry_module`) for the
  policies `pdguard.yaml` enables;
- `data.json`: `{"pdguard": {"config": ...}}`, the settings policies read as `data.pdguard.config`;
- with a signing key, `.signatures.json`: one JWT (RS256 or HS256) over the SHA-256 of every other
  file, as OPA's bundle signing defines it (structured files hashed in canonical form), which
  `opa run --verification-key` checks before it activates the bundle.

The revision is a hash of what decides the findings — the policy texts, the entry module and the
config data — and not of file names or archive bytes, so `check --engine opa --opa-preloaded` can
compute it from the local checkout and refuse a sidecar that runs something else.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import io
import json
import os
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from pdguard import __version__
from pdguard.engine.base import ENTRY_PACKAGE, ENTRY_RULE, entry_module
from pdguard.engine.metadata import Module
from pdguard.errors import ConfigError

REVISION_FORMAT = b"pdguard-bundle/1\n"
ENTRY_FILE = f"{ENTRY_PACKAGE}.rego"
SIGNING_ALGS = ("RS256", "HS256")
SIGNATURES_FILE = ".signatures.json"
_SEGMENT = re.compile(r'\["((?:[^"\\]|\\.)*)"\]|([A-Za-z_][A-Za-z0-9_]*)')


def config_data(settings: dict[str, Any]) -> dict[str, Any]:
    """The data document policies read: `data.pdguard.config`."""
    return {"pdguard": {"config": settings}}


def _canonical_json(value: Any, *, allow_nan: bool = True) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=allow_nan).encode("utf-8")


def policy_revision(policies: list[Module], entry: str, data: dict[str, Any]) -> str:
    """Content revision of a policy set: the policy texts (in any order, wherever they live), the
    entry module and the config data. Equal revisions evaluate identically."""
    h = hashlib.sha256(REVISION_FORMAT)
    for digest in sorted(hashlib.sha256(m.text.encode("utf-8")).hexdigest() for m in policies):
        h.update(digest.encode() + b"\n")
    h.update(hashlib.sha256(entry.encode("utf-8")).hexdigest().encode() + b"\n")
    h.update(hashlib.sha256(_canonical_json(data)).hexdigest().encode() + b"\n")
    return h.hexdigest()


def package_path(package: str) -> list[str]:
    """`pdguard.services.naming` -> ["pdguard", "services", "naming"]; `a["b.c"]` -> ["a", "b.c"]."""
    return [quoted if quoted else plain for quoted, plain in _SEGMENT.findall(package)]


def bundle_roots(policies: list[Module]) -> list[str]:
    """The smallest set of roots covering pdguard's namespace, the entry package and user packages."""
    candidates = [["pdguard"], [ENTRY_PACKAGE]] + [package_path(m.package) for m in policies]
    roots: list[list[str]] = []
    for path in sorted(candidates, key=len):
        if not any(path[: len(r)] == r for r in roots):
            roots.append(path)
    return sorted("/".join(r) for r in roots)


def _archive_path(m: Module, taken: set[str]) -> str:
    """The module's path as loaded (built-ins: `policies/<area>/<name>.rego`), made relative."""
    parts = [p for p in PurePosixPath(m.path.replace("\\", "/")).parts if p not in ("", ".", "..", "/")]
    rel = "/".join(parts) or "policy.rego"
    path, n = rel, 1
    while path in taken:
        n += 1
        path = f"{n}/{rel}"
    taken.add(path)
    return path


@dataclass
class Bundle:
    files: list[tuple[str, bytes]]  # archive path -> content, in archive order (signatures excluded)
    revision: str
    roots: list[str]


def build_bundle(policies: list[Module], targets: list[Module], settings: dict[str, Any]) -> Bundle:
    entry = entry_module(targets)
    data = config_data(settings)
    revision = policy_revision(policies, entry, data)
    roots = bundle_roots(policies)
    manifest = {
        "revision": revision,
        "roots": roots,
        "rego_version": 1,
        "metadata": {"pdguard": {"version": __version__, "entrypoint": ENTRY_RULE,
                                 "policies": sorted(m.info.id for m in targets if m.info)}},
    }
    try:
        data_json = _canonical_json(data, allow_nan=False)
    except ValueError:
        raise ConfigError("pdguard.yaml settings: NaN and infinite numbers have no JSON form for OPA") from None
    files: list[tuple[str, bytes]] = [(".manifest", _canonical_json(manifest) + b"\n"),
                                      ("data.json", data_json + b"\n"),
                                      (ENTRY_FILE, entry.encode("utf-8"))]
    taken = {name for name, _ in files}
    for m in policies:
        files.append((_archive_path(m, taken), m.text.encode("utf-8")))
    return Bundle(files, revision, roots)


# -- signing (OPA's format: https://www.openpolicyagent.org/docs/management-bundles#signing) ---


class _Number(str):
    """A JSON number kept as its literal text (OPA's hasher sees json.Number, not a float)."""


def _go_string(s: str) -> str:
    """A string as Go's encoding/json writes it with SetEscapeHTML(false) (OPA's hasher)."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif o < 0x20:
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}.get(ch, f"\\u{o:04x}"))
        elif ch in "\u2028\u2029":
            out.append(f"\\u{o:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _walk(value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        out.append("{")
        for i, key in enumerate(sorted(value)):
            if i:
                out.append(",")
            out.append(_go_string(key))
            out.append(":")
            _walk(value[key], out)
        out.append("}")
    elif isinstance(value, list):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _walk(item, out)
        out.append("]")
    elif isinstance(value, _Number):
        out.append(str.__str__(value))
    elif isinstance(value, str):
        out.append(_go_string(value))
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif value is None:
        out.append("null")
    else:  # pragma: no cover - json.loads gives nothing else
        raise TypeError(type(value).__name__)


def file_digest(name: str, content: bytes) -> str:
    """SHA-256 of a bundle file as OPA verifies it: `.manifest`, `data.json` (and `data.yaml`) are
    hashed in canonical form (keys sorted, no whitespace, numbers as written); others byte for byte."""
    if PurePosixPath(name).name in (".manifest", "data.json"):
        value = json.loads(content.decode("utf-8"), parse_int=_Number, parse_float=_Number, parse_constant=_Number)
        parts: list[str] = []
        _walk(value, parts)
        content = "".join(parts).encode("utf-8")
    return hashlib.sha256(content).hexdigest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def read_signing_key(key: str) -> bytes:
    """Like `opa build --signing-key`: PEM text, a path to a file, or (HS256) the secret itself."""
    if not key:
        raise ConfigError("--signing-key is empty (an unset variable?): refusing to write an unsigned bundle")
    if key.startswith("-----BEGIN"):
        return key.encode("utf-8")
    path = Path(key)
    try:
        if path.is_file():
            return path.read_bytes()
    except OSError:
        pass
    return key.encode("utf-8")


def sign(files: list[tuple[str, bytes]], key: bytes, alg: str, key_id: str = "default") -> str:
    """The JWT of `.signatures.json`: `{"files": [{name, hash, algorithm}]}` signed with `alg`."""
    if alg not in SIGNING_ALGS:
        raise ConfigError(f"--signing-alg {alg}: choose one of {', '.join(SIGNING_ALGS)}")
    header = {"alg": alg, "kid": key_id, "typ": "JWT"}
    payload = {"files": [{"name": name, "hash": file_digest(name, content), "algorithm": "SHA-256"}
                         for name, content in files]}
    signing_input = f"{_b64(_canonical_json(header))}.{_b64(_canonical_json(payload))}".encode("ascii")
    if alg == "HS256":
        if not key:
            raise ConfigError("the HS256 signing secret is empty")  # e.g. an empty key file
        signature = hmac.new(key, signing_input, hashlib.sha256).digest()
    else:
        signature = _rs256(key, signing_input)
    return f"{signing_input.decode('ascii')}.{_b64(signature)}"


def _rs256(key: bytes, message: bytes) -> bytes:
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa
    except ImportError:
        raise ConfigError("RS256 signing needs the 'cryptography' package: pip install 'pdguard[signing]'") from None
    if not key.lstrip().startswith(b"-----BEGIN"):
        raise ConfigError("the RS256 signing key must be a PEM file (or PEM text) holding an RSA private key")
    try:
        private = serialization.load_pem_private_key(key, password=None)
    except TypeError:
        raise ConfigError("the RS256 signing key is encrypted: give an unencrypted PEM private key") from None
    except ValueError:
        raise ConfigError("the RS256 signing key is not a readable PEM private key") from None
    if not isinstance(private, rsa.RSAPrivateKey):
        raise ConfigError("the RS256 signing key is not an RSA private key")
    return private.sign(message, padding.PKCS1v15(), hashes.SHA256())


def write_bundle(path: str | os.PathLike[str], bundle: Bundle, *, signing_key: bytes | None = None,
                 signing_alg: str = "RS256") -> None:
    """Write the bundle as a reproducible .tar.gz (fixed mtimes and owners) with
    :func:`pdguard.fileout.write_output` (atomic, through symlinks, a device written in place)."""
    from pdguard.fileout import write_output

    files = list(bundle.files)
    if signing_key is not None:
        token = sign(files, signing_key, signing_alg)
        files.append((SIGNATURES_FILE, json.dumps({"signatures": [token]}, indent=1).encode("utf-8") + b"\n"))
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for name, content in files:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(content), 0o644, 0
            tar.addfile(info, io.BytesIO(content))
    write_output(path, raw.getvalue(), what="OPA bundle")
    if os.path.isfile(path):  # nothing secret inside; the sidecar may run as another user (never chmod a device)
        os.chmod(path, 0o644)
