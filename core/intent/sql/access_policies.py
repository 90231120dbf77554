"""Access policies (row filters, masks, row access / RLS policies): attaching one narrows what
readers see, a body that lets every reader through widens it (rules/sql_access_policies.yaml)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import NamedTuple

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokenizer_core import Token, TokenType

from guardrails_core.intent.predicates import predicate_truth
from guardrails_core.intent.sql.dialects import I
from guardrails_core.intent.sql.statement import (
    _function_name,
    _matching_paren,
    _Statement,
    _Words,
)
from guardrails_core.yaml_data import load_yaml

RULES = Path(__file__).parent.parent / "rules" / "sql_access_policies.yaml"


class _Rules(NamedTuple):
    kinds: frozenset[tuple[str, ...]]
    everyone: frozenset[str]
    everyone_prefixes: tuple[str, ...]
    membership: frozenset[str]
    identity: frozenset[str]
    optional_settings: frozenset[str]


@functools.cache
def _rules() -> _Rules:
    data = load_yaml(RULES.read_text(encoding="utf-8"))

    def names(key: str) -> frozenset[str]:
        return frozenset(str(name).lower() for name in data[key])

    return _Rules(
        frozenset(tuple(str(kind).upper().split()) for kind in data["kinds"]),
        names("everyone"),
        tuple(str(prefix).lower() for prefix in data["everyone_prefixes"]),
        names("membership"),
        names("identity"),
        names("optional_settings"),
    )


def is_policy_kind(words: tuple[str, ...]) -> bool:
    """`("ROW", "ACCESS", "POLICY")`: a policy kind whose body `judge_policy_command` reads."""
    return words in _rules().kinds


# Words after which a policy statement writes a body: a filter (USING, WITH CHECK, FILTER
# USING), a Snowflake body (`-> expr`, `SET BODY -> expr`) or the principals it applies to.
_BODY_WORDS = frozenset({"USING", "CHECK"})
_LIST_ENDS = frozenset({"USING", "WITH", "AS", "FOR", "ON", "TO", "FILTER", "EXCEPT"})


def judge_policy_command(statement: _Statement, found: _Words) -> None:
    """CREATE / ALTER of a row access, masking, RLS or row policy: privilege when its body
    or its principals let every reader through, else it narrows access (schema_change)."""
    tokens = found.tokens
    for position, token in enumerate(tokens):
        word = token.text.upper() if token.token_type not in _STRINGS else ""
        if token.token_type is TokenType.ARROW:
            body = _judge_body(statement, found, position + 1, len(tokens) - 1)
            _judge_lookups(statement, body, _parameters(tokens[:position]))
            if "MASKING" in found.words[:3] and body is not None and _passes_through(body):
                statement.add(
                    I.PRIVILEGE,
                    f"the masking policy's body ({body.sql()[:40]}) returns the value it is given "
                    "for every reader: nothing is masked",
                )
        elif word in _BODY_WORDS:
            last = _clause_end(tokens, position + 1)
            _judge_body(statement, found, position + 1, last)
        elif word == "TO" and position > 0 and tokens[position - 1].text.upper() == "GRANT":
            _judge_grantees(statement, tokens[position + 1 : _clause_end(tokens, position + 1)])


_STRINGS = frozenset({TokenType.STRING, TokenType.NATIONAL_STRING})


def _clause_end(tokens: list[Token], first: int) -> int:
    """The last token of a parenthesised clause starting at `first`, or of a bare one that runs
    to the next clause word (ClickHouse `USING expr TO role`)."""
    if first < len(tokens) and tokens[first].token_type is TokenType.L_PAREN:
        close = _matching_paren(tokens, first)
        return close if close is not None else len(tokens) - 1
    position = first
    depth = 0
    while position < len(tokens):
        kind = tokens[position].token_type
        depth += kind is TokenType.L_PAREN
        depth -= kind is TokenType.R_PAREN
        if depth == 0 and tokens[position].text.upper() in _LIST_ENDS and position > first:
            return position - 1
        position += 1
    return len(tokens) - 1


def _judge_body(statement: _Statement, found: _Words, first: int, last: int) -> exp.Expr | None:
    if first > last:
        return None
    text = found.text[found.tokens[first].start : found.tokens[last].end + 1].rstrip("; \n")
    try:
        body = sqlglot.parse_one(text, dialect=statement.names.dialect)
    except SqlglotError:
        statement.add(I.UNKNOWN, "the policy's body is not understood: whom it lets through")
        return None
    judge_policy_expression(statement, body)
    return body


def _parameters(tokens: list[Token]) -> set[str]:
    """The names in a Snowflake policy's signature `AS (region VARCHAR, ...)`: the row's
    values its body is given."""
    words = [token.text.upper() for token in tokens]
    if "AS" not in words:
        return set()
    names: set[str] = set()
    depth = 0
    for position in range(words.index("AS") + 1, len(tokens) - 1):
        kind = tokens[position].token_type
        if kind in (TokenType.L_PAREN, TokenType.COMMA) and depth <= 1:
            names.add(tokens[position + 1].text.lower())
        depth += (kind is TokenType.L_PAREN) - (kind is TokenType.R_PAREN)
        if depth == 0 and kind is TokenType.R_PAREN:
            break
    return names


def _passes_through(body: exp.Expr) -> bool:
    """A mask's body that is the value itself, on every path: `val`, `(val)`, `val::string`,
    `CASE WHEN ... THEN val ELSE val END` (a mask only sees its arguments: any bare column is
    one of them, unmasked)."""
    while isinstance(body, exp.Paren | exp.Cast | exp.Return):
        body = body.this
    if isinstance(body, exp.Case):
        results = [branch.args.get("true") for branch in body.args.get("ifs") or []]
        results.append(body.args.get("default"))
        values = {
            result.sql().lower() if isinstance(result, exp.Expr) else "" for result in results
        }
        first = results[0]
        return len(values) == 1 and isinstance(first, exp.Expr) and _passes_through(first)
    return isinstance(body, exp.Column)


def _judge_lookups(statement: _Statement, body: exp.Expr | None, parameters: set[str]) -> None:
    """A row access policy that looks the caller up in a mapping table (`EXISTS (SELECT 1 FROM
    entitlements e WHERE e.role_name = CURRENT_ROLE())`) but never compares the row's values
    there admits every row to any caller entitled to any one of them."""
    if body is None or not parameters:
        return
    for lookup in body.find_all(exp.Exists):
        if not any(column.name.lower() in parameters for column in lookup.find_all(exp.Column)):
            statement.add(
                I.PRIVILEGE,
                f"the policy's lookup {lookup.sql()[:60]} never compares the row's values "
                f"({', '.join(sorted(parameters))}): a caller it admits sees every row",
            )


def _judge_grantees(statement: _Statement, tokens: list[Token]) -> None:
    """BigQuery `GRANT TO ('allUsers', 'domain:acme.com')`: the rows go to everyone named."""
    for token in tokens:
        if token.token_type in _STRINGS and _everyone(token.text):
            statement.add(
                I.PRIVILEGE,
                f"the policy grants its rows to {token.text!r}, a principal every identity (or "
                "every account of a domain) belongs to",
            )


def judge_policy_function(statement: _Statement, body: exp.Expr | None) -> None:
    """A function whose body checks the caller's identity is a row filter or a column mask
    (Databricks `SET ROW FILTER f`, `SET MASK f`): replacing it changes what readers see."""
    if not isinstance(body, exp.Expr):
        return
    rules = _rules()
    checks_identity = any(
        _function_name(node) in rules.membership | rules.identity
        for node in body.find_all(exp.Func)
    )
    if checks_identity:
        judge_policy_expression(statement, body)


def judge_policy_expression(statement: _Statement, body: exp.Expr) -> None:
    why = _lets_everyone(body)
    if why:
        statement.add(I.PRIVILEGE, f"the access policy lets every reader through: {why}")


def _lets_everyone(node: exp.Expr) -> str | None:
    """Why `node` (a filter, or a mask's unmasking branch) is true for every reader, if it is."""
    while isinstance(node, exp.Paren | exp.Return):
        node = node.this
    if isinstance(node, exp.Case):
        return next(
            (
                why
                for branch in node.args.get("ifs") or []
                if isinstance(branch.args.get("true"), exp.Column | exp.Boolean)
                for why in [_lets_everyone(branch.this)]
                if why
            ),
            None,
        )
    if isinstance(node, exp.Or):
        return _lets_everyone(node.this) or _lets_everyone(node.expression)
    if isinstance(node, exp.And):
        left, right = _lets_everyone(node.this), _lets_everyone(node.expression)
        return f"{left} and {right}" if left and right else None
    if predicate_truth(node) is True:
        return f"{node.sql()[:60]} is always true"
    return _universal_check(node)


# Wrappers that are NULL whenever what they wrap is (NULLIF(x, '') also when it is empty).
_SAME_NULLNESS = (exp.Nullif, exp.Cast, exp.TryCast, exp.Paren, exp.Trim, exp.Lower, exp.Upper)


def _universal_check(node: exp.Expr) -> str | None:
    rules = _rules()
    negated = isinstance(node, exp.Not)
    inner = node.this if negated else node
    if isinstance(inner, exp.Is) and isinstance(inner.expression, exp.Null):
        checked = inner.this
        while isinstance(checked, _SAME_NULLNESS):  # NULLIF(current_setting(...), '')
            checked = checked.this
        name = _function_name(checked) if isinstance(checked, exp.Func) else ""
        if (negated or inner.args.get("negate")) and name in rules.identity:
            return f"{checked.sql()} IS NOT NULL holds for every signed-in identity"
        if not negated and not inner.args.get("negate") and name in rules.optional_settings:
            return f"{checked.sql()} IS NULL holds in every session that leaves it unset"
        return None
    if isinstance(node, exp.Func) and _function_name(node) in rules.membership:
        principal = next(
            (
                str(argument.this)
                for argument in node.iter_expressions()
                if isinstance(argument, exp.Literal)
                and argument.is_string
                and _everyone(str(argument.this))
            ),
            None,
        )
        if principal is not None:
            return f"{node.sql()[:60]}: every identity belongs to {principal!r}"
    return None


def _everyone(principal: str) -> bool:
    name = principal.strip("'\"` ").lower()
    rules = _rules()
    return (
        name in rules.everyone
        or name.startswith(rules.everyone_prefixes)
        or (name.split(":", 1)[-1] in rules.everyone)
    )
