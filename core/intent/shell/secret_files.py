"""Files that hold secrets by their name or by what this script put in them (a copy of .env,
a config rendered with an env file), and git ignore rules rewritten: staged and committed, the
secrets go into a history every clone and push carries."""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING

from guardrails_core.intent import shell_registry
from guardrails_core.intent.shell.words import _Feed, _Origin, _Word

if TYPE_CHECKING:
    from guardrails_core.intent.shell.walk import _Analyzer

_ANY_COPY = "*"
IGNORE_RULES_REWRITTEN = "git ignore rules rewritten"


def names_secret_file(path: str) -> bool:
    """.env, .env.production, *.pem: a credentials file by its name; a template of one
    (.env.example) is not."""
    classes = shell_registry.file_classes(path)
    return bool(classes & {"secrets", "secret_variants"}) and "templates" not in classes


def reads_credential(word: _Word) -> bool:
    """A word built from a credential: a secret's value, or a secrets file (.env.production,
    ~/.aws/credentials) read by a substitution (`-m "rotate: $(cat .env.production)"`)."""
    if word.origin & _Origin.SECRET:
        return True
    if not word.origin & (_Origin.FILE | _Origin.CREDENTIALS):
        return False
    tokens = re.split(r"[\s'\"()$`|<>;]+", word.source or word.display)
    return any(names_secret_file(token) for token in tokens if token)


def _secret_copy_key(path: str) -> str:
    return f"secrets written to {path if path == _ANY_COPY else posixpath.normpath(path)}"


def note_secret_copy(analyzer: _Analyzer, dest: _Word, what: str) -> None:
    """DEST now holds the secrets of WHAT (`cp .env.production .env.example`)."""
    if dest.dynamic:
        return
    path = posixpath.normpath(dest.value)
    while path not in ("", ".", "/"):  # `git add config` stages config/app.env.sample
        analyzer.note_fact(_secret_copy_key(path), what)
        path = posixpath.dirname(path)
    analyzer.note_fact(_secret_copy_key(_ANY_COPY), what)


def holds_secrets(analyzer: _Analyzer, path: _Word) -> str | None:
    """What secrets PATH holds (its own name, or what this script copied into it), or None."""
    if path.dynamic:
        return None
    copied = analyzer.fact(_secret_copy_key(path.value))
    if copied is not None:
        return f"{path.display} (holding the secrets of {copied})"
    return path.display if names_secret_file(path.value) else None


def secret_copies(analyzer: _Analyzer) -> str | None:
    """The secrets this script copied anywhere (for `git add -A`)."""
    return analyzer.fact(_secret_copy_key(_ANY_COPY))


def note_secret_source(analyzer: _Analyzer, sources: list[_Word], dest: _Word) -> None:
    """A copy (cp, mv, install, a redirect of cat) of a secret file is a secret file."""
    held = [what for what in (holds_secrets(analyzer, source) for source in sources) if what]
    if held:
        note_secret_copy(analyzer, dest, ", ".join(held))


def note_ignore_rules_edit(analyzer: _Analyzer, target: _Word) -> None:
    """.gitignore rewritten, edited in place or emptied (not appended to): the rules that kept
    .env and keys out of `git add -A` may be gone."""
    if not target.dynamic and "ignore_rules" in shell_registry.file_classes(target.value):
        analyzer.note_fact(IGNORE_RULES_REWRITTEN, target.display)


def note_written(
    analyzer: _Analyzer, target: _Word, content: _Feed | None, *, appends: bool
) -> None:
    """TARGET written with CONTENT (a redirect, tee): the bytes of a secret file make it one;
    ignore rules overwritten, or appended a `!` rule that re-includes a secret file (`!.env`;
    `!.env.example` is a template), are rewritten."""
    if content is not None and content.secrets_of:
        note_secret_copy(analyzer, target, content.secrets_of)
    literal = content.literal if content is not None else None
    reincludes = literal is not None and any(
        line.strip().startswith("!") and names_secret_file(line.strip()[1:].lstrip("/"))
        for line in literal.value.splitlines()
    )
    if not appends or reincludes:
        note_ignore_rules_edit(analyzer, target)
