"""Keyword commands: statements sqlglot keeps as a generic Command, classified by their leading
words."""

from __future__ import annotations

from sqlglot.dialects.dialect import Dialect
from sqlglot.tokenizer_core import Token, TokenType

from guardrails_core.intent.sql.access_policies import is_policy_kind, judge_policy_command
from guardrails_core.intent.sql.ambient_secrets import ambient_secret
from guardrails_core.intent.sql.blocks import (
    _BLOCK_STARTS,
    _block_body,
    _loop_body,
    remember_block_assignments,
)
from guardrails_core.intent.sql.command_rules import CommandRule, rules_by_first_word
from guardrails_core.intent.sql.dialects import _QUOTED_TOKENS, A, I, K
from guardrails_core.intent.sql.functions import _dynamic_text
from guardrails_core.intent.sql.settings import judge_set_words, judge_unset_words
from guardrails_core.intent.sql.specials import _SPECIAL_COMMANDS, _Command
from guardrails_core.intent.sql.statement import (
    _NOISE_WORDS,
    _STATEMENT_STARTERS,
    _Chunk,
    _matching_paren,
    _normalise,
    _Statement,
    _statement_words,
    _Words,
    object_key,
)
from guardrails_core.model import (
    Intent,
    ObjectAction,
    ObjectKind,
    StatementEffect,
)


def _command_words(chunk: _Chunk, source: str, dialect: Dialect) -> tuple[list[str], list[Token]]:
    found = _statement_words(chunk, source, dialect)
    return found.words, found.tokens


# Words after which a statement keyword is part of a clause, not a new statement:
# LOCK ... IN SHARE UPDATE EXCLUSIVE MODE, SELECT ... FOR UPDATE, VACUUM DELETE ONLY,
# CREATE TRIGGER ... BEFORE DELETE ON. Never ON: T-SQL's `SET NOCOUNT ON DROP TABLE t` is two.
_CLAUSE_WORDS = frozenset(
    {
        "SHARE",
        "ROW",
        "VACUUM",
        "FOR",
        "OF",
        "BEFORE",
        "AFTER",
        "INSTEAD",
        "EACH",
        "EXCLUSIVE",
        "ACCESS",
        "KEY",
    }
)


# A statement keyword and the word after it that open a clause, not a statement: BigQuery's
# row access policy `GRANT TO ('group:...')` (a GRANT statement names its privileges first).
_CLAUSE_OPENINGS = frozenset({("GRANT", "TO")})


def _or_replace(tokens: list[Token], position: int) -> bool:
    """`CREATE OR REPLACE SYNONYM`: REPLACE right after the verb's OR modifies it, no statement."""
    return position == 2 and [token.text.upper() for token in tokens[1:3]] == ["OR", "REPLACE"]


def _trailing_statement(statement: _Statement, found: _Words, first: int = 1) -> bool:
    """Analyse what hides after a harmless prefix in the same chunk; True if a statement did.

    A statement keyword at the top level starts a statement of its own (T-SQL runs the rest of
    the batch); a parenthesised query (`SET @x = (SELECT ...)`) runs too and is analysed.
    """
    tokens = found.tokens
    opened: list[int] = []
    position = first
    if [token.text.upper() for token in tokens[first : first + 2]] == ["OR", "REPLACE"]:
        position += 2  # DECLARE OR REPLACE VARIABLE: a modifier of the prefix, no statement
    while position < len(tokens):
        token = tokens[position]
        if token.token_type in (TokenType.L_PAREN, TokenType.L_BRACKET):
            opened.append(position)
        elif token.token_type in (TokenType.R_PAREN, TokenType.R_BRACKET):
            if opened:
                opened.pop()
        elif (
            token.start >= 0
            and token.token_type not in _QUOTED_TOKENS
            and token.text.upper() in _STATEMENT_STARTERS
            and not (position > 0 and tokens[position - 1].text.upper() in _CLAUSE_WORDS)
            and not _or_replace(tokens, position)
            and tuple(t.text.upper() for t in tokens[position : position + 2])
            not in _CLAUSE_OPENINGS
        ):
            if not opened:
                hidden = found.text[token.start : found.end]
                _dynamic_text(statement, hidden, found.words[0], in_scope=True)
                return True
            close = _matching_paren(tokens, opened[-1]) if opened[-1] == position - 1 else None
            if close == position + 1:
                pass  # one word alone in parentheses is an argument: wal_checkpoint(TRUNCATE)
            elif opened[-1] == position - 1:
                end = tokens[close].start if close is not None else found.end
                hidden = found.text[token.start : end]
                _dynamic_text(statement, hidden, found.words[0], in_scope=True)
                position = close if close is not None else len(tokens)
                opened.pop()
        position += 1
    return False


