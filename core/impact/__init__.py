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

from importlib import import_module
from typing import TYPE_CHECKING, Any

from guardrails_core.extras import function_over_submodule

if TYPE_CHECKING:
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

# Where each public name lives: imported on first use, so a worker importing `impact.plan`
# (what the guard needs before any probe) does not load the adapters, backups and undo.
_HOME = {
    "ProbeError": "guardrails_core.impact.adapters",
    "UnsupportedDialect": "guardrails_core.impact.adapters",
    "BackupEntry": "guardrails_core.impact.backups",
    "BackupState": "guardrails_core.impact.backups",
    "ReversibilityError": "guardrails_core.impact.backups",
    "PROBED_DIALECTS": "guardrails_core.impact.reach",
    "may_need_probe": "guardrails_core.impact.reach",
    "needs_probe": "guardrails_core.impact.plan",
    "Capture": "guardrails_core.impact.probe",
    "Execution": "guardrails_core.impact.probe",
    "ImpactProbe": "guardrails_core.impact.probe",
    "UnsupportedConnection": "guardrails_core.impact.session",
    "Purged": "guardrails_core.impact.undo",
    "Restored": "guardrails_core.impact.undo",
    "UndoRefused": "guardrails_core.impact.undo",
    "UndoReport": "guardrails_core.impact.undo",
    "list_backups": "guardrails_core.impact.undo",
    "purge": "guardrails_core.impact.undo",
    "undo": "guardrails_core.impact.undo",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(_HOME[name]), name)
    raise AttributeError(f"module 'guardrails_core.impact' has no attribute {name!r}")


function_over_submodule(__name__, "undo")


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
