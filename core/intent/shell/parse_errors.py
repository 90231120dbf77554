"""Where tree-sitter-bash falls short: the text it is given (no character it crashes on, no
line it glues onto the one before), and the parse errors in its tree, told apart from shapes it
cannot name (`<>`)."""

from __future__ import annotations

import re

from tree_sitter import Node

_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _parseable(text: str) -> bytes:
    """The bytes tree-sitter parses: every non-ASCII character becomes the letter ``a``.

    tree-sitter-bash 0.25's scanner segfaults on some astral characters (``{`` then U+E0000),
    and bash's own metacharacters are all ASCII, so the token structure is unchanged. Word
    values are always read from the original text; one byte per character also makes
    tree-sitter's byte offsets our character offsets.
    """
    text = text if text.isascii() else _NON_ASCII.sub("a", text)
    return _ESCAPED_LINE_START.sub("a", text).encode("ascii")


# tree-sitter-bash 0.25 glues a line that starts with a backslash (`\rm -rf /data`, the alias
# bypass; `\!` in a heredoc) onto the line before it as arguments. An escaped ordinary character
# is that character, so the parsed copy has a letter there (words keep their extent and are read
# from the text); other escapes are caught as a swallowed line (_Expander.swallows_line).
_ESCAPED_LINE_START = re.compile(r"(?<=\n)\\(?=[A-Za-z0-9_./:@%+,!~-])")


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


def _without_nested_errors(node: Node) -> list[Node]:
    """The children of an ERROR node, with nested ERROR nodes opened up (one region, one report)."""
    children: list[Node] = []
    for child in node.children:
        children.extend(_without_nested_errors(child) if child.type == "ERROR" else [child])
    return children