def _forget(statement: _Statement, intent: Intent) -> None:
    statement.intents.discard(intent)
    statement.findings[:] = [f for f in statement.findings if f.intent is not intent]


def _match_rule(words: list[str]) -> CommandRule | None:
    if not words:
        return None
    significant = [words[0], *(word for word in words[1:6] if word not in _NOISE_WORDS)]
    for rule in rules_by_first_word().get(words[0], ()):
        if tuple(significant[: len(rule.keywords)]) == rule.keywords:
            return rule
    return None


def _classify_by_keywords(
    statement: _Statement,
    chunk: _Chunk,
    source: str,
    prepared: dict[str, list[StatementEffect]],
    *,
    parse_failed: bool,
) -> None:
    dialect = statement.names.dialect
    found = _statement_words(chunk, source, dialect)
    words, tokens = found.words, found.tokens
    if not words:
        statement.add(I.UNPARSEABLE, "empty statement")
        return
    special = _SPECIAL_COMMANDS.get(words[0])
    if special is not None and special(statement, _Command(words, tokens, chunk, source, prepared)):
        return
    rule = _match_rule(words)
    if rule is None:
        statement.operation = statement.operation or words[0]
        if not parse_failed:
            statement.add(
                I.UNPARSEABLE,
                f"{words[0]} ... is not a statement the analyzer recognises; it is not assumed "
                "harmless",
            )
        return
    statement.operation = rule.operation
    for intent in rule.intents:
        statement.add(intent, rule.message)
    _name_objects_from_words(statement, rule, tokens)
    _apply_keyword_hints(statement, words)
    _judge_settings(statement, rule, tokens)
    if rule.keywords[0] in ("CREATE", "ALTER") and is_policy_kind(rule.keywords[1:]):
        judge_policy_command(statement, found)
    if rule.keywords == ("CREATE", "SECRET") and ambient_secret(tokens):
        _forget(statement, I.PRIVILEGE)
        statement.add(I.SCHEMA_CHANGE, "CREATE SECRET uses the host's own credential chain")
    if words[:2] == ["FLASHBACK", "TABLE"] and _contains(words, ("BEFORE", "DROP")):
        # TO BEFORE DROP brings a dropped table back from the recycle bin: nothing is replaced.
        for replaced in (I.DELETE, I.WRITE, I.MASS_MUTATION):
            _forget(statement, replaced)
        statement.add(
            I.SCHEMA_CHANGE, "FLASHBACK TABLE ... TO BEFORE DROP restores a dropped table"
        )
        if parse_failed:
            _forget(statement, I.UNPARSEABLE)
    trusted = rule.trusted
    if set(rule.intents) <= {I.READ} or trusted:
        # A harmless prefix (SET, DECLARE, BEGIN, GO, USE) must not hide what follows it.
        hidden = _trailing_statement(statement, found, first=len(rule.keywords))
        if parse_failed and not hidden and trusted:
            _forget(statement, I.UNPARSEABLE)
        if words[0] == "BEGIN" and not hidden and _block_body(statement, found) and parse_failed:
            _forget(statement, I.UNPARSEABLE)  # understood: a block that calls a procedure
        if words[0] == "FOR" and not hidden and _loop_body(statement, found) and parse_failed:
            _forget(statement, I.UNPARSEABLE)  # understood: a loop that calls a procedure
        if words[0] in _BLOCK_STARTS:  # an assignment analysed as hidden still assigns
            remember_block_assignments(statement, found)
        if words[0] in _BLOCK_STARTS and hidden and parse_failed:
            # Only the block keyword kept the chunk from parsing: the statement behind it was
            # analysed on its own (and carries its own `unparseable` if it has one).
            _forget(statement, I.UNPARSEABLE)


