"""Where a credential goes, as a mixin of the tree walk: used or written to the task log.

A secret manager's value (``vault kv get``) captured by a substitution, piped into a program
that reads it from stdin without printing it (``docker login --password-stdin``, a data table in
rules/programs.yaml) or saved to a file is used. Printed to the task's stdout or stderr it lands
in the task log, which orchestrators show to many people: a credential exposure (privilege),
reviewed for every actor; sent over the network with data it is exported and exposed. So are
the ways a shell prints it by itself: ``set -x`` traces expanded values, and since a task is given
its credentials in its environment, a whole-environment dump (``env``, ``printenv``, ``set``,
``export -p``, ``/proc/self/environ``) and a variable whose name says it is one
(``echo $DB_PASSWORD``, a data list in rules/programs.yaml) print one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from guardrails_core.intent import shell_registry
from guardrails_core.intent.shell.words import (
    EXPANSION_PLACEHOLDER,
    _Effect,
    _Feed,
    _merge_origins,
    _Origin,
    _Out,
    _Word,
    _Write,
)
from guardrails_core.model import Intent, ObjectAction, ObjectKind

if TYPE_CHECKING:
    from tree_sitter import Node

#: The object a credential printed to the task's output is written to (baseline.credential-in-log).
TASK_LOG = "task log"
# Paths that are the task's own output, not a file.
_TASK_OUTPUT = re.compile(r"^/dev/(?:stdout|stderr|tty|fd/[12])$|^/proc/self/fd/[12]$")
# `set -x`, `set -euxo pipefail`, `set -o xtrace` (and + to switch it off).
_XTRACE_FLAGS = re.compile(r"^[-+][a-zA-Z]*x[a-zA-Z]*$")
_EXPORT_FLAGS = re.compile(r"^-[a-zA-Z]*x[a-zA-Z]*$")  # declare -x, typeset -gx
# A use of a variable's value, whole or in part ($PW, ${PW}, ${PW:0:4}; not its length ${#PW}).
VARIABLE_USE = re.compile(r"\$\{?([A-Za-z_]\w*)")
_SHELLS = frozenset(("sh", "bash", "dash", "zsh", "ksh", "mksh", "ash"))
_DECLARATIONS = frozenset(("export", "declare", "typeset", "local", "readonly"))
# declarations that print the environment when given no names (`declare -x`, `typeset -p`)
_DUMP_FLAGS = re.compile(r"^-[px]+$")
_PRINTERS = frozenset(("echo", "printf"))
_EMPTIED = frozenset(("-i", "--ignore-environment", "-"))  # env -i: an empty environment
# the keys of KEY=value, {key: value}, a bare NAME (--build-arg NPM_TOKEN: from the environment)
_KEYS = re.compile(r"([A-Za-z_]\w*)['\"]?\s*(?:[:=]|$)")
# JSON/YAML selectors: a filter that is a literal path (`.lake_bucket_name.value`, `.a[0]."b"`)
# passes only that field on; of named values (terraform output -json, _Origin.NAMED) it is a
# credential only when a key's name says it is one
_SELECTORS = frozenset(("jq", "gojq", "jaq", "yq"))
_SELECTOR_FLAGS = frozenset(("-r", "--raw-output", "-c", "--compact-output", "-e", "-j", "-M"))
_KEY = r'(?:\.(?:[A-Za-z_]\w*|"[\w .-]*")|\[\d+\]|\["[\w .-]*"\])'
_LITERAL_PATH = re.compile(rf"^{_KEY}+$")
_PATH_KEY = re.compile(r"[A-Za-z_][\w .-]*")


@dataclass(slots=True)
class _Credentials:
    """What the script has done with credentials so far (shared with nested scripts)."""

    variables: set[str] = field(default_factory=set)  # names assigned a credential
    exported: set[str] = field(default_factory=set)  # of those, in the environment
    xtrace: bool = False  # `set -x` is on: every expanded command line is printed


def _holds_credential(feed: _Feed | None) -> bool:
    if feed is None:
        return False
    literal = feed.literal
    return bool(
        feed.origin & _Origin.SECRET or (literal is not None and literal.origin & _Origin.SECRET)
    )


def _secret(feed: _Feed) -> _Feed:
    return _Feed(feed.origin | _Origin.SECRET, feed.description, feed.literal)


def _used(feed: _Feed) -> _Feed:
    if not _holds_credential(feed):
        return feed
    return _Feed(feed.origin & ~_Origin.SECRET, feed.description)


def _selects(program: str, args: Sequence[str]) -> bool:
    """``jq -r '.lake_bucket_name.value'``: prints one field, whose path names no credential
    (``jq .``, ``jq '.db_password.value'`` and ``jq '.. | .password?'`` still print one)."""
    if program not in _SELECTORS:
        return False
    operands = [arg for arg in args if arg not in _SELECTOR_FLAGS]
    if program == "yq" and operands[:1] in (["e"], ["eval"]):
        operands = operands[1:]
    return (
        len(operands) == 1
        and _LITERAL_PATH.match(operands[0]) is not None
        and not any(map(shell_registry.names_credential, _PATH_KEY.findall(operands[0])))
    )


def _run_words(program: str, words: Sequence[_Word]) -> Sequence[_Word]:
    """The words of the command that ran: ``env`` in ``kubectl exec pod -- env`` or ``sudo env``
    (a wrapper that runs a command as given is named after it; its output is printed here)."""
    names = [word.value.rsplit("/", 1)[-1] for word in words]
    ran = max((index for index, name in enumerate(names) if name == program), default=0)
    return words[ran:]


def _dumps(program: str) -> str:
    return f"{program} prints the whole environment (the credentials the task was given)"


def _to_task_log(effect: _Effect, how: str) -> None:
    effect.add(Intent.PRIVILEGE, f"{how}: a credential is written to the task log")
    effect.obj(ObjectKind.OTHER, ObjectAction.EXPORT_TARGET, TASK_LOG)


def _to_plain_files(effect: _Effect, program: str, files: Sequence[_Word]) -> None:
    """A credential tee copies into a file of the workspace (a relative path: `... -o yaml |
    tee secret.yaml | kubectl apply -f -`) beside the stream that uses it: a plain-text copy
    that artifacts, caches and commits pick up, kept for nothing. Not a private file a consumer
    reads next (/tmp/key: a full path), nor a file kept for credentials (.env, *.pem). A
    redirect saves the output for a next step (`terraform show -json tfplan > plan.json`)."""
    for file in files:
        if file.dynamic or file.value.startswith(("/", "~")):
            continue
        if shell_registry.file_classes(file.value) & {"secrets", "secret_variants"}:
            continue
        effect.add(
            Intent.PRIVILEGE, f"{program} writes a credential in plain text to {file.display}"
        )


class _CredentialFlow:
    """The walk's view of credentials; `walk._Analyzer` inherits this."""

    if TYPE_CHECKING:
        credentials: _Credentials

        def produced_by(self, path: _Word) -> _Feed | None: ...

        def node_text(self, node: Node) -> str: ...

    def credential_output(
        self,
        effect: _Effect,
        words: Sequence[_Word],
        prefixed: _Origin,
        feed: _Feed | None,
        output: _Feed | None,
        writes: Sequence[_Write],
        out: _Out,
    ) -> _Feed | None:
        """A simple command's stdout, marked when it carries a credential; printed to the task's
        output (or traced by ``set -x``), the command is named as writing it to the task log."""
        if not words:
            return output
        program = effect.operation
        args = [word.value for word in words[1:]]
        if program == "set":
            self.note_xtrace(args)
        traced = _merge_origins([prefixed, *(word.origin for word in words)])
        if self.credentials.xtrace and traced & _Origin.SECRET:
            _to_task_log(effect, f"set -x traces {program}'s expanded arguments")
        if output is not None and Intent.EXPORT not in effect.findings:
            read = _holds_credential(feed) or self.prints_saved_credential(words, output)
            picked = feed is not None and feed.origin & _Origin.NAMED and _selects(program, args)
            if read and (shell_registry.reads_credential(program, args) or picked):
                output = _used(output)  # filters pass the origin on; a consumer does not
            elif read:
                output = _secret(output)
        if program == "tee" and _holds_credential(feed) and any(map(_TASK_OUTPUT.match, args)):
            _to_task_log(effect, "tee copies it to the task's output")
        if program == "tee" and _holds_credential(feed):
            _to_plain_files(effect, "tee", [w for w in words[1:] if not w.value.startswith("-")])
        ran = _run_words(program, words)
        option = shell_registry.credential_option(
            program, [word.value.replace(EXPANSION_PLACEHOLDER, "$") for word in ran[1:]]
        )
        if option:
            _to_task_log(
                effect,
                f"{program} {option} puts a credential in its arguments (every local user sees it"
                " in ps; it lands in shell history and the task's logged command)",
            )
        self.kept_credential(effect, program, ran)
        if out is _Out.TASK and shell_registry.traces_credential(program, args):
            _to_task_log(effect, f"{program}'s trace prints the credential it sends")
        emptied = bool(_EMPTIED & {word.value for word in words[1:]})  # env -i ... printenv
        printed = self.prints_variables(program, ran, feed, emptied=emptied)
        searched = shell_registry.searches_credentials(program, [word.value for word in ran[1:]])
        if searched and not printed:
            printed = f"{program} prints what matches {searched!r}, a credential's shape"
        if printed:
            effect.add(Intent.READ, printed)
            output = _secret(output or _Feed(_Origin.DATA, f"the output of {program}"))
        sent = any(word.origin & _Origin.SECRET for word in words)  # not a prefix's: that is used
        if Intent.EXPORT in effect.findings and (_holds_credential(feed) or sent or printed):
            effect.add(Intent.PRIVILEGE, f"{program} sends a credential out with the data")
        if not _holds_credential(output):
            return output
        to_files = [write for write in writes if write.stdout]
        if any(_TASK_OUTPUT.match(write.target.value) for write in to_files) or (
            not to_files and out is _Out.TASK
        ):
            _to_task_log(effect, printed or f"{program} prints it")
        return output

    def kept_credential(self, effect: _Effect, program: str, words: Sequence[_Word]) -> None:
        """``docker build --build-arg NPM_TOKEN=$NPM_TOKEN``: kept in the image's history
        (privilege: everyone who pulls it reads it); ``dbt run --vars '{pw: $PW}'``: the log."""
        kept = shell_registry.kept_options(program, [word.value for word in words[1:]])
        for index, word in enumerate(words[1:], start=1):
            option, equals, _ = word.value.partition("=")
            if option not in kept:
                continue
            carried = [word] if equals else list(words[index + 1 : index + 2])
            if not any(map(self.carries_credential, carried)):
                continue
            if kept[option] == "log":
                _to_task_log(effect, f"{program} {option} writes the credential in it to its logs")
                continue
            effect.add(
                Intent.PRIVILEGE,
                f"{program} {option} keeps the credential in it in the {kept[option]}'s history,"
                " which everyone who pulls it reads",
            )
            effect.obj(ObjectKind.OTHER, ObjectAction.EXPORT_TARGET, f"{kept[option]} history")

    def carries_credential(self, word: _Word) -> bool:
        """A value that holds one: a credential's variable or a key whose name says it is one
        (``NPM_TOKEN=$NPM_TOKEN``, bare ``NPM_TOKEN`` taken from the environment,
        ``{db_password: '...'}``)."""
        names = [name for text in word.expansions for name in VARIABLE_USE.findall(text)]
        names += _KEYS.findall(word.value)
        return bool(word.origin & _Origin.SECRET) or any(map(self.names_credential, names))

    def prints_saved_credential(self, words: Sequence[_Word], output: _Feed) -> bool:
        """``cat`` of a file that holds one (saved above, or ``jq . <(vault kv get ...)``)."""
        return bool(output.origin & _Origin.FILE) and any(
            word.origin & _Origin.SECRET or _holds_credential(self.produced_by(word))
            for word in words[1:]
        )

    @contextmanager
    def tracing(self, words: Sequence[_Word]) -> Iterator[None]:
        """A shell run by this command traces what it runs only if started with -x (``bash -x
        script``, ``sh -xc '...'``); whatever it sets (``set -x``) ends with it."""
        before = self.credentials.xtrace
        if words and words[0].value.rsplit("/", 1)[-1] in _SHELLS:
            self.credentials.xtrace = False  # a new shell starts untraced
            options: list[str] = []
            for word in words[1:]:
                if not word.value.startswith(("-", "+")) and options[-1:] != ["-o"]:
                    break
                options.append(word.value)
            self.note_xtrace(options)
        try:
            yield
        finally:
            self.credentials.xtrace = before

    def holds_credential(self, name: str) -> bool:
        return name in self.credentials.variables

    def note_xtrace(self, args: Sequence[str]) -> None:
        for index, arg in enumerate(args):
            flags = _XTRACE_FLAGS.match(arg)
            option = arg in ("-o", "+o") and args[index + 1 : index + 2] == ["xtrace"]
            if flags or option:
                self.credentials.xtrace = arg.startswith("-")

    def prints_variables(
        self, program: str, words: Sequence[_Word], feed: _Feed | None, *, emptied: bool = False
    ) -> str:
        """``env``, ``printenv [NAME]``, ``set``, ``echo $NAME``, ``cat /proc/self/environ``:
        how they print credential variables (the environment's or the script's own)."""
        args = [word.value for word in words[1:]]
        operands = [arg for arg in args if not arg.startswith("-")]
        emptied = emptied or bool(_EMPTIED & set(args))
        dumps = all("=" in arg for arg in operands) and not emptied
        if (program == "set" and not args) or (
            program in ("env", "printenv")
            and dumps
            and not shell_registry.prints_info_only(program, args)
        ):
            return _dumps(program)
        read = list(args)
        if feed is not None and feed.origin & _Origin.FILE:
            read.append(feed.description)  # tr '\0' '\n' < /proc/self/environ
        environ = [path for path in read if "environ" in shell_registry.file_classes(path)]
        if environ:
            return f"{program} reads {environ[0]}, a process's environment (its credentials)"
        if program == "printenv":
            shown = {name for name in operands if self.names_credential(name)}
        elif program in _PRINTERS and shell_registry.masks_credential(" ".join(operands)):
            return ""
        elif program in _PRINTERS:
            shown = {
                name
                for word in words[1:]
                for expansion in word.expansions
                for name in VARIABLE_USE.findall(expansion)
                if shell_registry.names_credential(name)
            }
        else:
            return ""
        return f"{program} prints ${', $'.join(sorted(shown))}" if shown else ""

    def names_credential(self, name: str) -> bool:
        """The script put a credential in it, or its name says it holds one."""
        return name in self.credentials.exported or shell_registry.names_credential(name)

    def credential_assignment(
        self, effect: _Effect, node: Node, origin: _Origin, out: _Out
    ) -> None:
        """``X=$(vault ...)``, ``export X=...``, ``export X``, ``export -p``: which variables
        hold a credential, which are exported, and what a declaration prints."""
        keyword = node.children[0].type if node.type == "declaration_command" else ""
        flags = [self.node_text(c) for c in node.children if c.type == "word"]
        exports = keyword == "export" or (
            keyword in _DECLARATIONS and any(_EXPORT_FLAGS.match(flag) for flag in flags)
        )
        assignments = (
            [node]
            if node.type == "variable_assignment"
            else [child for child in node.children if child.type == "variable_assignment"]
        )
        names = []
        for assignment in assignments:
            name, value = (assignment.child_by_field_name(f) for f in ("name", "value"))
            if name is not None:
                names.append(self.node_text(name))
            if value is not None and self.credentials.variables & set(
                VARIABLE_USE.findall(self.node_text(value))
            ):
                origin |= _Origin.SECRET  # Y=$PW: Y holds it too
        if origin & _Origin.SECRET:
            self.credentials.variables.update(names)
            if exports:
                self.credentials.exported.update(names)
            if self.credentials.xtrace:
                _to_task_log(effect, f"set -x traces the assignment of {', '.join(names)}")
        if not keyword or assignments:
            return
        # every argument, `export $(grep -v '^#' .env | xargs)` included: names, not a dump
        words = [self.node_text(c) for c in node.children[1:] if c.is_named]
        operands = [word for word in words if not word.startswith("-")]
        if exports and operands:  # export X: X (if it holds a credential) joins the environment
            self.credentials.exported.update(set(operands) & self.credentials.variables)
            return
        if out is not _Out.TASK:
            return
        if not operands and (
            keyword == "export"
            or (keyword in ("declare", "typeset") and all(map(_DUMP_FLAGS.match, words)))
        ):
            printed = _dumps(keyword)
            effect.add(Intent.READ, printed)
            _to_task_log(effect, printed)
            return
        held = self.credentials.exported if keyword == "export" else self.credentials.variables
        named = {name for name in operands if shell_registry.names_credential(name)}
        shown = (held | named) & set(operands or held)
        if shown and (not operands or "-p" in words):
            _to_task_log(effect, f"{keyword} prints ${', $'.join(sorted(shown))}")
