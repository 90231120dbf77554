"""Which statements the impact probes may reach, by a cheap look at the dialect and the words:
what an adapter asks of every statement it sees, without loading the analyzer."""

from __future__ import annotations

import re

# The databases the probes know (our dialect names; see adapters/).
PROBED_DIALECTS = frozenset({"postgres", "mysql", "sqlite"})
_MAY_CHANGE_ROWS = re.compile(r"\b(?:update|delete|merge|truncate|drop)\b", re.IGNORECASE)


def may_need_probe(text: str) -> bool:
    """Whether `text` may hold a statement a probe measures or protects (UPDATE, DELETE, MERGE,
    TRUNCATE, DROP): a cheap look at the words before any parsing, so that reads cost an
    adapter one regex search. Such a word in a name, a string or an upsert is a false positive
    (`needs_probe` on the analysis tells), never a miss."""
    return _MAY_CHANGE_ROWS.search(text) is not None


__all__ = ["PROBED_DIALECTS", "may_need_probe"]