# Statements that change settings with SET (for the session, a database, a role, the server).
_SETTING_VERBS: dict[tuple[str, ...], str] = {
    ("SET",): "",
    ("ALTER", "SYSTEM"): "SYSTEM",
    ("ALTER", "DATABASE"): "",
    ("ALTER", "ROLE"): "",
    ("ALTER", "USER"): "",
    ("ALTER", "ACCOUNT"): "",
}


def _judge_settings(statement: _Statement, rule: CommandRule, tokens: list[Token]) -> None:
    """SET name = value and ALTER SYSTEM / DATABASE / ROLE ... SET name = value, by registry."""
    scope = _SETTING_VERBS.get(rule.keywords[:2]) if rule.keywords[0] == "ALTER" else None
    if rule.keywords == ("SET",):
        scope = ""
    if scope is None:
        return
    texts = [token.text for token in tokens]
    upper = [text.upper() for text in texts]
    if "UNSET" in upper and "SET" not in upper and rule.keywords != ("SET",):
        verb = " ".join((*rule.keywords[:2], "UNSET"))
        judge_unset_words(statement, texts[upper.index("UNSET") + 1 :], verb)
        return
    if "SET" not in upper:
        return
    start = upper.index("SET")
    words = texts[start:]
    verb = " ".join(rule.keywords) if rule.keywords != ("SET",) else "SET"
    if rule.keywords != ("SET",) and not {"=", "TO"} & set(upper[start:]):
        return  # T-SQL `ALTER DATABASE d SET option value`: its options are keyword hints
    if scope:
        words = [words[0], scope, *words[1:]]
    judge_set_words(statement, words, verb=verb, variables=rule.keywords == ("SET",))


_KIND_WORDS: dict[str, ObjectKind] = {
    "CATALOG": K.DATABASE,
    "USER": K.ROLE,
    "ROLE": K.ROLE,
    "LOGIN": K.ROLE,
    "GROUP": K.ROLE,
    "TABLE": K.TABLE,
    "TABLES": K.TABLE,
    "VIEW": K.VIEW,
    # a synonym is read and written as the table it stands for (Oracle, T-SQL, Db2)
    "SYNONYM": K.TABLE,
    "SCHEMA": K.SCHEMA,
    "DATABASE": K.DATABASE,
    "STAGE": K.STAGE,
    "SEQUENCE": K.SEQUENCE,
    "INDEX": K.INDEX,
    "FUNCTION": K.FUNCTION,
    "PROCEDURE": K.FUNCTION,
    "EVENT": K.OTHER,  # MySQL's scheduled statement: it holds no data of its own
}
_VERB_ACTIONS: dict[str, ObjectAction] = {
    "CREATE": A.CREATE,
    "ALTER": A.ALTER,
    "DROP": A.DROP,
    "RENAME": A.RENAME,
    "TRUNCATE": A.DELETE,
    "REFRESH": A.WRITE,
    "RESTORE": A.WRITE,
    "FLASHBACK": A.WRITE,
    "EXCHANGE": A.REPLACE,
}
_NAME_TOKENS = frozenset({TokenType.VAR, TokenType.IDENTIFIER, TokenType.STRING})


