"""Tables in a database file the script attached from the working folder (DuckDB, SQLite:
`ATTACH 'dev.duckdb' AS dev`). That file is workspace, as a relative build folder's files are
(attach.py judges the ATTACH itself a write in the working folder, reads.working_folder_file):
rebuilding a table in it (`CREATE OR REPLACE TABLE dev.main.orders AS ...`) rewrites part of a
file the script may overwrite whole, so it is a write, not the replace of a kept table. An
absolute path, `..`, a hidden folder, a URL or a server (TYPE postgres, md:, s3://) is no such
attachment: attach.py gives those no working-folder write, and their tables stay as they were.
"""

from __future__ import annotations

import re

from sqlglot import exp

from guardrails_core.intent.sql.dialects import A, K
from guardrails_core.intent.sql.trees import replaces_as_writes, tree_of
from guardrails_core.model import ObjectRef, StatementEffect


def rebuilt_in_attached_workspace(effects: list[StatementEffect]) -> list[StatementEffect]:
    attached: set[str] = set()  # aliases of the working-folder files attached so far
    result: list[StatementEffect] = []
    for effect in effects:
        tree = tree_of(effect)
        if isinstance(tree, exp.Detach | exp.Attach):
            attached.discard(_alias(tree) or "")
        if isinstance(tree, exp.Attach) and _working_folder_file(effect):
            attached.add(_alias(tree) or "")
        elif attached:
            effect = _as_writes(effect, attached)
        result.append(effect)
    return result


def _working_folder_file(effect: StatementEffect) -> bool:
    return any(ref.kind is K.FILE and ref.action is A.WRITE for ref in effect.objects)


def _alias(tree: exp.Expr) -> str | None:
    """`AS dev`, else the file's stem (DuckDB names `ATTACH 'dev.duckdb'` dev)."""
    this = tree.this
    if isinstance(this, exp.Alias):
        return this.alias.lower()
    if isinstance(tree, exp.Detach):
        return this.name.lower() if isinstance(this, exp.Expr) else None
    if isinstance(this, exp.Literal) and this.is_string:
        stem = re.split(r"[\\/]", this.name)[-1].split(".", 1)[0]
        return stem.lower() or None
    return None


def _as_writes(effect: StatementEffect, attached: set[str]) -> StatementEffect:
    """The effect with each replace of a table in an attached working-folder file a write."""
    message = (
        "rebuilds a table in a database file the script attached from the working folder: "
        "workspace, as the file itself is"
    )

    def inside(ref: ObjectRef) -> bool:
        return ref.kind is K.TABLE and (ref.catalog or ref.schema_name or "").lower() in attached

    return replaces_as_writes(effect, inside, message)
