"""`pdguard.yaml`: settings for policies, per-policy enable/severity, waivers, engine and scan options.

Defaults of these options live here; the policy settings' types, defaults and meanings live in
`pdguard.settings` (`pdguard config defaults` prints them). Settings reach every policy as
`data.pdguard.config`.

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
accounts:                       # several PagerDuty accounts (default: one, from the flags and environment)
  - {name: us, region: us, api_key_env: PD_KEY_US}
  - {name: eu, region: eu, api_key_env: PD_KEY_EU, scan: {incidents_lookback_days: 30}}
watch: {incremental: true, full_every: 21, overlap: 1h}   # incremental rescans
fail_on: high
store: sqlite:///var/lib/pdguard/inventory.sqlite   # inventory store (see pdguard.inventory.store)
store_retention: {keep: 30, older_than: 90d}       # applied by `watch` after each tick; default: keep all
notify: {max_age: 7d, retries: 2, backoff: 1s, timeout: 10s, format: auto}   # --on-new-findings delivery
limits: {eval_timeout: 300s, eval_memory: 4GiB}    # policy evaluation limits ("none" switches one off)
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
from pdguard.settings import check_known_types, declarations, validate
from pdguard.units import check_timeout, parse_duration, parse_limit_seconds, parse_size


def _valid(check: Any, *args: Any, **kwargs: Any) -> None:
    """Run a units parser inside a pydantic validator: its error becomes a ValueError (so the
    message names the file and the key)."""
    try:
        check(*args, **kwargs)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None

DEFAULT_CONCURRENCY = 8
DEFAULT_EVAL_TIMEOUT = "300s"
DEFAULT_EVAL_MEMORY = "4GiB"
DEFAULT_NOTIFY_MAX_AGE = "7d"
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

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, v: float) -> float:
        _valid(check_timeout, v, "timeout")
        return v


class ScanSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region: Literal["us", "eu"] = "us"
    api_url: str | None = None
    api_key: str | None = None
    concurrency: int = Field(default=DEFAULT_CONCURRENCY, ge=1, le=64)
    incidents_lookback_days: int = Field(default=DEFAULT_LOOKBACK_DAYS, ge=0, le=3650)
    service_dependencies: Literal["business", "all"] = "business"
    max_duration: str | float | None = None  # whole-scan deadline, e.g. "30m" (the default)
    audit_days: int = Field(default=30, ge=0, le=365)  # audit records (who changed what) of the last N days


ACCOUNT_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"  # in file names, SARIF ids, the store
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class AccountScanSettings(BaseModel):
    """`accounts[].scan:`: what one account scans differently from `scan:` (flags still win)."""

    model_config = ConfigDict(extra="forbid")
    concurrency: int | None = Field(default=None, ge=1, le=64)
    incidents_lookback_days: int | None = Field(default=None, ge=0, le=3650)
    service_dependencies: Literal["business", "all"] | None = None
    max_duration: str | float | None = None
    audit_days: int | None = Field(default=None, ge=0, le=365)
    exclude: list[str] = Field(default_factory=list)


class AccountSettings(BaseModel):
    """One PagerDuty account of `accounts:`. Its key is read from the environment variable
    `api_key_env` (default ``PAGERDUTY_API_KEY_<NAME>``: the name upper-cased, other characters
    as ``_``), never from the file."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=ACCOUNT_NAME)
    region: Literal["us", "eu"] | None = None
    api_url: str | None = None
    api_key_env: str | None = Field(default=None, pattern=ENV_NAME)
    oauth: bool = False  # the key is an OAuth access token (sent as Bearer)
    scan: AccountScanSettings = Field(default_factory=AccountScanSettings)

    @property
    def key_env(self) -> str:
        if self.api_key_env:
            return self.api_key_env
        import re

        return "PAGERDUTY_API_KEY_" + re.sub(r"[^A-Z0-9]", "_", self.name.upper())


class WatchSettings(BaseModel):
    """`watch:`: incremental rescans (see pdguard.inventory.incremental)."""

    model_config = ConfigDict(extra="forbid")
    incremental: bool = True  # false: every tick scans in full
    full_every: int = Field(default=21, ge=1, le=10_000)  # one tick in N scans in full (1: every tick)
    overlap: str = "1h"  # incidents re-read before the previous scan's window end

    @field_validator("overlap", mode="before")
    @classmethod
    def _overlap(cls, v: Any) -> str:
        if str(v).strip() in ("0", "0s"):
            return "0s"
        _valid(parse_duration, v, what="overlap")
        return str(v)

    def overlap_seconds(self) -> float:
        return 0.0 if self.overlap == "0s" else parse_duration(self.overlap)


