"""The sqlglot tree the analyzer read each SQL statement from, for the readers after it (impact
planning): one parse per statement, and what is measured is what was judged (the tree comes
from the analyzer's preprocessed text: executable comments, a byte-order mark).

Kept beside the StatementEffect, by identity, not in it: the effect is a value that is
serialised and compared; the tree is neither. It goes when its effect goes.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from sqlglot import exp

from guardrails_core.model import Finding, Intent, ObjectAction, ObjectRef, StatementEffect


class _EffectRef(weakref.ref[StatementEffect]):
    """A weak reference to an effect that knows the key its tree is kept under: one callback
    for all of them, not a closure made for each statement."""

    __slots__ = ("key",)
    key: int


_TREES: dict[int, tuple[_EffectRef, exp.Expr]] = {}
_LOCK = threading.Lock()


def _forget(ref: _EffectRef) -> None:
    key = ref.key
    with _LOCK:
        entry = _TREES.get(key)
        if entry is not None and entry[0] is ref:
            del _TREES[key]


def keep_tree(effect: StatementEffect, tree: exp.Expr) -> None:
    """Remember `tree` as the one `effect` was read from. Readers must not change it: it is
    shared with every later reader of the (cached) analysis."""
    ref = _EffectRef(effect, _forget)
    ref.key = id(effect)
    with _LOCK:
        _TREES[ref.key] = (ref, tree)


def tree_of(effect: StatementEffect) -> exp.Expr | None:
    """The tree `effect` was read from, if this process's analyzer made it."""
    entry = _TREES.get(id(effect))
    if entry is None or entry[0]() is not effect:
        return None
    return entry[1]


def updated(effect: StatementEffect, changes: Mapping[str, Any]) -> StatementEffect:
    """`effect` with `changes` (intents, findings and objects found after it was read), still
    read from the same tree."""
    copy = effect.model_copy(update=dict(changes))
    tree = tree_of(effect)
    if tree is not None:
        keep_tree(copy, tree)
    return copy


def replaces_as_writes(
    effect: StatementEffect, chosen: Callable[[ObjectRef], bool], message: str
) -> StatementEffect:
    """`effect` with each replaced object `chosen` picks written instead, and why (a WRITE
    finding); unchanged when it replaces none of them."""
    picked = [ref for ref in effect.objects if ref.action is ObjectAction.REPLACE and chosen(ref)]
    if not picked:
        return effect
    objects = tuple(
        ref.model_copy(update={"action": ObjectAction.WRITE}) if ref in picked else ref
        for ref in effect.objects
    )
    finding = Finding(intent=Intent.WRITE, message=message)
    return updated(effect, {"objects": objects, "findings": (*effect.findings, finding)})


__all__ = ["keep_tree", "replaces_as_writes", "tree_of", "updated"]
