"""Mongo shell code (``mongosh --eval``): what each call does, or `dynamic` when not understood.

Closed world: the code is split into statements; each must be one call chain on ``db``/``rs``/
``sh`` ending in a method this module knows. Drops are destructive; deletes and updates are
scoped only when their filter names a field (an empty filter, ``$where``, ``$expr`` or
``$exists: true`` is every document, and so is a time cutoff after now on a field recording
when its document happened or expires). Anything else is JavaScript that is not analysed.
"""

from __future__ import annotations

import re
from typing import Any

from guardrails_core.intent.value_ranges import time_column
from guardrails_core.model import Intent

_RECEIVER = r"^\s*(?:(?:db|rs|sh)(?:\.\w+|\[[^\]]+\]|\.get(?:SiblingDB|Collection)\([^)]*\))*)\."
_DROP = frozenset(
    [
        "drop",
        "dropDatabase",
        "dropIndex",
        "dropIndexes",
        "renameCollection",
        "dropUser",
        "dropAllUsers",
        "dropRole",
        "dropAllRoles",
    ]
)
_FILTERED = frozenset(
    [
        "deleteMany",
        "deleteOne",
        "remove",
        "updateMany",
        "updateOne",
        "replaceOne",
        "findOneAndDelete",
        "findOneAndUpdate",
        "findOneAndReplace",
    ]
)
_WRITE = frozenset(
    ["insertOne", "insertMany", "insert", "createIndex", "createIndexes", "createCollection"]
)
_READ = frozenset(
    [
        "find",
        "findOne",
        "count",
        "countDocuments",
        "estimatedDocumentCount",
        "aggregate",
        "getCollectionNames",
        "getCollectionInfos",
        "stats",
        "serverStatus",
        "getIndexes",
        "distinct",
        "status",
        "version",
        "hello",
        "isMaster",
        "ping",
        "explain",
        "listCollections",
        "printReplicationInfo",
        "conf",
        "getName",
        "dbStats",
    ]
)
_READ_COMMANDS = re.compile(
    r"^\s*\{\s*['\"]?(?:ping|serverStatus|buildInfo|hello|isMaster|listDatabases|dbStats|"
    r"collStats|connectionStatus|replSetGetStatus|hostInfo|getParameter)['\"]?\s*:"
)
_CURSOR = frozenset(
    [
        "pretty",
        "toArray",
        "limit",
        "sort",
        "skip",
        "count",
        "itcount",
        "size",
        "explain",
        "hint",
        "batchSize",
        "projection",
        "forEach",
        "map",
    ]
)
_CALL = re.compile(_RECEIVER + r"(\w+)\s*\((.*)\)[\w.()]*\s*$", re.DOTALL)
_EVERY_DOCUMENT = re.compile(r"^\s*(?:\{\s*\}|)\s*(?:,|$)|\$where|\$expr|\$exists\s*:\s*true")


def judge(code: str) -> str:
    """destroy | mass | mass-write | delete | write | read | dynamic, the worst over the
    statements (mass deletes every document, mass-write updates every one)."""
    order = ("read", "write", "delete", "mass-write", "mass", "destroy", "dynamic")
    worst = "read"
    for statement in filter(str.strip, code.split(";")):
        found = _statement(statement)
        if order.index(found) > order.index(worst):
            worst = found
    return worst


def _statement(statement: str) -> str:
    if any(re.search(rf"\.\s*{name}\s*\(", statement) for name in _DROP):
        return "destroy"
    match = _CALL.match(statement)
    if match is None or re.search(r"=>|\bfunction\b|\beval\b", statement):
        return "dynamic"
    method, arguments = match.group(1), match.group(2)
    chained = re.findall(r"\)\s*\.\s*(\w+)\s*\(", arguments)  # .find(q).limit(5)
    if any(name not in _CURSOR for name in chained):
        return "dynamic"
    if method in _DROP:
        return "destroy"
    if method in _FILTERED:
        return _filtered(method, arguments)
    if method in _WRITE:
        return "write"
    if method in ("runCommand", "adminCommand"):
        return "read" if _READ_COMMANDS.match(arguments) else "dynamic"
    return "read" if method in _READ else "dynamic"


# `field: {$lt: new Date(Date.now() + 365*864e5)}`: an upper time bound moved from now by an amount
_UP_TO_NOW_PLUS = re.compile(
    r"['\"]?(\w+)['\"]?\s*:\s*\{\s*['\"]?\$lte?['\"]?\s*:\s*new\s+Date\s*\(\s*Date\.now\(\s*\)"
    r"\s*([+-])\s*([\d.eE*+\s]+)\)"
)
_PRODUCT = re.compile(r"\s*\d+(?:\.\d*)?(?:[eE]\d+)?\s*(?:\*\s*\d+(?:\.\d*)?(?:[eE]\d+)?\s*)*")


def _filtered(method: str, arguments: str) -> str:
    """A delete or an update: of every document (its filter restricts none) or of some."""
    deletes = "delete" in method.lower() or method == "remove"
    if _EVERY_DOCUMENT.search(arguments) or _cutoff_after_now(arguments):
        return "mass" if deletes else "mass-write"
    return "delete" if deletes else "write"


def _cutoff_after_now(arguments: str) -> bool:
    """`expiresAt: {$lt: new Date(Date.now() + 365*864e5)}`: a purge of what has expired (or
    happened) whose cutoff lies after now takes the documents still valid too."""
    for field, sign, amount in _UP_TO_NOW_PLUS.findall(arguments):
        if sign == "+" and time_column(field) and _positive(amount):
            return True
    return False


def _positive(amount: str) -> bool:
    """A product of number literals (`365*864e5`) that is more than zero."""
    if not _PRODUCT.fullmatch(amount):
        return False
    return all(float(factor) > 0 for factor in amount.split("*"))


_ANY_CALL = re.compile(r"\.(?=\s*(\w+)\s*\(([^()]*))")  # overlapping: calls inside arguments


def visible_effect(code: str) -> str | None:
    """In JavaScript that is not analysed (callbacks, loops), what its visible collection calls
    do: `db[c].deleteMany({})` inside a forEach still empties collections."""
    order = ("write", "delete", "mass-write", "mass", "destroy")
    worst: str | None = None
    for method, arguments in _ANY_CALL.findall(code):
        found = None
        if method in _DROP:
            found = "destroy"
        elif method in _FILTERED:
            found = _filtered(method, arguments)
        elif method in _WRITE:
            found = "write"
        if found is not None and (worst is None or order.index(found) > order.index(worst)):
            worst = found
    return worst


def record(call: Any, value: Any) -> None:
    """A mongo shell `--eval` value, on the shell analyzer's call: what its calls do."""
    found = judge(value.value)
    what = f"{call.prog} runs {value.display[:80]}"
    if found == "dynamic":
        call.add(Intent.DYNAMIC, f"{call.prog} runs JavaScript that is not analysed")
        found = visible_effect(value.value) or "read"  # what its visible calls do
    if found in ("destroy", "mass"):
        call.add(Intent.DELETE, f"{call.prog} deletes or rewrites documents or collections")
        call.add(Intent.MASS_MUTATION, what)
    elif found == "mass-write":
        call.add(Intent.WRITE, f"{call.prog} rewrites every document of a collection")
        call.add(Intent.MASS_MUTATION, what)
    elif found == "delete":
        call.add(Intent.DELETE, f"{what} (its filter names the documents)")
    elif found == "write":
        call.add(Intent.WRITE, what)
