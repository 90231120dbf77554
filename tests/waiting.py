"""Waiting on a condition, never on the clock: a test polls what it needs to be true."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(
    condition: Callable[[], object],
    *,
    timeout: float = 30.0,
    interval: float = 0.05,
    what: str = "",
) -> None:
    """Return as soon as ``condition()`` is truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:g} s waiting for {what or condition}")
        time.sleep(interval)
