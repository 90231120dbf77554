"""find: what -delete and -exec do to every match under its roots, and when the matches are
only old files of one kind or empty folders (retention)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import replace

from guardrails_core.intent import shell_registry
from guardrails_core.intent.shell.files import _delete, _record_write
from guardrails_core.intent.shell.options import _Call
from guardrails_core.intent.shell.words import _names, _Word
from guardrails_core.model import Intent, ObjectAction, ObjectKind


def _find(call: _Call) -> None:
    """find ROOTS... EXPRESSION: -delete and -exec act on every match under the roots."""
    args = call.args
    split = next(
        (i for i, w in enumerate(args) if w.value.startswith(("-", "(", "!", ")"))), len(args)
    )
    roots = list(args[:split]) or [_Word.literal(".")]
    call.add(Intent.READ, f"find lists files under {_names(roots)}")
    for root in roots:
        call.obj(ObjectKind.FILE, ObjectAction.READ, root.display)
    # Each match is a path under one of the roots, so scratch roots keep their matches scratch;
    # so do matches that every -name test confines to build or cache litter (*.pyc, __pycache__).
    names = _name_tests(args[split:])
    litter = _litter(args[split:], names)
    # Retention (`-name '*.dump' -mtime +30`, `-type d -empty`): only old files of one kind, or
    # empty folders, match; what a pipeline still uses is left alone.
    # A root above a database server's own folder (/, /var/lib) sweeps the server's files too:
    # their age does not make them litter.
    servers = [
        root
        for root in roots
        if not root.dynamic and shell_registry.folder_holds(root.value, ("data",))
    ]
    retention = _retention(args[split:], names) and not servers
    matches = _matches(roots, names, known=litter or retention, retention=retention)
    if len(matches) == 1 and call.stdout is not None:  # what a loop or xargs reads from it
        call.stdout = replace(call.stdout, names=matches[0])
    wanted = [name for name in names if shell_registry.names_credential_file(name)]
    if wanted:
        call.add(
            Intent.PRIVILEGE, f"find searches {_names(roots)} for credential files ({wanted[0]})"
        )
    index = split
    while index < len(args):
        action = args[index].value
        # an action runs only on the paths its own -o branch matches: `-path ./.venv -prune -o
        # -name __pycache__ -exec rm -rf {} +` deletes cache folders only, whatever else is named
        branch = _own_branch(args, split, index)
        acted = matches
        if (
            branch is not None
            and not (litter or retention)
            and _litter(branch, own := _name_tests(branch))
        ):
            acted = _matches(roots, own, known=True, retention=False)
        if action == "-delete":
            what = "every old or empty match" if retention else "every match"
            _delete_found(call, "-delete", what, roots, acted, servers, retention=retention)
        elif action in ("-fprint", "-fprint0", "-fls", "-fprintf") and index + 1 < len(args):
            _record_write(call.effect, args[index + 1], f"find {action}")
        elif action in ("-exec", "-execdir", "-ok", "-okdir"):
            end = next(
                (j for j in range(index + 1, len(args)) if args[j].value in (";", "+")), len(args)
            )
            inner: list[_Word] = []
            for word in args[index + 1 : end]:
                found = [replace(match, span=word.span) for match in acted]
                inner.extend(found if word.value == "{}" else [word])
            if inner:
                effect = call.analyzer.run_inner(call, inner, feed=None, transparent=False)
                if Intent.DELETE in effect.intents:
                    what = "every old match" if retention else "every match"
                    verb = f"{action} {effect.operation}"
                    _delete_found(call, verb, what, roots, acted, servers, retention=retention)
            index = end
        index += 1


def _name_tests(expression: Sequence[_Word]) -> list[str]:
    """The names an expression's -name and -iname tests give (written out, not built)."""
    return [
        expression[i + 1].value
        for i in range(len(expression) - 1)
        if expression[i].value in _NAME_TESTS and not expression[i + 1].dynamic
    ]


