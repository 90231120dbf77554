"""Impact and reversibility on live databases: row estimates, pre-images, soft drops, undo.

    probe = ImpactProbe(connection)                   # the task's own connection
    result = guard.check(sql, context=ctx, probe=probe)   # estimates in result.decision.impact
    executed = guard.execute_reversibly(result, probe, run=lambda text: cursor.execute(text))
    undo(connection, result.decision.decision_id)     # later: put the rows (or table) back

PostgreSQL, MariaDB/MySQL and SQLite. The pure parts (statement rewrites, key choice, what to
protect) are in `statements.py` and `plan.py`; the per-database parts in `adapters/`.
"""

from guardrails_core.impact.adapters import ProbeError, UnsupportedDialect
from guardrails_core.impact.backups import BackupEntry, BackupState, ReversibilityError
from guardrails_core.impact.probe import Execution, ImpactProbe
from guardrails_core.impact.session import UnsupportedConnection
from guardrails_core.impact.undo import (
    Purged,
    Restored,
    UndoRefused,
    UndoReport,
    list_backups,
    purge,
    undo,
)

__all__ = [
    "BackupEntry",
    "BackupState",
    "Execution",
    "ImpactProbe",
    "ProbeError",
    "Purged",
    "Restored",
    "ReversibilityError",
    "UndoRefused",
    "UndoReport",
    "UnsupportedConnection",
    "UnsupportedDialect",
    "list_backups",
    "purge",
    "undo",
]