def _name_objects_from_words(statement: _Statement, rule: CommandRule, tokens: list[Token]) -> None:
    """Best-effort name of the object a keyword-classified statement acts on."""
    verb = rule.keywords[0]
    action = _VERB_ACTIONS.get(verb)
    kind = (
        K.TABLE
        if verb in ("TRUNCATE", "RESTORE", "FLASHBACK") or rule.keywords == ("RENAME",)
        else _KIND_WORDS.get(rule.keywords[-1])  # AUDIT SPECIFICATION names no database
    )
    if kind is None or action is None:
        return
    if kind is K.ROLE:
        action = A.GRANT
    position = 1
    while position < len(tokens) and (
        tokens[position].text.upper() in {*rule.keywords, *_NOISE_WORDS, "ONLY", "MATERIALIZED"}
    ):
        position += 1
    if position >= len(tokens) or (
        tokens[position].token_type not in _NAME_TOKENS | {TokenType.TABLE, TokenType.SCHEMA}
        and not tokens[position].text.replace("_", "").isalnum()
    ):
        return
    names, position = _dotted_name(statement, tokens, position)
    if kind is K.ROLE or kind in (K.SCHEMA, K.DATABASE):
        statement.obj(kind, action, names[-1])
        return
    _table_object(statement, kind, action, names)
    if (
        rule.keywords == ("EXCHANGE", "TABLES")
        and position + 2 < len(tokens)
        and tokens[position + 1].text.upper() == "AND"
    ):
        # EXCHANGE TABLES a AND b: both tables end up holding the other's rows.
        _table_object(statement, kind, action, _dotted_name(statement, tokens, position + 2)[0])


def _dotted_name(
    statement: _Statement, tokens: list[Token], position: int
) -> tuple[list[str], int]:
    """The normalised parts of the (dotted) name starting at `position`, and its last token's."""
    parts = [tokens[position]]
    while position + 2 < len(tokens) and tokens[position + 1].token_type is TokenType.DOT:
        parts.append(tokens[position + 2])
        position += 2
    names = [
        _normalise(
            statement.names.dialect, part.text, quoted=part.token_type is TokenType.IDENTIFIER
        )
        for part in parts
    ]
    return names, position


def _table_object(
    statement: _Statement, kind: ObjectKind, action: ObjectAction, names: list[str]
) -> None:
    schema = names[-2] if len(names) > 1 else statement.names.default_schema
    catalog = names[-3] if len(names) > 2 else statement.names.default_catalog
    statement.obj(kind, action, names[-1], schema=schema, catalog=catalog)


# Words anywhere in a keyword-classified statement that add an intent the leading words miss.
_KEYWORD_HINTS: tuple[tuple[tuple[str, ...], Intent, str], ...] = (
    (("OWNER", "TO"), I.PRIVILEGE, "OWNER TO changes object ownership"),
    (("SECURITY", "DEFINER"), I.PRIVILEGE, "SECURITY DEFINER runs code with its owner's rights"),
    (("SET", "AUTHORIZATION"), I.PRIVILEGE, "SET AUTHORIZATION changes the owner"),
    (("TRUSTWORTHY",), I.PRIVILEGE, "TRUSTWORTHY lets database code act at server level"),
    (("DISABLE", "ROW", "LEVEL", "SECURITY"), I.PRIVILEGE, "turns row-level security off"),
    (("NO", "FORCE", "ROW", "LEVEL", "SECURITY"), I.PRIVILEGE, "exempts the owner from RLS"),
    (("ROW", "LEVEL", "SECURITY", "OFF"), I.PRIVILEGE, "turns row-level security off"),
    (("UNSET", "ROW", "ACCESS", "POLICY"), I.PRIVILEGE, "removes a row access policy"),
    (("DROP", "ROW", "ACCESS", "POLICY"), I.PRIVILEGE, "removes a row access policy"),
    (("UNSET", "MASKING", "POLICY"), I.PRIVILEGE, "removes a masking policy"),
    (("DROP", "MASKED"), I.PRIVILEGE, "removes a column's dynamic data mask"),
    (("DROP", "FILTER", "PREDICATE"), I.PRIVILEGE, "removes a security policy's row filter"),
    (("DROP", "BLOCK", "PREDICATE"), I.PRIVILEGE, "removes a security policy's write block"),
    (("STATE", "=", "OFF"), I.PRIVILEGE, "turns a security policy off"),
    (("DROP", "MASK"), I.PRIVILEGE, "removes a column mask"),
    (("DROP", "ROW", "FILTER"), I.PRIVILEGE, "removes a row filter"),
    (("REPLICATION", "TO", "ACCOUNTS"), I.EXPORT, "replicates the database to other accounts"),
    (("TO", "SHARE"), I.EXPORT, "grants a share's consumers (other accounts) access"),
    (("TO", "ACCOUNT"), I.EXPORT, "grants another account access to the data"),
    (("FAILOVER", "TO", "ACCOUNTS"), I.EXPORT, "replicates the database to other accounts"),
    (("ADD", "ACCOUNTS"), I.EXPORT, "shares data with other accounts"),
    (("EXECUTABLE",), I.HOST_ACCESS, "an EXECUTABLE source runs a program on the server"),
    (("OPENROWSET",), I.HOST_ACCESS, "OPENROWSET reads a file or another server"),
    (("OPENDATASOURCE",), I.HOST_ACCESS, "OPENDATASOURCE connects to another server"),
    (("EXECUTABLE_POOL",), I.HOST_ACCESS, "an EXECUTABLE source runs a program on the server"),
    (("CLEAR", "COLUMN"), I.DELETE, "CLEAR COLUMN erases a column's values"),
    (("DROP", "PARTITION"), I.DELETE, "DROP PARTITION destroys a partition's rows"),
    (("DROP", "DETACHED", "PARTITION"), I.DELETE, "destroys detached partition data"),
    (("TRUNCATE", "PARTITION"), I.DELETE, "TRUNCATE PARTITION removes a partition's rows"),
    (("REPLACE", "PARTITION"), I.DELETE, "REPLACE PARTITION discards a partition's rows"),
    (("DISCARD", "TABLESPACE"), I.DELETE, "DISCARD TABLESPACE deletes the table's data file"),
    (("SET", "UNUSED"), I.DELETE, "SET UNUSED makes a column's data unreachable"),
    (("CASCADE",), I.DELETE, "CASCADE also drops every object that depends on this one"),
)


