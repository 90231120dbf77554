"""Pure decisions about reversibility: which statements get a way back, which key matches rows
for undo, and why a statement cannot be made reversible.

The catalog facts (`TableInfo`) are read by the dialect adapters; everything here is a function
of them, the statement and the policy's `impact` settings.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum

from sqlglot import exp

from guardrails_core.impact.reach import PROBED_DIALECTS, may_need_probe
from guardrails_core.impact.statements import (
    RowChange,
    TableDrop,
    UnsupportedStatement,
    row_changes,
    table_drop,
)
from guardrails_core.intent import analyze, resolve_dialect
from guardrails_core.intent.sql.trees import tree_of
from guardrails_core.model import CommandKind, Operation, StatementEffect
from guardrails_core.policy.schema import ImpactSpec

# Statements whose rows are copied aside before they run.
PRE_IMAGE_OPERATIONS = frozenset(
    {Operation.UPDATE, Operation.DELETE, Operation.MERGE, Operation.TRUNCATE}
)


def needs_probe(statement: StatementEffect) -> bool:
    """Whether a probe measures or protects `statement`: SQL UPDATE, DELETE, MERGE, TRUNCATE or
    DROP TABLE."""
    operation = Operation.of(statement)
    return operation in PRE_IMAGE_OPERATIONS or operation is Operation.DROP_TABLE


@dataclass(frozen=True)
class Column:
    """A column as the catalog describes it."""

    name: str
    type: str
    nullable: bool = True
    # Computed by the database (generated columns): never written back by an undo.
    generated: bool = False
    # PostgreSQL GENERATED ALWAYS AS IDENTITY: writing it back needs OVERRIDING SYSTEM VALUE.
    identity_always: bool = False


@dataclass(frozen=True)
class TableInfo:
    """One table as the catalog resolved it: its real schema and name, columns and keys, and a
    token that changes when the table is dropped and created again (PostgreSQL: its oid)."""

    schema: str | None
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    unique_keys: tuple[tuple[str, ...], ...] = ()
    token: str | None = None
    temporary: bool = False

    @property
    def display(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def signature(self) -> str:
        """Names and types of the columns, in order: an undo needs the same shape back."""
        shape = [[column.name, column.type] for column in self.columns]
        return hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:16]


def choose_key(info: TableInfo) -> tuple[str, ...] | None:
    """The columns that identify a row for undo and conflict detection.

    The primary key; else the shortest unique key whose columns are all NOT NULL (a NULL never
    equals itself, so a nullable key cannot find its row again); else None: rows cannot be
    matched, so the table gets no pre-image.
    """
    if info.primary_key:
        return info.primary_key
    nullable = {column.name: column.nullable for column in info.columns}
    candidates = [
        key
        for key in info.unique_keys
        if key and all(name in nullable and not nullable[name] for name in key)
    ]
    return min(candidates, key=len) if candidates else None


def pre_image_problem(
    change: RowChange, info: TableInfo, key: tuple[str, ...] | None
) -> str | None:
    """Why the rows `change` touches cannot be copied and put back reliably, or None."""
    if info.temporary:
        return f"{info.display} is a temporary table (it ends with the session anyway)"
    if change.capture_problem:
        return change.capture_problem
    if key is None:
        return (
            f"{info.display} has no primary key or NOT NULL unique key, so changed rows could "
            "not be matched again for undo"
        )
    written = sorted({name.lower() for name in key} & change.assigned)
    if written:
        return (
            f"the {change.operation} writes key column(s) {', '.join(written)}, so changed rows "
            "could not be matched again for undo"
        )
    return None


class Protection(StrEnum):
    NONE = "none"
    PRE_IMAGE = "pre_image"
    SOFT_DROP = "soft_drop"


@dataclass(frozen=True)
class StatementPlan:
    """What happens around one statement when it runs reversibly."""

    statement: StatementEffect
    protection: Protection
    changes: tuple[RowChange, ...] = ()
    drop: TableDrop | None = None
    # Why the statement gets no way back although it destroys or changes data.
    problem: str | None = None

    @property
    def replaces_statement(self) -> bool:
        """A soft drop moves the table instead: the DROP itself never runs."""
        return self.protection is Protection.SOFT_DROP


def judged_tree(statement: StatementEffect, dialect: str) -> exp.Expr:
    """The tree the analyzer read `statement` from: impact planning reads what was judged and
    parses nothing again. A statement judged in another dialect than its connection speaks (a
    `check` without one, run on a probe's connection) is read again by the analyzer, in that
    dialect, preprocessing included. Raises UnsupportedStatement when the analyzer read it by
    its keywords alone: there is no syntax to select its rows from."""
    tree = tree_of(statement) if _same_dialect(statement.dialect, dialect) else None
    if tree is None and not _same_dialect(statement.dialect, dialect):
        read = analyze(statement.text, kind=CommandKind.SQL, dialect=dialect).statements
        tree = tree_of(read[0]) if len(read) == 1 else None
    if tree is None:
        raise UnsupportedStatement("the analyzer read it by its keywords, not as a syntax tree")
    return tree


def _same_dialect(judged: str | None, connection: str) -> bool:
    return resolve_dialect(judged) == resolve_dialect(connection)


def plan_statement(statement: StatementEffect, dialect: str, spec: ImpactSpec) -> StatementPlan:
    """Which protection `statement` gets under `spec` (before looking at the catalog)."""
    operation = Operation.of(statement)
    if operation in PRE_IMAGE_OPERATIONS:
        if spec.pre_image_max_rows <= 0:
            return StatementPlan(
                statement, Protection.NONE, problem="pre-images are off (pre_image_max_rows: 0)"
            )
        try:
            changes = row_changes(judged_tree(statement, dialect), dialect)
        except UnsupportedStatement as error:
            return StatementPlan(statement, Protection.NONE, problem=str(error))
        return StatementPlan(statement, Protection.PRE_IMAGE, changes=changes)
    if operation is Operation.DROP_TABLE:
        if not spec.soft_drop:
            return StatementPlan(statement, Protection.NONE, problem="soft drops are off")
        try:
            drop = table_drop(judged_tree(statement, dialect), dialect)
        except UnsupportedStatement as error:
            return StatementPlan(statement, Protection.NONE, problem=str(error))
        if drop is None or not drop.tables:
            return StatementPlan(statement, Protection.NONE)
        if drop.temporary:
            return StatementPlan(statement, Protection.NONE)
        if drop.cascade:
            return StatementPlan(
                statement,
                Protection.NONE,
                problem="DROP ... CASCADE also destroys the objects that depend on the table, "
                "which a soft drop cannot keep",
            )
        return StatementPlan(statement, Protection.SOFT_DROP, drop=drop)
    return StatementPlan(statement, Protection.NONE)


def backup_id(decision_id: str, statement_index: int, part: int) -> str:
    """The id of one backup: a decision, a statement in it, a table of that statement."""
    return f"{decision_id}_{statement_index}_{part}"


__all__ = [
    "PRE_IMAGE_OPERATIONS",
    "PROBED_DIALECTS",
    "Column",
    "Protection",
    "StatementPlan",
    "TableInfo",
    "backup_id",
    "choose_key",
    "judged_tree",
    "may_need_probe",
    "needs_probe",
    "plan_statement",
    "pre_image_problem",
]