class RetentionSettings(BaseModel):
    """`store_retention:`: which stored scans `watch` keeps after each tick (`inventory prune` rules).

    A scan is kept when any rule keeps it: it is among the newest `keep`, or younger than
    `older_than`; the latest complete scan is always kept. Nothing set: every scan is kept."""

    model_config = ConfigDict(extra="forbid")
    keep: int | None = Field(default=None, ge=1)
    older_than: str | None = None

    @field_validator("older_than", mode="before")
    @classmethod
    def _age(cls, v: Any) -> str | None:
        if v is None:
            return None
        _valid(parse_duration, v, what="age", require_unit=True)
        return str(v)

    def older_than_seconds(self) -> float | None:
        return parse_duration(self.older_than, require_unit=True) if self.older_than else None

    @property
    def enabled(self) -> bool:
        return self.keep is not None or self.older_than is not None


class NotifySettings(BaseModel):
    """`notify:`: delivery of `--on-new-findings` notifications from the store's outbox."""

    model_config = ConfigDict(extra="forbid")
    max_age: str = DEFAULT_NOTIFY_MAX_AGE  # undelivered notifications older than this are dropped
    retries: int = Field(default=2, ge=0, le=10)  # extra attempts within one tick
    backoff: str = "1s"  # first wait between attempts (doubles; a Retry-After header wins, up to 60 s)
    timeout: str = "10s"  # per HTTP attempt
    format: Literal["auto", "slack", "json"] = "auto"  # webhook body; auto: slack for hooks.slack.com

    @field_validator("max_age", "backoff", "timeout", mode="before")
    @classmethod
    def _durations(cls, v: Any, info: Any) -> str:
        _valid(parse_duration, v, what="duration", require_unit=info.field_name == "max_age")
        return str(v)

    def seconds(self, name: str) -> float:
        return parse_duration(getattr(self, name), require_unit=name == "max_age")


class LimitSettings(BaseModel):
    """`limits:`: time and memory allowed to one policy evaluation (`none` switches a limit off)."""

    model_config = ConfigDict(extra="forbid")
    eval_timeout: str = DEFAULT_EVAL_TIMEOUT
    eval_memory: str = DEFAULT_EVAL_MEMORY

    @field_validator("eval_timeout", mode="before")
    @classmethod
    def _timeout(cls, v: Any) -> str:
        _valid(parse_limit_seconds, v, what="time limit")
        return str(v)

    @field_validator("eval_memory", mode="before")
    @classmethod
    def _memory(cls, v: Any) -> str:
        _valid(parse_size, v, what="memory limit")
        return str(v)


class WaiverEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    policy: str
    resource: str | None = None
    account: str | None = None  # only this account's findings (name of `accounts:`); default: every account
    reason: str
    expires: dt.date | None = None

    def to_waiver(self) -> Waiver:
        return Waiver(
            policy=self.policy,
            resource=self.resource,
            account=self.account,
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
    store_retention: RetentionSettings = Field(default_factory=RetentionSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    accounts: list[AccountSettings] = Field(default_factory=list)
    watch: WatchSettings = Field(default_factory=WatchSettings)
    source: str | None = None  # the file it was read from

    @field_validator("accounts")
    @classmethod
    def _accounts(cls, v: list[AccountSettings]) -> list[AccountSettings]:
        seen: set[str] = set()
        for a in v:
            if a.name.lower() in seen:
                raise ValueError(f"account name {a.name!r} is used twice (names are compared case-insensitively)")
            seen.add(a.name.lower())
        return v

    def account(self, name: str) -> AccountSettings | None:
        return next((a for a in self.accounts if a.name == name), None)

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
        raise ConfigError(f"{path}: {loc}: {str(err['msg']).removeprefix('Value error, ')}") from None
    cfg.source = str(path)
    check_known_types(cfg.settings, cfg.source)  # types now; unknown keys once the policies are loaded
    return cfg
