"""Impact and reversibility on live databases: row estimates, pre-images, soft drops, undo.

    probe = ImpactProbe(connection)                   # the task's own connection
    result = guard.check(sql, context=ctx, probe=probe)   # estimates in result.decision.impact
    executed = guard.execute_reversibly(result, probe, run=lambda text: cursor.execute(text))
    undo(connection, result.decision.decision_id)     # later: put the rows (or table) back

Where the caller sends the statement itself (an engine event), the run is split in two:
`capture = guard.prepare_reversibly(result, probe)` before it, `guard.complete_reversibly(result,
capture)` after it succeeded (`capture.abandon()` when it failed).

PostgreSQL, MariaDB/MySQL and SQLite. The pure parts (statement rewrites, key choice, what to
protect) are in `statements.py` and `plan.py`; the per-database parts in `adapters/`.
"""

from guardrails_core.impact.adapters import ProbeError, UnsupportedDialect
from guardrails_core.impact.backups import BackupEntry, BackupState, ReversibilityError
from guardrails_core.impact.plan import PROBED_DIALECTS, may_need_probe, needs_probe
from guardrails_core.impact.probe import Capture, Execution, ImpactProbe
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
    "PROBED_DIALECTS",
    "BackupEntry",
    "BackupState",
    "Capture",
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
    "may_need_probe",
    "needs_probe",
    "purge",
    "undo",
]
