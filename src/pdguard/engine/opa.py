"""The OPA engine: an OPA server (the docker-compose sidecar, or any reachable OPA) over its REST API.

Uses `opa-python-client` with its pitfalls handled:
- its default request timeout is 1.5 s (a 60 MB input needs ~6 s): pdguard passes its own (60 s default);
- its policy upload defaults to `rego_compat=True`, which silently rewrites policy text on a parse
  error: pdguard always uploads with `rego_compat=False`, so OPA sees exactly the files pdguard read;
- its query helper takes a dict and serialises it again: the snapshot is posted as the bytes already
  on disk through pdguard's own requests session (same TLS settings and token);
- it imports aiohttp (~0.15 s): it is only loaded to upload policies, never in --opa-preloaded mode.
An undefined result, an OPA error, a timeout or an unreachable server is an EngineError (exit 2) —
never an empty, passing result.

Two ways to give OPA the policies:
- upload (default): PUT every policy module, the entry module and `data.pdguard.config`, then query;
- `--opa-preloaded`: the server was started with `pdguard policy bundle`'s bundle and pdguard only
  sends the query (`POST /v1/data/pdguard_entry/result?provenance`), so an OPA whose authorization
  policy allows nothing else works. OPA's provenance names the bundles it runs and their revisions;
  one must be the revision of the local policies and settings (`pdguard.engine.bundle.policy_revision`),
  else exit 2 with the command that fixes it. The bundle, its revision and OPA's `decision_id` go to
  the report's `meta.evaluation`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import requests

from pdguard.engine.base import ENTRY_PACKAGE, ENTRY_RULE, InputRef, TestResult, entry_module
from pdguard.engine.bundle import policy_revision
from pdguard.engine.metadata import Module
from pdguard.errors import EngineError, PolicyError


def _with_input(head: bytes, input_ref: InputRef) -> Iterator[bytes]:
    """`head` + `"input":<the snapshot>}` as a streamed request body: the snapshot is sent from its
    file piece by piece, never copied whole into one more buffer (a full-size snapshot is ~70 MB)."""
    yield head + b'"input":'
    yield from input_ref.chunks()
    yield b"}"


def _opa_errors(body: Any) -> str:
    if not isinstance(body, dict):
        return str(body)[:200]
    errs = body.get("errors") or []
    if errs and isinstance(errs[0], dict):
        e = errs[0]
        loc = e.get("location") or {}
        where = f"{loc.get('file')}:{loc.get('row')}:{loc.get('col')}: " if loc.get("file") else ""
        return f"{where}{e.get('message') or e.get('code')}"
    return str(body.get("message") or body.get("code") or body)[:300]


class OpaEngine:
    name = "opa"

    def __init__(self, url: str, *, token: str | None = None, timeout: float = 60.0, ca_cert: str | None = None,
                 insecure: bool = False, preloaded: bool = False, ready_timeout: float = 10.0) -> None:
        parsed = urlparse(url if "://" in url else f"http://{url}")
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise EngineError(f"invalid OPA URL '{url}' (expected http(s)://host:port)")
        self.host, self.ssl = parsed.hostname, parsed.scheme == "https"
        self.port = parsed.port or (443 if self.ssl else 8181)
        self.url = f"{parsed.scheme}://{self.host}:{self.port}"
        self.root_url = f"{self.url}/v1"
        self.preloaded = preloaded
        self.timeout = timeout
        self.ready_timeout = ready_timeout
        self.token = token
        # Health checks and queries: one plain session (token, TLS). The upload client
        # (opa-python-client, which imports aiohttp: ~0.15 s) is only built when uploading.
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        if self.ssl:
            self.session.verify = ca_cert or (not insecure)
        self._client: Any = None
        self._uploaded: dict[str, str] = {}
        self.last_evaluation: dict[str, Any] | None = None

    # -- plumbing --------------------------------------------------------------------------

    @property
    def client(self) -> Any:
        if self._client is None:
            from opa_client.opa import OpaClient

            self._client = OpaClient(host=self.host, port=self.port, ssl=self.ssl, token=self.token,
                                     timeout=self.timeout, retries=0)
            self._client._session.verify = self.session.verify
        return self._client

    def _ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while True:
            try:
                if self.session.get(f"{self.url}/health", timeout=min(self.timeout, 5)).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() >= deadline:
                raise EngineError(f"OPA server at {self.url} is unreachable or not healthy")
            time.sleep(0.2)

    def _put_policy(self, policy_id: str, text: str) -> None:
        from opa_client.errors import RegoParseError

        if self._uploaded.get(policy_id) == text:
            return
        try:
            self.client.update_policy_from_string(text, policy_id, rego_compat=False)
        except RegoParseError as exc:
            errors = getattr(exc, "errors", None) or []
            raise PolicyError(f"OPA rejected {policy_id}: {_opa_errors({'errors': errors, 'message': getattr(exc, 'message', '')})}") from None
        except requests.RequestException as exc:
            raise EngineError(f"OPA policy upload failed: {type(exc).__name__}") from None
        except ValueError:
            raise EngineError(f"OPA policy upload of {policy_id} failed with a non-JSON answer") from None
        self._uploaded[policy_id] = text

    def _put_data(self, data: dict[str, Any]) -> None:
        try:
            self.client.update_or_create_data(data.get("pdguard", {}).get("config", {}), "pdguard/config")
        except requests.RequestException as exc:
            raise EngineError(f"OPA data upload failed: {type(exc).__name__}") from None
        except Exception as exc:
            raise EngineError(f"OPA rejected the configuration data: {getattr(exc, 'message', exc)}") from None

    def _load(self, modules: list[Module], data: dict[str, Any]) -> None:
        self._ready()
        self._put_data(data)
        for m in modules:
            self._put_policy(f"pdguard/{m.path}", m.text)

    def _send(self, api_path: str, body: bytes | Iterator[bytes], what: str) -> tuple[int, Any]:
        """POST `body` to /v1/<api_path>: (HTTP status, parsed JSON); an iterator of pieces is sent
        as they come (chunked). Transport failures, a timeout, a non-JSON answer and a refused token
        are EngineErrors naming `what` was asked."""
        try:
            resp = self.session.post(f"{self.root_url}/{api_path}", data=body,
                                     headers={"Content-Type": "application/json"}, timeout=self.timeout)
        except requests.Timeout:
            raise EngineError(f"OPA query timed out after {self.timeout:g}s (raise --opa-timeout)") from None
        except requests.RequestException as exc:
            raise EngineError(f"OPA query failed: {type(exc).__name__} talking to {self.url}") from None
        try:
            payload = resp.json()
        except ValueError:
            raise EngineError(f"OPA answered HTTP {resp.status_code} with a non-JSON body") from None
        if resp.status_code in (401, 403):
            raise EngineError(f"OPA at {self.url} refused the query of {what} (HTTP {resp.status_code}: "
                              f"{_opa_errors(payload)}): check --opa-token / PDGUARD_OPA_TOKEN and the server's "
                              "authorization policy")
        return resp.status_code, payload

    def _query(self, path: str, body: bytes | Iterator[bytes], *, params: str = "") -> dict[str, Any]:
        """POST /v1/data/<path>: OPA's whole answer ({result?, decision_id?, provenance?})."""
        status, payload = self._send(f"data/{path}{params}", body, f"data/{path}")
        if status != 200:
            raise EngineError(f"OPA evaluation error (HTTP {status}): {_opa_errors(payload)}")
        if not isinstance(payload, dict):
            raise EngineError(f"OPA answered data/{path} with a {type(payload).__name__}, not an object")
        return payload

    def _post(self, path: str, body: bytes) -> Any:
        payload = self._query(path, body)
        if "result" not in payload:
            raise EngineError(f"OPA returned an undefined result for data/{path}")
        return payload["result"]

    # -- contract --------------------------------------------------------------------------

    def evaluate(self, modules: list[Module], targets: list[Module], data: dict[str, Any],
                 input_ref: InputRef) -> dict[str, Any]:
        entry = entry_module(targets)
        path = ENTRY_RULE.removeprefix("data.").replace(".", "/")
        if self.preloaded:  # read-only: one query; the server's bundle must be what we would build
            self._ready()
        else:
            self._load(modules, data)
            self._put_policy(f"pdguard/{ENTRY_PACKAGE}.rego", entry)
        payload = self._query(path, _with_input(b"{", input_ref), params="?provenance" if self.preloaded else "")
        self.last_evaluation = (self._check_bundle(payload, policy_revision(modules, entry, data)) if self.preloaded
                                else {"decision_id": payload.get("decision_id")})
        if "result" not in payload:
            raise EngineError(f"OPA returned an undefined result for data/{path}")
        result = payload["result"]
        if not isinstance(result, dict):
            raise EngineError("OPA returned a result of the wrong shape")
        return result

    def _check_bundle(self, payload: dict[str, Any], expected: str) -> dict[str, Any]:
        """The server must run a bundle whose revision is the local policies' and settings' revision."""
        fix = ("build the bundle with `pdguard policy bundle -o pdguard-bundle.tar.gz` (same --policy/--no-builtin "
               "options and pdguard.yaml as this check) and serve it with `opa run --server --bundle "
               "pdguard-bundle.tar.gz`")
        bundles = (payload.get("provenance") or {}).get("bundles") or {}
        revisions = {name: str((b or {}).get("revision", "")) for name, b in bundles.items()}
        match = next((name for name, rev in sorted(revisions.items()) if rev == expected), None)
        if match is None:
            if "result" not in payload:
                held = ", ".join(sorted(revisions)) or "none"
                raise EngineError(f"the OPA server at {self.url} has no pdguard bundle loaded (--opa-preloaded): "
                                  f"data.{ENTRY_PACKAGE}.result is undefined (its bundles: {held}); {fix}")
            found = ", ".join(f"{name} revision {rev or '(none)'}" for name, rev in sorted(revisions.items()))
            raise EngineError(f"the OPA server at {self.url} runs {found or 'policies that were not loaded from a bundle'}, "
                              f"not the local policies and settings (bundle revision {expected}): {fix}")
        return {"bundle": match, "bundle_revision": expected, "decision_id": payload.get("decision_id")}

    def query(self, modules: list[Module], data: dict[str, Any], input_ref: InputRef | None,
              query: str) -> dict[str, Any]:
        """One ad-hoc query (`pdguard policy eval`) through POST /v1/query: {"result": [...]} or {}."""
        if self.preloaded:
            self._ready()
        else:
            self._load(modules, data)
        head = b'{"query":' + json.dumps(query).encode()
        body = _with_input(head + b",", input_ref) if input_ref is not None else head + b"}"
        status, payload = self._send("query", body, "the ad-hoc query")
        if status == 400:
            raise PolicyError(f"query: {_opa_errors(payload)}")
        if status != 200 or not isinstance(payload, dict):
            raise EngineError(f"OPA query error (HTTP {status}): {_opa_errors(payload)}")
        # OPA's query API answers the variables each result binds (no expression values): in the
        # shape the embedded engine gives, {"bindings": {...}} per result.
        rows = payload.get("result")
        if not isinstance(rows, list) or not rows:
            return {}
        return {"result": [{"bindings": row} if row else {"expressions": [{"value": True}]} for row in rows]}

    def run_tests(self, modules: list[Module], data: dict[str, Any]) -> list[TestResult]:
        self._load(modules, data)
        out: list[TestResult] = []
        for m in modules:
            for t in m.tests:
                try:
                    value = self._post(f"{m.package.replace('.', '/')}/{t}", b"{}")
                    out.append(TestResult(m.package, t, m.path, value is True,
                                          None if value is True else f"= {json.dumps(value)[:80]}"))
                except EngineError as exc:
                    msg = str(exc)
                    out.append(TestResult(m.package, t, m.path, False,
                                          "undefined" if "undefined result" in msg else msg))
        return out
