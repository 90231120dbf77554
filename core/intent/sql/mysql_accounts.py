"""MySQL's accounts, `'user'@'host'`, as GRANT names its grantees: sqlglot reads no account
after TO, so the grant arrived as an opaque command (a privilege change, whatever it grants).
Each account is read as one grantee named `user@host`, and the grant judged as any other: a
SELECT on one named table to named accounts is routine read access (access.py).

Not the anonymous account (`''@'%'`, any user name from that host): it is everyone."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlglot import exp

from guardrails_core.intent.sql.dialects import MYSQL_FAMILY
from guardrails_core.intent.sql.rewritten import walk_rewritten
from guardrails_core.intent.sql.statement import _Statement

if TYPE_CHECKING:
    from guardrails_core.intent.sql.specials import _Command

_PART = r"(?:'(?P<{0}q>[^'\\\n]*)'|`(?P<{0}b>[^`\n]*)`|\"(?P<{0}d>[^\"\\\n]*)\"|(?P<{0}w>[\w.%-]+))"
_ACCOUNT = re.compile(_PART.format("user") + r"\s*@\s*" + _PART.format("host"))
_GRANT_TO = re.compile(r"(?is)\A(?P<head>\s*GRANT\b.*?\bTO\b)(?P<grantees>.*)\Z")


def _part(match: re.Match[str], name: str) -> str:
    return next((value for kind in "qbdw" if (value := match[f"{name}{kind}"]) is not None), "")


def special_mysql_grant(statement: _Statement, command: _Command) -> bool:
    """`GRANT SELECT ON shop.orders TO 'bi'@'10.0.%'`: the grant with each account read as one
    grantee; False (the keyword rule's privilege) when it is not MySQL or does not parse so."""
    if statement.dialect_name not in MYSQL_FAMILY:
        return False
    text = command.source[command.chunk.start : command.chunk.end]
    grant = _GRANT_TO.match(text)
    if grant is None:
        return False
    accounts = list(_ACCOUNT.finditer(grant["grantees"]))
    if not accounts or any(not _part(account, "user") for account in accounts):
        return False
    grantees = _ACCOUNT.sub(
        lambda account: f"`{_part(account, 'user')}@{_part(account, 'host')}`",
        grant["grantees"],
    )
    return walk_rewritten(statement, grant["head"] + grantees, exp.Grant, "GRANT")
