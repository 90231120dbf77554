"""INSERTs whose target is outside the database: Spark's INSERT OVERWRITE DIRECTORY (files) and
ClickHouse's INSERT INTO FUNCTION (a URL, a bucket, another server)."""

from __future__ import annotations

from sqlglot import exp

from guardrails_core.intent.sql.dialects import A, I, K
from guardrails_core.intent.sql.own_hosts import own_scratch_directory
from guardrails_core.intent.sql.statement import (
    _first_string_argument,
    _function_name,
    _location_kind,
    _Statement,
)


def insert_outside(statement: _Statement, node: exp.Insert) -> bool:
    """Record an INSERT into files or a table function; False for any other INSERT."""
    target = node.this
    if isinstance(target, exp.Directory):
        location = target.this.name if target.this is not None else "directory"
        if not target.args.get("local") and own_scratch_directory(location):
            statement.obj(_location_kind(location), A.WRITE, location)
            statement.add(
                I.WRITE,
                f"INSERT OVERWRITE DIRECTORY writes query results to {location}, a scratch "
                "folder of a cluster of the organisation's own network",
            )
            return True
        statement.obj(_location_kind(location), A.EXPORT_TARGET, location)
        statement.add(I.EXPORT, f"INSERT OVERWRITE DIRECTORY writes query results to {location}")
        statement.add(I.WRITE, f"INSERT OVERWRITE DIRECTORY writes files in {location}")
        statement.add(
            I.DELETE, f"INSERT OVERWRITE DIRECTORY first deletes every file in {location}"
        )
        statement.add(
            I.MASS_MUTATION, "a directory overwritten whole (a table's storage, if it is one)"
        )
        return True
    if node.args.get("is_function") or isinstance(target, exp.Func):
        function = target if isinstance(target, exp.Func) else None
        name = _function_name(function) if function is not None else "function"
        literal = _first_string_argument(function)
        statement.obj(
            _location_kind(literal) if literal else K.URL, A.EXPORT_TARGET, literal or name
        )
        statement.add(I.EXPORT, f"INSERT INTO FUNCTION {name}(...) sends rows out of the database")
        statement.add(I.WRITE, f"INSERT INTO FUNCTION {name}(...) writes rows where it points")
        return True
    return False