def _litter(expression: Sequence[_Word], names: Sequence[str]) -> bool:
    """Every match is build or cache litter (*.pyc, __pycache__): each name test confines it so,
    and nothing widens the match past them."""
    return (
        bool(names)
        and not _widened(expression, grouped=False)
        and all(shell_registry.is_scratch(f"./{name}") for name in names)
    )


def _matches(
    roots: Sequence[_Word], names: Sequence[str], *, known: bool, retention: bool
) -> list[_Word]:
    """What an action acts on under each root: when the matches are `known` (litter, or old or
    empty ones), paths of the first name; else every path."""
    return [
        _Word(
            f"{root.value.rstrip('/')}/{names[0] if names and known else '*'}",
            f"{root.display.rstrip('/')}/**",
            dynamic=root.dynamic,
            glob=not known,
            retained=retention,
        )
        for root in roots
    ]


def _own_branch(args: Sequence[_Word], start: int, action: int) -> list[_Word] | None:
    """The words of the top-level -o branch an action stands in (the tests that must hold for
    it to run, -o binding looser than the implied -a), or None when it stands inside
    parentheses or there is no -o."""
    depth = 0
    bounds = [start]
    for index in range(start, len(args)):
        value = args[index].value
        depth += (value == "(") - (value == ")")
        if index == action and depth != 0:
            return None
        if depth == 0 and value in ("-o", "-or"):
            bounds.append(index + 1)
    if len(bounds) == 1:
        return None
    begin = max(bound for bound in bounds if bound <= action)
    return list(args[begin:action])


def _delete_found(
    call: _Call,
    verb: str,
    what: str,
    roots: Sequence[_Word],
    matches: Sequence[_Word],
    servers: Sequence[_Word],
    *,
    retention: bool,
) -> None:
    """find's matches deleted by -delete or by the program -exec runs on them."""
    _delete(call, matches, f"find {verb} deletes {what} under {_names(roots)}", bulk=not retention)
    if servers:
        reached = f"{_names(servers)} reaches a database server's own files"
        call.add(Intent.HOST_ACCESS, f"find {verb} under {reached}")


_AGE_TESTS = frozenset(("-mtime", "-mmin", "-atime", "-amin", "-ctime", "-cmin"))
_WIDENING = frozenset(("-o", "-or", "!", "-not", ","))
_NAME_TESTS = frozenset(("-name", "-iname"))


def _widened(expression: Sequence[_Word], *, grouped: bool) -> bool:
    """An -o, negation or comma that lets more than the named kinds of file match. An -o between
    two name tests (`\\( -name '*.pyc' -o -name '*.pyo' \\)`) only names another kind; with
    `grouped`, only inside parentheses: a bare -o splits the expression, and the tests before it
    (an age) do not hold for the matches after it (`-mtime +30 -name a -o -name b -delete`)."""
    values = [word.value for word in expression]
    depth = 0
    for index, value in enumerate(values):
        depth += (value == "(") - (value == ")")
        if value not in _WIDENING:
            continue
        following = values[index + 1] if index + 1 < len(values) else ""
        between_names = (
            value in ("-o", "-or")
            and index >= 2
            and values[index - 2] in _NAME_TESTS
            and following in _NAME_TESTS
            and (depth > 0 or not grouped)
        )
        if not between_names:
            return True
    return False


def _retention(expression: Sequence[_Word], names: Sequence[str]) -> bool:
    """An expression that matches only empty folders, or files of a named kind older than a
    positive age (no -o or negation widening it)."""
    values = [word.value for word in expression]
    if _widened(expression, grouped=True) or any(w.dynamic for w in expression):
        return False
    if "-empty" in values:
        return True
    aged = any(
        value in _AGE_TESTS and re.fullmatch(r"\+[1-9]\d*", following)
        for value, following in itertools.pairwise(values)
    )
    return aged and bool(names) and all(name.strip("*") for name in names)
