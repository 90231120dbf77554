"""The one redaction path for secrets: every sink (store, outcome details, messages, logs, XCom,
lineage, Prefect artifacts and events) masks text through ``mask_secrets`` before it leaves.

Patterns are data: ``SECRET_PATTERNS`` (regexes with a ``secret`` group) and
``PROGRAM_SECRET_OPTIONS`` (programs whose short options carry a password).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, NamedTuple

MASK = "***"

# A secret value: quoted, or a bare word (not a lone "?", the placeholder of a removed literal).
_VALUE = (
    r"""(?!\?(?:[\s'"&;,)]|$))(?:[EeNn]?'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*"|(?P<dq>\$\w*\$)"""
    r"""(?:(?!(?P=dq)).)*(?P=dq)|[^\s'"&;,()][^\s'"&;,)]*)"""
)
_WORDS = (
    r"password|passwd|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key"
    r"|credentials?|key[_-]?id|sas[_-]?token|signature"
)
_SECRET_WORD = rf"(?:[\w.-]*(?:{_WORDS})[\w.-]*|pass|sig|auth)"
_SQL_LITERAL = r"(?:[EeNn]?'(?:[^'\\]|\\.|'')*'|(?P<tag>\$\w*\$)(?:(?!(?P=tag)).)*(?P=tag))"


class SecretPattern(NamedTuple):
    name: str
    regex: str
    # SQL keeps a masked literal a literal ('***'), so the statement still reads as SQL.
    keep_quotes: bool = False

    @property
    def pattern(self) -> re.Pattern[str]:
        return _compiled(self.regex, re.DOTALL)


@functools.cache
def _compiled(regex: str, flags: int = 0) -> re.Pattern[str]:
    """Compiled on first need: most texts carry no hint of a secret and never need the patterns
    (compiling all of them is ~10 ms of a fresh worker's first decision)."""
    return re.compile(regex, flags)


def _p(name: str, regex: str) -> SecretPattern:
    return SecretPattern(name, regex, name.startswith("sql-"))


# Each row: what it catches and a regex whose ``secret`` group is replaced by the mask (a quoted
# value keeps its quotes). Names that announce a secret are kept.
SECRET_PATTERNS: tuple[SecretPattern, ...] = (
    _p(
        "private-key-block",
        # A block cut short (a truncated message) is masked to the end of the text.
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?P<secret>.*?)"
        r"(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
    ),
    # scheme://user:password@host; the password may itself contain '@' (up to the last one).
    _p(
        "url-credentials",
        r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@]*:(?P<secret>[^\s/]*)@(?=[^\s@/]*(?:[/\s?#]|$))",
    ),
    _p(
        "authorization-header",
        r"(?i)\b(?:proxy-)?authorization\s*[:=]\s*(?:bearer|basic|token|digest|negotiate)?\s*"
        r"(?P<secret>[^\s'\"]+)",
    ),
    _p("bearer-token", r"(?i)\bbearer\s+(?P<secret>[A-Za-z0-9._~+/=-]{8,})"),
    # X-API-Key: v, Private-Token: v, X-Auth-Token: v (HTTP headers, also in curl -H '...').
    _p(
        "secret-header",
        rf"(?i)(?<![\w-])(?!(?:proxy-)?authorization\b)[A-Za-z-]*(?:{_WORDS}|auth)[A-Za-z-]*\s*:\s*(?P<secret>[^\s'\";,]+)",
    ),
    # curl -u user:pass, --user user:pass, wget --user=...
    _p(
        "user-password-option",
        r"(?<![\w-])(?:-u|--user|--proxy-user)(?:=|\s+)['\"]?[^\s:'\"]*:(?P<secret>[^\s'\"]+)",
    ),
    _p("openssl-pass", r"(?<![\w-])pass:(?P<secret>[^\s'\"]+)"),
    _p(
        "sql-identified-by",
        r"(?i)\bidentified\s+(?:with\s+\S+\s+)?(?:by|as)\s+(?:password\s+)?(?P<secret>"
        + _SQL_LITERAL
        + r"|(?!\?(?:[\s;,)]|$))[^\s;,()]+)",
    ),
    _p("sql-password-function", r"(?i)\bpassword\s*\(\s*(?P<secret>" + _SQL_LITERAL + r")"),
    _p(
        "sql-set-password",
        r"(?i)\bset\s+password\b[^=;]*=\s*(?:password\s*\(\s*)?(?P<secret>" + _SQL_LITERAL + ")",
    ),
    _p("sql-password-literal", r"(?i)\bpassword\s*(?:=\s*)?(?P<secret>" + _SQL_LITERAL + ")"),
    # COPY ... CREDENTIALS 'aws_access_key_id=..;aws_secret_access_key=..' (Redshift).
    _p("sql-credentials-clause", r"(?i)\bcredentials\s*(?:=\s*)?(?P<secret>" + _SQL_LITERAL + ")"),
    # Redshift ACCESS_KEY_ID '..' SECRET_ACCESS_KEY '..' SESSION_TOKEN '..'.
    _p("sql-secret-keyword", rf"(?i)\b{_SECRET_WORD}\s+(?P<secret>{_SQL_LITERAL})"),
    # --password=x, --password x, --client-secret x, --api-key x ...
    _p(
        "password-option",
        rf"(?i)(?<![\w-])--?[\w-]*(?:{_WORDS}|pass)(?:=|\s+)(?P<secret>{_VALUE})",
    ),
    # aws configure set aws_secret_access_key VALUE
    _p(
        "configure-set",
        rf"(?i)\bconfigure\s+set\s+[\w.-]*(?:{_WORDS})[\w.-]*\s+(?P<secret>{_VALUE})",
    ),
    # PGPASSWORD=x, MYSQL_PWD=x, AWS_SECRET_ACCESS_KEY=x, password=x (libpq), ?X-Amz-Signature=x
    _p("key-value", rf"(?i)(?<![\w-]){_SECRET_WORD}\s*=\s*(?P<secret>{_VALUE})"),
    # "secret": "x" in JSON or YAML; unquoted `name: value` is left to secret-header.
    _p("quoted-key-value", rf"(?i)[\"']{_SECRET_WORD}[\"']\s*:\s*(?P<secret>{_VALUE})"),
    _p("aws-access-key-id", r"(?P<secret>\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b)"),
    # GitHub, Slack, OpenAI/Anthropic-style, Google API keys, JWTs.
    _p(
        "well-known-token",
        r"(?P<secret>\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}"
        r"|xox[abposr]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_-]{20,}|AIza[0-9A-Za-z_-]{35}"
        r"|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}))",
    ),
)

# Programs whose short option carries a password (``-pSECRET`` or ``-p SECRET``), by name.
PROGRAM_SECRET_OPTIONS: dict[str, tuple[str, ...]] = {
    "mysql": ("-p",),
    "mysqldump": ("-p",),
    "mysqladmin": ("-p",),
    "mysqlimport": ("-p",),
    "mysqlsh": ("-p",),
    "mariadb": ("-p",),
    "mariadb-dump": ("-p",),
    "sshpass": ("-p",),
    "sqlcmd": ("-P",),
    "bcp": ("-P",),
    "redis-cli": ("-a",),
    "docker": ("-p",),
    "podman": ("-p",),
    "az": ("-p", "--value"),
    "htpasswd": ("-b",),
    "snowsql": ("-p",),
}
_PROGRAM = re.compile(
    r"(?<![\w.-])(?:[\w./-]*/)?(?P<program>"
    + "|".join(re.escape(name) for name in sorted(PROGRAM_SECRET_OPTIONS, key=len, reverse=True))
    + r")(?![\w.-])"
)
_SIMPLE_COMMAND = re.compile(r"[^|;&\n]+")


def _short_option(option: str, attached: bool) -> str:
    # mysql's -p takes its value attached only (-p alone prompts); the others take either form.
    gap = "" if attached else r"\s*"
    return rf"(?<!\S){re.escape(option)}{gap}(?P<secret>{_VALUE})"


_OPTION_PATTERNS = {
    (program, option): _short_option(option, attached=program.startswith(("mysql", "mariadb")))
    for program, options in PROGRAM_SECRET_OPTIONS.items()
    for option in options
}


def _mask_value(value: str, keep_quotes: bool) -> str:
    if not keep_quotes:
        return MASK
    if value[:1] in "'\"" or value[:2].lower() in ("e'", "n'"):
        quote = value[-1]
        return value[: value.index(quote) + 1] + MASK + quote
    if value.startswith("$"):
        tag = value[: value.index("$", 1) + 1]
        return tag + MASK + tag
    return MASK


def _apply(
    pattern: re.Pattern[str], text: str, found: list[str] | None, keep_quotes: bool = False
) -> str:
    def replace(match: re.Match[str]) -> str:
        value = match.group("secret")
        if not value or value == MASK or MASK in value:
            return match.group(0)
        if found is not None:
            found.append(value.strip("'\"$"))
        start, end = match.span("secret")
        base = match.start()
        whole = match.group(0)
        return whole[: start - base] + _mask_value(value, keep_quotes) + whole[end - base :]

    return pattern.sub(replace, text)


def _mask_programs(text: str, found: list[str] | None) -> str:
    def per_command(command: re.Match[str]) -> str:
        piece = command.group(0)
        for program in {m.group("program") for m in _PROGRAM.finditer(piece)}:
            for option in PROGRAM_SECRET_OPTIONS[program]:
                piece = _apply(_compiled(_OPTION_PATTERNS[(program, option)]), piece, found)
        return piece

    return _SIMPLE_COMMAND.sub(per_command, text)


# Every pattern above needs one of these (in lower case): text without any is returned as is.
_SECRET_HINTS = re.compile(
    "|".join(
        re.escape(hint)
        for hint in (
            "://",
            "auth",
            "bearer",
            "identified",
            "pass",
            "pwd",
            "secret",
            "token",
            "key",
            "cred",
            "sas",
            "sig",
            "akia",
            "asia",
            "agpa",
            "aida",
            "aroa",
            "anpa",
            "gh",
            "xox",
            "sk-",
            "aiza",
            "eyj",
            "-u",
            "--user",
            *PROGRAM_SECRET_OPTIONS,
        )
    )
)


def _mask(text: str, found: list[str] | None) -> str:
    if _SECRET_HINTS.search(text.lower()) is None:
        return text
    for pattern in SECRET_PATTERNS:
        text = _apply(pattern.pattern, text, found, pattern.keep_quotes)
    if _PROGRAM.search(text):
        text = _mask_programs(text, found)
    return text


# Secret values another system knows to be secret though no pattern could tell (Airflow's secrets
# masker holds the real connection passwords): each source masks those it knows in a text. An
# adapter registers its source at the edge; the core never imports an orchestrator.
_KNOWN_SECRET_SOURCES: list[Callable[[str], str]] = []


def add_known_secrets(source: Callable[[str], str]) -> None:
    """Make every sink also mask what `source` masks (once per source; a source that raises
    fails the write it was masking, never lets the text through unmasked)."""
    if source not in _KNOWN_SECRET_SOURCES:
        _KNOWN_SECRET_SOURCES.append(source)


def mask_secrets(text: str) -> str:
    """Mask passwords, keys and tokens in any text, keeping the names that announce them, and
    every value a registered source knows to be secret."""
    masked = _mask(text, None)
    for source in _KNOWN_SECRET_SOURCES:
        masked = source(masked)
    return masked


# Fields that are hashes or ids: never rewritten by secret masking.
VERBATIM_KEYS = frozenset({"fingerprint", "sha256", "decision_id", "guardrails.fingerprint"})


def mask_json(value: Any, key: str | None = None) -> Any:
    """A JSON value with secrets masked in every string but ids and hashes."""
    if isinstance(value, str):
        return value if key in VERBATIM_KEYS else mask_secrets(value)
    if isinstance(value, dict):
        return {k: mask_json(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_json(item, key) for item in value]
    return value


def secret_values(text: str) -> list[str]:
    """The secret values ``mask_secrets`` would mask in ``text`` (for a log masker to learn)."""
    found: list[str] = []
    _mask(text, found)
    return [value for value in found if len(value) >= 4]
