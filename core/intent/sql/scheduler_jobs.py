"""Oracle DBMS_SCHEDULER jobs that run a host program (job_type 'EXECUTABLE'): the command line
they put together, over CREATE_JOB and one SET_JOB_ARGUMENT_VALUE call per argument, is judged
as the shell command it is (`/bin/sh -c 'tar ... | curl -T - https://...'`)."""

from __future__ import annotations

import shlex

from sqlglot.tokenizer_core import Token, TokenType

from guardrails_core.intent.sql.dialects import MAX_DEPTH
from guardrails_core.intent.sql.settings import embed_shell
from guardrails_core.intent.sql.statement import _Statement

_CREATES = frozenset({"dbms_scheduler.create_job", "dbms_scheduler.create_program"})
_ARGUMENTS = frozenset(
    {"dbms_scheduler.set_job_argument_value", "dbms_scheduler.define_program_argument"}
)
# Where a job's parts are kept between the script's statements: in the script's shared texts,
# under names no SQL variable can have.
_KEY = "\x00scheduler job "


def scheduler_job(statement: _Statement, name: str, tokens: list[Token]) -> None:
    """Record the part of an EXECUTABLE job `name`'s call sets; once every argument it declared
    is set, judge the command line."""
    if statement.depth >= MAX_DEPTH:
        return
    if name in _CREATES:
        named = _named_arguments(tokens)
        job = named.get("job_name") or named.get("program_name")
        kind = named.get("job_type") or named.get("program_type") or ""
        action = named.get("job_action") or named.get("program_action")
        if job and action and kind.upper() == "EXECUTABLE":
            statement.texts[f"{_KEY}{job.upper()}"] = action
            count = named.get("number_of_arguments", "0")
            statement.texts[f"{_KEY}{job.upper()} count"] = count
            _judge_when_complete(statement, job.upper())
    elif name in _ARGUMENTS:
        named = _named_arguments(tokens)
        values = [token.text for token in tokens if token.token_type in _VALUES]
        if "job_name" in named or "program_name" in named:
            values = [
                named.get("job_name") or named.get("program_name") or "",
                named.get("argument_position", ""),
                named.get("argument_value") or named.get("default_value") or "",
            ]
        if len(values) >= 3 and values[1].isdigit():
            job = values[0].upper()
            if f"{_KEY}{job}" in statement.texts:
                statement.texts[f"{_KEY}{job} {int(values[1])}"] = values[-1]
                _judge_when_complete(statement, job)


_VALUES = frozenset({TokenType.STRING, TokenType.NUMBER})


def _named_arguments(tokens: list[Token]) -> dict[str, str]:
    """`job_name => 'X'`: each named argument's written value, by its lower-case name."""
    named = {}
    for position in range(len(tokens) - 2):
        if tokens[position + 1].token_type is TokenType.FARROW:
            value = tokens[position + 2]
            if value.token_type in _VALUES:
                named[tokens[position].text.lower()] = value.text
    return named


def _judge_when_complete(statement: _Statement, job: str) -> None:
    key = f"{_KEY}{job}"
    count = statement.texts.get(f"{key} count", "0")
    if not count.isdigit():
        return
    arguments = [statement.texts.get(f"{key} {position}") for position in range(1, int(count) + 1)]
    if any(argument is None for argument in arguments):
        return
    command = shlex.join([statement.texts[key], *(str(argument) for argument in arguments)])
    embed_shell(statement, command)
