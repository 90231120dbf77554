"""The one source of configuration: environment variables over an optional YAML file over defaults.

Every component (CLI, guard, audit store, adapters) reads its configuration from ``Settings``;
nothing else reads ``GUARDRAILS_*`` variables.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from guardrails_core.model import Mode
from guardrails_core.yaml_data import load_yaml

# Environment variable -> settings field. Kept explicit so the README table and the code agree.
ENVIRONMENT_VARIABLES: dict[str, str] = {
    "GUARDRAILS_CONFIG": "config_file",
    "GUARDRAILS_HOME": "home",
    "GUARDRAILS_POLICY": "policy",
    "GUARDRAILS_MODE": "mode",
    "GUARDRAILS_ENVIRONMENT": "environment",
    "GUARDRAILS_AUDIT_URL": "audit_url",
    "GUARDRAILS_AUDIT_KEY": "audit_key",
    "GUARDRAILS_AUDIT_FULL_TEXT": "audit_full_text",
    "GUARDRAILS_AUDIT_ANCHOR": "audit_anchor",
    "GUARDRAILS_FINGERPRINT_KEY": "fingerprint_key",
    "GUARDRAILS_MAX_INPUT_BYTES": "max_input_bytes",
    "GUARDRAILS_MAX_INPUT_DEPTH": "max_input_depth",
    "GUARDRAILS_AUDIT_ON_FAILURE": "audit_on_failure",
    "GUARDRAILS_CACHE_SIZE": "cache_size",
    "GUARDRAILS_UI_BASE_URL": "ui_base_url",
    "GUARDRAILS_GUARD_SOCKET": "guard_socket",
    "GUARDRAILS_GUARD_TIMEOUT": "guard_timeout",
}


class SettingsError(ValueError):
    """The configuration is invalid; the message names the source and the field."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    config_file: Path | None = None
    # Where guardrails keeps its own files (the default SQLite audit store).
    home: Path = Path(os.path.expanduser("~/.local/share/access-guardrails"))
    # Policy file; None means the built-in baseline only.
    policy: Path | None = None
    # Forces the mode of every policy (e.g. `audit` for a dry-run week); None keeps the policy's.
    mode: Mode | None = None
    environment: str | None = None
    # SQLAlchemy URL of the audit store; None means a SQLite file under `home`.
    audit_url: str | None = None
    # With a key, the audit hash chain is an HMAC that cannot be recomputed without it.
    audit_key: SecretStr | None = None
    # Append-only file of signed chain-head checkpoints, outside the database (`audit verify
    # --anchor`); None: no checkpoints are written.
    audit_anchor: Path | None = None
    # Keys command fingerprints (HMAC); default: derived from audit_key, else a random key kept
    # in `home`/fingerprint.key. Share it between processes that exchange approvals.
    fingerprint_key: SecretStr | None = None
    # Commands longer (UTF-8 bytes) or nested deeper (brackets) than this are denied unread.
    max_input_bytes: int = Field(default=1_000_000, gt=0)
    max_input_depth: int = Field(default=10_000, gt=0)
    # Store full command text in the audit trail instead of the literal-free normalised form.
    audit_full_text: bool = False
    # What to do when the audit store cannot record a decision: deny (default) or audit-only.
    audit_on_failure: Literal["deny", "audit"] = "deny"
    # Entries of each of the process's two bounded LRUs: analyses and decisions (0: no caching).
    cache_size: int = Field(default=4096, ge=0)
    # Base URL of the decision pages (Airflow plugin), used for extra links.
    ui_base_url: str | None = None
    # Unix socket of a guard server (`access-guardrails guard-server`): when set, guards in
    # this process ask it to judge and record instead of loading the analyzer and policy.
    guard_socket: Path | None = None
    # Seconds a guard waits for the guard server's answer before denying the command.
    guard_timeout: float = Field(default=30.0, gt=0)

    @property
    def resolved_audit_url(self) -> str:
        if self.audit_url:
            return self.audit_url
        return f"sqlite:///{self.home / 'audit.sqlite3'}"

    def fingerprint_secret(self) -> bytes:
        """The key of command fingerprints: never stored in the audit database."""
        if self.fingerprint_key is not None:
            return self.fingerprint_key.get_secret_value().encode("utf-8")
        if self.audit_key is not None:
            return hmac.new(
                self.audit_key.get_secret_value().encode("utf-8"), _FINGERPRINT_LABEL, "sha256"
            ).digest()
        return _local_key(self.home / "fingerprint.key")

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the optional YAML file named by GUARDRAILS_CONFIG, then the environment."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        config_file = environ.get("GUARDRAILS_CONFIG")
        if config_file:
            values.update(_read_config_file(Path(config_file)))
            values["config_file"] = config_file
        for variable, field in ENVIRONMENT_VARIABLES.items():
            raw = environ.get(variable)
            if raw is not None and raw != "" and variable != "GUARDRAILS_CONFIG":
                values[field] = raw
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            problems = "; ".join(
                f"{_source_of(str(issue['loc'][0]), config_file, environ)}: {issue['msg']}"
                for issue in error.errors()
            )
            raise SettingsError(f"invalid guardrails settings: {problems}") from None


_FINGERPRINT_LABEL = b"access-guardrails/fingerprint/v1"


def _local_key(path: Path) -> bytes:
    """A random key kept in a 0600 file, created on first use (one machine's processes share it)."""
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as error:
        raise SettingsError(f"{path}: cannot read the fingerprint key: {error}") from None
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return _local_key(path)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(os.urandom(32).hex())
    return _local_key(path)


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        loaded = load_yaml(path.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise SettingsError(f"{path}: cannot read settings file: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise SettingsError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(loaded, dict):
        raise SettingsError(f"{path}: expected a mapping of settings, got {type(loaded).__name__}")
    return {str(key).replace("-", "_"): value for key, value in loaded.items()}


def _source_of(field: str, config_file: str | None, environ: Mapping[str, str]) -> str:
    for variable, name in ENVIRONMENT_VARIABLES.items():
        if name == field and variable in environ:
            return f"{variable}"
    return f"{config_file}: {field}" if config_file else field
