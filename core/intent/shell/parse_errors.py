"""Parse errors in tree-sitter-bash's tree, told apart from shapes it cannot name (`<>`)."""

from __future__ import annotations

from tree_sitter import Node


def _is_read_write_half(node: Node) -> bool:
    """tree-sitter-bash has no `<>` (open read-write): it parses `3<>f` as `3<` then an ERROR
    holding the `>`. That shape is the operator, not a parse failure."""
    previous = node.prev_sibling
    return (
        node.type == "ERROR"
        and node.text == b">"
        and previous is not None
        and previous.type == "<"
        and previous.end_byte == node.start_byte
        and node.parent is not None
        and node.parent.type == "file_redirect"
    )


def _has_error(node: Node) -> bool:
    """Whether the tree holds a parse error other than the `<>` halves tree-sitter cannot read."""
    pending = [node]
    while pending:
        current = pending.pop()
        if not current.has_error or _is_read_write_half(current):
            continue
        if current.type == "ERROR" or current.is_missing:
            return True
        pending.extend(current.children)
    return False
