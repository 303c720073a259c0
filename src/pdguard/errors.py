"""Errors with a one-line message and a distinct process exit code.

Exit codes (documented in the README and `pdguard --help`):
  0  success, no failing finding
  1  failing findings at or above --fail-on (or failing policy tests)
  2  error: scan failed, authentication/authorisation, engine or OPA error, bad config, invalid policy
  3  usage error / bad input file (snapshot or report that cannot be read)
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2
EXIT_BAD_INPUT = 3


class PdguardError(Exception):
    """Base error: `str(err)` is a single line safe to print (never contains a token)."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


class ScanError(PdguardError):
    """The scan could not complete (network, API fault, malformed response)."""


class AuthError(ScanError):
    """401/403 from the PagerDuty API."""


class ConfigError(PdguardError):
    """Invalid pdguard.yaml or CLI configuration."""


class PolicyError(PdguardError):
    """Invalid Rego, missing policy path, or a policy returning the wrong shape."""


class EngineError(PdguardError):
    """The policy engine (embedded or OPA) failed to evaluate."""


class InputError(PdguardError):
    """A snapshot/report/state file that cannot be read or is not what it claims to be."""

    exit_code = EXIT_BAD_INPUT
