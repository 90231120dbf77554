"""Loops over a listing: ``ls /data | while read f; do rm "$f"; done`` and
``for f in $(find /data -type f); do rm "$f"; done`` act on every name the listing prints.

A listing's stream carries a word that stands for each name it prints (``_Feed.names``): a glob
of the whole folder for ``ls DIR`` or a ``find`` with no narrowing test, the scoped match
(``DIR/*.tmp``, retained) for ``find -mtime +30 -name '*.tmp'``. A loop variable read from that
stream, or a substitution of it, is bound to that word, so the body's ``rm "$f"`` is judged as
``rm /data/*`` (a mass deletion) or as the scoped retention. A filter between them (``grep``,
``head``) changes the names: the stream loses the word and the variable stays one unknown name.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tree_sitter import Node

from guardrails_core.intent.shell.options import _parse, _Parsed, _words
from guardrails_core.intent.shell.words import _Feed, _Io, _Origin, _Word

if TYPE_CHECKING:
    from guardrails_core.intent.shell.expand import _Expander

# ls options that print one plain name per entry (no long format, no decorations)
_PLAIN_LS = _words("-1 -a -A -t -r -S -U -X -v -d --all --almost-all --reverse --directory --sort")
# `read` options that take a value; the rest of its operands are the variables it sets
_READ_VALUES = _words("-d -n -N -p -t -u -a -i")


def ls_names(parsed: _Parsed, files: Sequence[_Word]) -> _Word | None:
    """``ls /data``: each name printed is an entry of the folder (relative to it, so ``*``);
    ``ls /data/*.csv``: each is a path the pattern matches."""
    plain = all(name in _PLAIN_LS for name, _ in parsed.options)
    if not plain or len(files) != 1 or files[0].dynamic:
        return None
    listed = files[0]
    if re.search(r"[*?\[]", listed.value):
        return _Word(listed.value, listed.display, glob=True, span=listed.span)
    if parsed.has("-d", "--directory"):
        return None
    folder = listed.display.rstrip("/") or "/"
    return _Word("*", f"{posixpath.join(folder, '*')} (names from ls)", glob=True, span=listed.span)


def read_variables(words: Sequence[str]) -> list[str]:
    """The variables ``read -r f`` sets (its words after the program name)."""
    names: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in _READ_VALUES:
            skip = True
        elif word.startswith("-"):
            skip = word[:2] in _READ_VALUES and len(word) == 2
        elif re.fullmatch(r"[A-Za-z_]\w*", word):
            names.append(word)
        else:
            return []
    return names


def while_loop(analyzer: _Expander, node: Node, io: _Io) -> _Feed | None:
    """``ls /data | while read -r f; do ...``: the variable is each name the listing on the
    loop's input prints."""
    condition = node.child_by_field_name("condition")
    names = io.feed.names if io.feed is not None else None
    if condition is not None and condition.type != "command":
        condition = next((c for c in condition.children if c.type == "command"), None)
    if names is None or not names.glob or condition is None:
        return analyzer.compound(node, io)
    words = [
        analyzer.node_text(child)
        for child in condition.children
        if child.type not in ("variable_assignment", "file_redirect")
    ]
    variables = read_variables(words[1:]) if words[:1] == ["read"] else []
    if not variables:
        return analyzer.compound(node, io)
    return over_listing(analyzer, variables, names, node, io)


def over_listing(
    analyzer: _Expander, variables: Sequence[str], names: _Word, node: Node, io: _Io
) -> _Feed | None:
    """The loop's body read once, its variables bound to the listing's word."""
    before = {variable: analyzer.variables.get(variable) for variable in variables}
    for variable in variables:
        analyzer.variables[variable] = names.value
        if names.glob:
            analyzer.globbed.add(variable)
    output = analyzer.compound(node, io)
    for variable, value in before.items():
        analyzer.globbed.discard(variable)
        analyzer.variables.pop(variable, None)
        if value is not None:
            analyzer.variables[variable] = value
    return output


# a pod in one of these phases has stopped for good: no container of it runs any more
_FINISHED_PHASES = frozenset(("Failed", "Succeeded"))
_POD_WORDS = frozenset(("pods", "pod", "po"))
_KUBECTL_GET_VALUES = _words("-o --output --field-selector -n --namespace -l --selector")


def finished_pods(args: Sequence[_Word]) -> _Feed | None:
    """``kubectl get pods --field-selector=status.phase=Failed -o name``: each line it prints is
    ``pod/NAME`` of a pod that has finished, so ``| xargs kubectl delete`` removes finished pods
    only. Any other resource, output, or a selector that does not hold the phase to a finished
    one (``status.phase!=Running``) names nothing known."""
    parsed = _parse(args, _KUBECTL_GET_VALUES)
    resource = [word.value for word in parsed.operands[:2]]
    outputs = [word.value for word in parsed.values("-o", "--output")]
    selectors = parsed.values("--field-selector")
    if parsed.unknown or resource[:1] != ["get"] or resource[1:] not in ([p] for p in _POD_WORDS):
        return None
    if outputs[-1:] != ["name"] or not selectors:
        return None
    if not all(_holds_finished(word) for word in selectors):
        return None
    names = _Word("pod/{finished}", "pod/* (finished pods, names from kubectl get)")
    return _Feed(_Origin.DATA, "kubectl get pods of a finished phase", names=names)


def _holds_finished(selector: _Word) -> bool:
    """``status.phase=Failed,spec.nodeName=n1``: one requirement holds the phase to a finished
    one (the others only narrow it further)."""
    if selector.dynamic:
        return False
    for requirement in selector.value.split(","):
        field, equals, phase = requirement.partition("=")
        if field.strip() == "status.phase" and equals and phase.lstrip("=") in _FINISHED_PHASES:
            return True
    return False
