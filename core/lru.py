"""A bounded, thread-safe LRU: the memo tables of analyses and decisions."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from threading import Lock
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class HashedKey:
    """A key of several values whose hash is worked out once: a hit hashes its key twice (the
    lookup, then moving it to the end), and a decision's key holds a context model whose
    hash is computed field by field on every call."""

    __slots__ = ("_hash", "values")

    def __init__(self, values: tuple[Any, ...]) -> None:
        self.values = values
        self._hash = hash(values)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, HashedKey)
            and self._hash == other._hash
            and self.values == other.values
        )


class BoundedLRU(Generic[K, V]):
    """At most ``max_entries`` values (0 or less: nothing is kept); the least recently used goes
    first. Only immutable values belong here: they are shared between threads."""

    def __init__(self, max_entries: int = 4096) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: K, value: V) -> None:
        if self.max_entries <= 0:
            return
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            self._trim()

    def resize(self, max_entries: int) -> None:
        with self._lock:
            self.max_entries = max_entries
            self._trim()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _trim(self) -> None:
        while len(self._entries) > max(self.max_entries, 0):
            self._entries.popitem(last=False)
