"""`pdguard.yaml`: settings for policies, per-policy enable/severity, waivers, engine and scan options.

Defaults live here, in one place, and are documented in the README (`pdguard config defaults`
prints them). Settings reach every policy as `data.pdguard.config`.

```yaml
settings:                       # -> data.pdguard.config, typed (pdguard.settings): unknown keys and wrong types are errors
  service_name_pattern: "^[a-z0-9]+(-[a-z0-9]+)*$"
policies:                       # per-policy switches, by policy id
  PDG-SVC-004: {enabled: false}
  PDG-SCH-003: {severity: medium}
waivers:
  - policy: PDG-EP-001
    resource: "legacy-*"        # resource id or name glob (optional: all resources)
    reason: "being decommissioned"
    expires: 2027-01-31
engine: embedded                # or opa
opa: {url: http://localhost:8181, token: null, preloaded: false, timeout: 60, ca_cert: null, insecure: false}
scan: {region: us, concurrency: 8, incidents_lookback_days: 90, api_url: null, max_duration: 30m}
fail_on: high
```
"""

from __future__ import annotations

import copy
import datetime as dt
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pdguard.errors import ConfigError
from pdguard.findings import SEVERITIES, PolicyInfo, Waiver
from pdguard.settings import DEFAULT_SETTINGS as _DEFAULTS
from pdguard.settings import check_known_types, declarations, validate

# The built-in settings (typed: pdguard.settings.BUILTIN); `pdguard config defaults` prints them.
DEFAULT_SETTINGS: dict[str, Any] = dict(_DEFAULTS)

DEFAULT_CONCURRENCY = 8
DEFAULT_LOOKBACK_DAYS = 90
DEFAULT_FAIL_ON = "high"
CONFIG_FILENAMES = ("pdguard.yaml", "pdguard.yml", ".pdguard.yaml")


class PolicySwitch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool | None = None
    severity: str | None = None

    @field_validator("severity")
    @classmethod
    def _sev(cls, v: str | None) -> str | None:
        if v is not None and v not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}")
        return v


class OpaSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str | None = None
    token: str | None = None
    preloaded: bool = False
    timeout: float = 60.0
    ca_cert: str | None = None
    insecure: bool = False


class ScanSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region: Literal["us", "eu"] = "us"
    api_url: str | None = None
    api_key: str | None = None
    concurrency: int = Field(default=DEFAULT_CONCURRENCY, ge=1, le=64)
    incidents_lookback_days: int = Field(default=DEFAULT_LOOKBACK_DAYS, ge=0, le=3650)
    service_dependencies: Literal["business", "all"] = "business"
    max_duration: str | float | None = None  # whole-scan deadline, e.g. "30m" (the default)


class WaiverEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    policy: str
    resource: str | None = None
    reason: str
    expires: dt.date | None = None

    def to_waiver(self) -> Waiver:
        return Waiver(
            policy=self.policy,
            resource=self.resource,
            reason=self.reason,
            expires=self.expires.isoformat() if self.expires else None,
        )


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")
    settings: dict[str, Any] = Field(default_factory=dict)
    policies: dict[str, PolicySwitch] = Field(default_factory=dict)
    waivers: list[WaiverEntry] = Field(default_factory=list)
    engine: Literal["embedded", "opa"] = "embedded"
    opa: OpaSettings = Field(default_factory=OpaSettings)
    scan: ScanSettings = Field(default_factory=ScanSettings)
    fail_on: str = DEFAULT_FAIL_ON
    store: str | None = None
    source: str | None = None  # the file it was read from

    @field_validator("fail_on")
    @classmethod
    def _fail_on(cls, v: str) -> str:
        if v != "none" and v not in SEVERITIES:
            raise ValueError(f"fail_on must be 'none' or one of {', '.join(SEVERITIES)}")
        return v

    def policy_settings(self, infos: list[PolicyInfo] | None = None) -> dict[str, Any]:
        """The document policies see as `data.pdguard.config`: every setting of the schema of the
        built-in settings and those `infos` (the policies loaded) declare, with pdguard.yaml's
        values. An unknown key or a wrong type is a ConfigError naming the key."""
        return copy.deepcopy(validate(self.settings, declarations(infos or []), self.source or "pdguard.yaml"))

    def waiver_list(self) -> list[Waiver]:
        return [w.to_waiver() for w in self.waivers]


def find_config(explicit: str | None) -> Path | None:
    if explicit:
        p = Path(explicit)
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        return p
    env = os.environ.get("PDGUARD_CONFIG")
    if env:
        p = Path(env)
        if not p.is_file():
            raise ConfigError(f"config file not found: {p} (from PDGUARD_CONFIG)")
        return p
    for name in CONFIG_FILENAMES:
        p = Path(name)
        if p.is_file():
            return p
    return None


def load_config(explicit: str | None = None) -> Config:
    path = find_config(explicit)
    if path is None:
        return Config()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file (a pdguard.yaml is YAML text)") from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. `expires: 2027-02-30` (no such day)
        raise ConfigError(f"{path}: invalid value: {' '.join(str(exc).split())}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the configuration must be a mapping")
    try:
        cfg = Config.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        raise ConfigError(f"{path}: {loc}: {err['msg']}") from None
    cfg.source = str(path)
    check_known_types(cfg.settings, cfg.source)  # types now; unknown keys once the policies are loaded
    return cfg
