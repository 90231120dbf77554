"""Task listener (registered by the plugin): puts a guarded task's decision in XCom once the
task's state is settled, so the XCom write is not on the task's critical path.

The decision is durably in the audit trail before the command runs; the XCom copy is for people
and downstream tasks. When this listener is not registered in a process (plugins not loaded),
the guarded task pushes the XCom itself before it returns.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from airflow.listeners import hookimpl

PENDING_XCOM = "_guardrails_pending_xcom"


def _push_pending(task_instance: Any) -> None:
    task = getattr(task_instance, "task", None)
    pending = getattr(task, "__dict__", {}).pop(PENDING_XCOM, None)
    if pending is not None:
        pending(task_instance)


@hookimpl
def on_task_instance_success(previous_state: Any, task_instance: Any) -> None:
    _push_pending(task_instance)


@hookimpl
def on_task_instance_failed(previous_state: Any, task_instance: Any, error: Any) -> None:
    _push_pending(task_instance)


@cache
def registered() -> bool:
    """True when the Task SDK's listener manager calls this module in this process."""
    import sys

    try:
        from airflow.sdk.listener import get_listener_manager

        return bool(get_listener_manager().pm.is_registered(sys.modules[__name__]))
    except Exception:
        return False
