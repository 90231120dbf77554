"""What the audit trail keeps of a command: literals as placeholders, secrets always masked.

``redact_decision`` turns a ``Decision`` into the JSON-ready copy the store hashes and keeps. The
fingerprint stays that of the full text, so approvals and look-ups still bind to the exact command.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError
from sqlglot.tokenizer_core import TokenType
from sqlglot.tokens import Tokenizer

from guardrails_core.model import CommandKind, Decision, StatementEffect

from .records import TextForm
from .secrets import VERBATIM_KEYS, mask_secrets

PLACEHOLDER = "?"


def mask_url(url: str) -> str:
    """A database URL fit for messages and logs: the password replaced by ``***``."""
    if url.startswith("sqlite") and "@" not in url and "?" not in url:
        return url  # no user, no password, no options: nothing to mask or to parse
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL still gets its secrets masked
        return mask_secrets(url)


# --------------------------------------------------------------------------- SQL

# What the dialect's tokenizer calls a literal: each becomes one placeholder.
_LITERAL_TOKENS = frozenset(
    getattr(TokenType, name)
    for name in (
        "STRING",
        "NUMBER",
        "NATIONAL_STRING",
        "HEX_STRING",
        "BIT_STRING",
        "BYTE_STRING",
        "RAW_STRING",
        "HEREDOC_STRING",
        "UNICODE_STRING",
    )
    if hasattr(TokenType, name)
)
# $1, :1: the number names a bind parameter, it is not a literal.
_BIND_MARKERS = frozenset({TokenType.PARAMETER, TokenType.COLON})
# Words kept by the fully masked form (everything else becomes a placeholder).
_KEYWORD_WORDS = frozenset(
    {word for word in Tokenizer.KEYWORDS if word.replace(" ", "").isalpha()}
    | set(
        [
            "ACCOUNT",
            "ADMIN",
            "ANALYZE",
            "BY",
            "CLUSTER",
            "CONNECTION",
            "DATABASE",
            "ENCRYPTED",
            "FULL",
            "GRANT",
            "IDENTIFIED",
            "LOGIN",
            "NOLOGIN",
            "OPTION",
            "OWNER",
            "PASSWORD",
            "PRIVILEGES",
            "REINDEX",
            "REVOKE",
            "ROLE",
            "SCHEMA",
            "SUPERUSER",
            "USER",
            "VACUUM",
            "VALID",
            "UNTIL",
            "WITH",
        ]
    )
)


@lru_cache(maxsize=64)
def _dialect(name: str | None) -> Dialect:
    return Dialect.get_or_raise(name)


@lru_cache(maxsize=2048)
def normalize_sql(text: str, dialect: str | None = None) -> str:
    """SQL with every literal replaced by ``?`` and comments dropped, else its masked form.

    Literals are what the dialect's sqlglot tokenizer says they are (strings, numbers, dollar-
    quoted, hex, bit, byte, national, unicode strings), so this also covers statements the parser
    only keeps as opaque commands (``CREATE USER ... IDENTIFIED BY '...'``). The author's layout
    is kept, with each run of whitespace or comments collapsed to one space. Text the tokenizer
    rejects (an unterminated quote) is stored in its fully masked form (``mask_sql``).
    """
    try:
        tokens = _dialect(dialect).tokenize(text)
    except (SqlglotError, ValueError, RecursionError):
        return mask_sql(text)
    pieces: list[str] = []
    end = -1
    previous: TokenType | None = None
    for token in tokens:
        if token.start <= end:  # synthetic tokens (e.g. from 1L suffixes) overlap the last one
            continue
        adjacent = token.start == end + 1
        if end >= 0 and not adjacent:
            pieces.append(" ")
        literal = token.token_type in _LITERAL_TOKENS and not (
            adjacent and previous in _BIND_MARKERS
        )
        pieces.append(PLACEHOLDER if literal else text[token.start : token.end + 1])
        end, previous = token.end, token.token_type
    return mask_secrets("".join(pieces))


def mask_sql(text: str) -> str:
    """The fully masked form of text that is not SQL sqlglot can read: keywords and punctuation."""
    words = [
        word if word.upper() in _KEYWORD_WORDS or not word[0].isalnum() else PLACEHOLDER
        for word in re.findall(r"\w+|[(),;*=<>]", text)
    ]
    collapsed: list[str] = []
    for word in words:
        if not (word == PLACEHOLDER and collapsed and collapsed[-1] == PLACEHOLDER):
            collapsed.append(word)
    return " ".join(collapsed)


# --------------------------------------------------------------------------- decisions

_VERBATIM_KEYS = VERBATIM_KEYS


def redact_decision(
    decision: Decision, *, full_text: bool = False
) -> tuple[dict[str, Any], TextForm]:
    """The JSON-ready copy of ``decision`` that the audit trail keeps.

    Statement and command texts are normalised (``full_text`` keeps them whole); secrets are
    masked in every string of the decision either way; datetimes become ISO-8601 UTC strings.
    """
    form = TextForm.FULL if full_text else TextForm.NORMALIZED
    data = _in_utc(decision).model_dump(mode="json", by_alias=True, exclude_computed_fields=True)
    sql_texts: dict[str, str] = {}
    data["statements"] = [
        _redact_statement(raw, statement, form, sql_texts)
        for raw, statement in zip(data["statements"], decision.statements, strict=True)
    ]
    command = decision.command
    data["command"]["text"] = _redact_text(
        command.text, command.kind, command.dialect, form, sql_texts
    )
    return _masked(data), form


def _in_utc(decision: Decision) -> Decision:
    """The decision with its datetimes in UTC (naive ones taken as UTC): one spelling each."""
    approvals = decision.context.approvals
    if _is_utc(decision.decided_at) and all(
        approval.approved_at is None or _is_utc(approval.approved_at) for approval in approvals
    ):
        return decision
    context = decision.context.model_copy(
        update={
            "approvals": tuple(
                approval.model_copy(update={"approved_at": _as_utc(approval.approved_at)})
                if approval.approved_at is not None
                else approval
                for approval in approvals
            )
        }
    )
    return decision.model_copy(
        update={"decided_at": _as_utc(decision.decided_at), "context": context}
    )


def _is_utc(moment: datetime) -> bool:
    return moment.tzinfo is UTC or (
        moment.tzinfo is not None and moment.utcoffset() == timedelta(0)
    )


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _redact_statement(
    raw: dict[str, Any], statement: StatementEffect, form: TextForm, sql_texts: dict[str, str]
) -> dict[str, Any]:
    raw["embedded"] = [
        _redact_statement(inner_raw, inner, form, sql_texts)
        for inner_raw, inner in zip(raw["embedded"], statement.embedded, strict=True)
    ]
    raw["text"] = _redact_text(statement.text, statement.kind, statement.dialect, form, sql_texts)
    if statement.kind is CommandKind.SQL:
        sql_texts[statement.text] = raw["text"]
    return raw


def _redact_text(
    text: str, kind: CommandKind, dialect: str | None, form: TextForm, sql_texts: dict[str, str]
) -> str:
    if kind is CommandKind.SQL:
        return mask_secrets(text) if form is TextForm.FULL else normalize_sql(text, dialect)
    if form is TextForm.NORMALIZED:
        # SQL handed to a client inside a shell command is replaced by its normalised form.
        for original, normalized in sorted(sql_texts.items(), key=lambda item: -len(item[0])):
            if original and original in text:
                text = text.replace(original, normalized)
    return mask_secrets(text)


_SCALARS = frozenset({int, float, bool, type(None)})


def _masked(value: Any, key: str | None = None) -> Any:
    """A JSON value with secrets masked in every string (but ids and hashes) and storable text."""
    kind = type(value)
    if kind is str:
        return value if key in _VERBATIM_KEYS else mask_secrets(_storable(value))
    if kind is dict:
        return {k: v if type(v) in _SCALARS else _masked(v, k) for k, v in value.items()}
    if kind is list:
        return [item if type(item) in _SCALARS else _masked(item, key) for item in value]
    return value


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC with microseconds and a ``Z``: one spelling per instant (naive means UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _storable(text: str) -> str:
    """Text every backend can store: no NUL, no lone surrogates (both become U+FFFD)."""
    if text.isascii() and "\x00" not in text:
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text.replace("\x00", "\ufffd")


# Values a database error quotes back: 'literal', Key (col)=(value), Failing row contains (...).
_DETAIL_LITERALS = (
    (re.compile(r"'(?:[^']|'')*'"), "'?'"),
    (re.compile(r"(\)=\()[^)]*(\))"), r"\1?\2"),
    (re.compile(r"(?i)(row contains \()[^)]*(\))"), r"\1?\2"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), PLACEHOLDER),
)


def clean_detail(text: str | None, *, full_text: bool) -> str | None:
    """An outcome's detail as stored: like ``clean_text``, and unless ``full_text`` the literals
    a database error quotes back (values, emails) become ``?``; JSON details are kept whole."""
    cleaned = clean_text(text)
    if cleaned is None or full_text or cleaned[:1] in "[{":
        return cleaned
    for pattern, replacement in _DETAIL_LITERALS:
        cleaned = pattern.sub(replacement, cleaned)
    return cleaned


def clean_text(text: str | None) -> str | None:
    """Free text (outcome details, actor names) as stored: storable and with secrets masked."""
    return None if text is None else mask_secrets(_storable(text))
