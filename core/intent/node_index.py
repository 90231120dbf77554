"""The nodes of one tree from one walk, looked up by type as `find_all` would find them.

A generated predicate has 50,000 nodes, and each check of a statement that looked for tables,
joins or IN lists walked all of them again (a walk costs a tenth of the parse). The analyzer
walks a tree once, keeps its nodes, and answers each check's `find_all(types)` from that list:
the same nodes in the same (breadth-first) order, filtered once per set of types.
"""

from __future__ import annotations

from typing import TypeVar

from sqlglot import exp

_Node = TypeVar("_Node", bound=exp.Expr)


class NodeIndex:
    __slots__ = ("_found", "_nodes", "root")

    def __init__(self, root: exp.Expr) -> None:
        self.root = root
        self._nodes: list[exp.Expr] | None = None
        self._found: dict[tuple[type[exp.Expr], ...], list[exp.Expr]] = {}

    @property
    def nodes(self) -> list[exp.Expr]:
        """Every node, breadth-first (the order of find_all)."""
        if self._nodes is None:
            self._nodes = list(self.root.walk())
        return self._nodes

    def find_all(self, *types: type[_Node]) -> list[_Node]:
        """What `root.find_all(*types)` yields, as one list shared by every caller (read only)."""
        found = self._found.get(types)
        if found is None:
            if self._nodes is None and not self._found:  # one question only, so far: no list
                found = list(self.root.find_all(*types))
            else:
                found = [node for node in self.nodes if isinstance(node, types)]
            self._found[types] = found
        return found  # type: ignore[return-value]


class NodeIndexes:
    """Indexes of the trees (and subtrees) one statement's checks walk, kept for the statement."""

    __slots__ = ("_by_root",)

    def __init__(self) -> None:
        self._by_root: dict[int, NodeIndex] = {}

    def of(self, root: exp.Expr) -> NodeIndex:
        index = self._by_root.get(id(root))
        if index is None or index.root is not root:
            index = self._by_root[id(root)] = NodeIndex(root)
        return index

    def keep(self, index: NodeIndex) -> None:
        self._by_root[id(index.root)] = index
