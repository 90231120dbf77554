"""`GuardrailsConfig`: the guardrails configuration as a Prefect block, saved once per workspace
and named by `@guarded(config="prod")`.

Its fields win over the GUARDRAILS_* environment variables of the process (the block is what
the flow's author chose); fields left empty fall back to them.
"""

from __future__ import annotations

import os
import threading
from typing import Literal

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from guardrails_core.guard import Guard, open_guard
from guardrails_core.settings import Settings


class GuardrailsConfig(Block):
    """Policy, mode, environment and audit store of guarded tasks."""

    _block_type_name = "Guardrails Config"
    _block_type_slug = "guardrails-config"
    _description = (
        "access-guardrails: the policy, mode and environment guarded tasks are judged with, "
        "and the audit store their decisions are recorded in."
    )

    policy: str | None = Field(
        default=None, description="Path of the policy file; empty: the built-in baseline."
    )
    mode: Literal["enforce", "audit"] | None = Field(
        default=None, description="Force the mode of every policy rule; empty: the policy's."
    )
    environment: str | None = Field(
        default=None, description="The environment policies match on, e.g. prod."
    )
    audit_url: SecretStr | None = Field(
        default=None, description="SQLAlchemy URL of the audit store (it may hold a password)."
    )

    def settings(self) -> Settings:
        """The process's Settings with this block's fields over them."""
        environ = dict(os.environ)
        chosen = {
            "GUARDRAILS_POLICY": self.policy,
            "GUARDRAILS_MODE": self.mode,
            "GUARDRAILS_ENVIRONMENT": self.environment,
            "GUARDRAILS_AUDIT_URL": (
                self.audit_url.get_secret_value() if self.audit_url is not None else None
            ),
        }
        environ.update({name: value for name, value in chosen.items() if value})
        return Settings.load(environ)

    def guard(self) -> Guard:
        """One guard per distinct configuration in this process (policy and store opened once)."""
        secret = self.audit_url.get_secret_value() if self.audit_url is not None else None
        key = (self.policy, self.mode, self.environment, secret)
        with _GUARDS_LOCK:
            guard = _GUARDS.get(key)
            if guard is None:
                guard = _GUARDS[key] = open_guard(self.settings())
            return guard


_GUARDS: dict[tuple[str | None, ...], Guard] = {}
_GUARDS_LOCK = threading.Lock()


def guard_of(config: GuardrailsConfig | str) -> Guard:
    """The guard of a block, or of the saved block of that name (loaded when first needed)."""
    if isinstance(config, str):
        # Sync even inside an async task: the guard is built before the body is awaited.
        loaded: GuardrailsConfig = GuardrailsConfig.load(config, _sync=True)  # type: ignore[call-arg,assignment]
        return loaded.guard()
    return config.guard()
