"""`make demo`'s copilot session runs as shipped: a scripted agent, a person at the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "dags_examples" / "copilot_demo.py"


def test_the_copilot_demo_runs_every_step_as_it_says() -> None:
    done = subprocess.run(
        [sys.executable, str(DEMO)],
        env={k: v for k, v in os.environ.items() if not k.startswith("GUARDRAILS_")},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # The demo checks each step's outcome and the database it leaves; 1 names what went wrong.
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "DENY baseline.mass-mutation" in out
    assert "DENY baseline.export" in out
    assert "REVIEW customer-changes-need-approval" in out
    assert "was already used by decision" in out  # the replayed approval
    assert "1 row set back" in out  # the person's undo
    assert "order 3 is 'paid' again, customer 7 is ada.lovelace@example.com, 50 orders" in out
