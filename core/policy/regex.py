"""Regular expressions written in policies (ticket patterns), compiled with RE2: matching is
linear in the input, so no pattern (``^(a+)+$``) can make a check backtrack for ever."""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

import re2  # type: ignore[import-untyped]

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # errors are raised to the policy loader, not printed
_OPTIONS.max_mem = 8 << 20  # a pattern whose program needs more is refused


class PolicyPattern(Protocol):
    pattern: str

    def fullmatch(self, text: str) -> object | None: ...


@lru_cache(maxsize=256)
def compile_policy_regex(text: str) -> PolicyPattern:
    """The compiled pattern; ``ValueError`` saying why RE2 refuses it (backreferences and
    lookarounds are not supported: they are what makes matching exponential)."""
    try:
        compiled: PolicyPattern = re2.compile(text, options=_OPTIONS)
    except re2.error as error:
        detail = error.args[0] if error.args else error
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise ValueError(
            f"{text!r} is not a regular expression guardrails accepts ({detail}); use RE2 "
            "syntax: no backreferences or lookarounds"
        ) from None
    return compiled
