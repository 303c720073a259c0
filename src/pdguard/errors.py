"""Errors with a one-line message and a distinct process exit code.

Exit codes (documented in the README and `pdguard --help`):
  0  success, no failing finding
  1  failing findings at or above --fail-on (or failing policy tests)
  2  error: scan failed, authentication/authorisation, engine or OPA error, bad config, invalid policy,
     usage error (unknown option, bad value), an output file that cannot be written
  3  an input file that cannot be read or is not what it claims to be (snapshot, baseline report,
     Terraform state): missing, unreadable, not JSON, a JSON array instead of an object …
  4  `watch --once`: the scan was stored, but a new-findings notification could not be delivered
     (it stays in the store's outbox and the next tick retries it)
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2
EXIT_BAD_INPUT = 3
EXIT_NOTIFY = 4


class PdguardError(Exception):
    """Base error: `str(err)` is a single line safe to print (never contains a token)."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


class ScanError(PdguardError):
    """The scan could not complete (network, API fault, malformed response)."""


class AuthError(ScanError):
    """401/403 from the PagerDuty API (``status``; ``collection`` that was being read, when known)."""

    def __init__(self, message: str, *, status: int | None = None, collection: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.collection = collection


class ForbiddenError(AuthError):
    """403 on one collection: the key lacks that scope. Fatal for a core collection; an optional
    collection is skipped instead (see ``pdguard.scanner.OPTIONAL_COLLECTIONS``)."""


class IncompleteScanError(ScanError):
    """The scan finished but not every object is accounted for (``meta.complete`` is false) and
    the command was not given ``--allow-incomplete``."""


class ConfigError(PdguardError):
    """Invalid pdguard.yaml or CLI configuration."""


class PolicyError(PdguardError):
    """Invalid Rego, missing policy path, or a policy returning the wrong shape."""


class EngineError(PdguardError):
    """The policy engine (embedded or OPA) failed to evaluate."""


class EvalLimitError(EngineError):
    """Policy evaluation exceeded its time or memory limit (`--eval-timeout`, `--eval-memory`)."""


class InputError(PdguardError):
    """A snapshot/report/state file that cannot be read or is not what it claims to be."""

    exit_code = EXIT_BAD_INPUT