# Statements that only list or describe: the words after them name what is listed.
_LISTINGS = frozenset({"SHOW", "DESC", "DESCRIBE", "LIST"})

# Hints meaning every row or the whole object is affected.
_MASS_HINTS: tuple[tuple[str, ...], ...] = (
    ("PARTITION", "ALL"),
    ("PARTITION", "TUPLE"),
    ("DISCARD", "TABLESPACE"),
    ("ID", "'ALL'"),
)


def _contains(words: list[str], sequence: tuple[str, ...]) -> bool:
    width = len(sequence)
    return any(tuple(words[i : i + width]) == sequence for i in range(len(words) - width + 1))


def _word_after(words: list[str], sequence: tuple[str, ...]) -> str | None:
    width = len(sequence)
    for i in range(len(words) - width):
        if tuple(words[i : i + width]) == sequence:
            return words[i + width]
    return None


def _apply_keyword_hints(statement: _Statement, words: list[str]) -> None:
    if words[0] in _LISTINGS:  # `SHOW GRANTS TO SHARE s` lists what a grant would give
        return
    # `cascade => TRUE` names a procedure's argument (Oracle, Snowflake): not a keyword.
    words = [w for i, w in enumerate(words) if words[i + 1 : i + 2] != ["=>"]]
    for sequence, intent, message in _KEYWORD_HINTS:
        if _contains(words, sequence):
            statement.add(intent, message)
    if any(_contains(words, sequence) for sequence in _MASS_HINTS):
        statement.add(I.MASS_MUTATION, "the change applies to every partition or the whole table")
    if words[0] == "DROP" and "CASCADE" in words:
        statement.operation = f"{statement.operation} CASCADE"
    if _renames(words):
        # Keyword-classified renames and moves: the object keeps its data under a new name.
        for key, ref in list(statement.objects.items()):
            if ref.action in (A.ALTER, A.CREATE):
                renamed = ref.model_copy(update={"action": A.RENAME})
                del statement.objects[key]
                statement.objects[object_key(renamed)] = renamed
    if words[:4] == ["CREATE", "OR", "REPLACE", "TABLE"]:
        # `CREATE OR REPLACE TABLE t DEEP CLONE src` (kept generic by the parser) replaces t's
        # data as the parsed CREATE OR REPLACE TABLE does.
        for key, ref in list(statement.objects.items()):
            if ref.action is A.CREATE and ref.kind is K.TABLE:
                del statement.objects[key]
                replaced = ref.model_copy(update={"action": A.REPLACE})
                statement.objects[object_key(replaced)] = replaced
                statement.add(
                    I.DELETE, "CREATE OR REPLACE TABLE discards the existing table's data"
                )
    if words[0] == "CREATE" and "SYNONYM" in words[1:5] and "@" in "".join(words[4:]):
        # Oracle `FOR orders@remote_link`: every use of the name reads through the link
        statement.add(I.HOST_ACCESS, "the synonym stands for a table of another server")
    if words[:3] == ["CREATE", "OR", "REPLACE"] and "SYNONYM" in words[3:5]:
        # Repointing a synonym: every reader and writer of the name now reaches another table,
        # as a swap does; the tables themselves keep their rows.
        for key, ref in list(statement.objects.items()):
            if ref.action is A.CREATE:
                del statement.objects[key]
                replaced = ref.model_copy(update={"action": A.REPLACE})
                statement.objects[object_key(replaced)] = replaced
    if words[:2] == ["ALTER", "SEQUENCE"] and "RESTART" in words:
        _restarted(statement)
    if words[:2] == ["DBCC", "CHECKIDENT"] and _contains(words, ("RESEED", ",")):
        # `DBCC CHECKIDENT ('t', RESEED, n)`: the table's identity set to n, a RESTART WITH n
        named = _word_after(words, ("CHECKIDENT", "("))  # a quoted name is no word
        table = named.strip("[]").lower() if named and named not in (",", ")") else "table"
        statement.obj(K.SEQUENCE, A.ALTER, f"{table}_identity")
        statement.add(I.SCHEMA_CHANGE, "DBCC CHECKIDENT ... RESEED, n sets the identity to n")
        _restarted(statement)
    if words[:2] == ["ALTER", "TABLE"] and "RESTART" in words and _contains(words, ("COLUMN",)):
        # an identity column's own sequence (`ALTER COLUMN id RESTART WITH 1`)
        for ref in [ref for ref in statement.objects.values() if ref.kind is K.TABLE]:
            identity = ref.model_copy(update={"kind": K.SEQUENCE, "name": f"{ref.name}_identity"})
            statement.objects[object_key(identity)] = identity
        _restarted(statement)
    if words[0] == "ALTER" and _contains(words, ("SWAP", "WITH")):
        for key, ref in list(statement.objects.items()):
            replaced = ref.model_copy(update={"action": A.REPLACE})
            del statement.objects[key]
            statement.objects[object_key(replaced)] = replaced
            # Both sides of a swap change contents, as the parsed ALTER TABLE path names them.
            other = _word_after(words, ("SWAP", "WITH"))
            if other is not None:
                partner = ref.model_copy(update={"action": A.REPLACE, "name": other})
                statement.objects.setdefault(object_key(partner), partner)


def _restarted(statement: _Statement) -> None:
    """`ALTER SEQUENCE s RESTART [WITH n]`: the sequence hands out keys from its start (or n)
    again, so new rows are given keys that existing rows hold (an upsert then overwrites them):
    the sequence's position is replaced, as CREATE OR REPLACE SEQUENCE replaces it."""
    for key, ref in list(statement.objects.items()):
        if ref.kind is K.SEQUENCE:
            del statement.objects[key]
            restarted = ref.model_copy(update={"action": A.REPLACE})
            statement.objects[object_key(restarted)] = restarted
    statement.add(I.WRITE, "RESTART sets the sequence back: new rows reuse keys rows hold")


def _renames(words: list[str]) -> bool:
    if words[0] == "RENAME":
        return True
    return words[0] == "ALTER" and (
        _contains(words, ("RENAME", "TO")) or _contains(words, ("SET", "SCHEMA"))
    )
