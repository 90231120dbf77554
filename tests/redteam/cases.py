"""Red-team case tables: adversarial and benign look-alike commands, kept as data.

Each file under `tests/redteam/cases/` is a YAML list of rows:

    - id: pg-case-fold-1            # unique across all files
      text: "DELETE FROM t WHERE V IS NULL OR v IS NOT NULL"
      kind: sql                     # sql (default) or shell
      dialect: postgres             # SQL dialect; omitted for shell
      actor: service                # human | service (default) | ai_agent
      expect: block                 # allow | block (deny or review) | deny | review
      intents: [mass_mutation]      # optional: intents the decision must name
      class: predicate-case-fold    # the attack (or benign look-alike) family
      why: identifier case differs, so the predicate is true for every row

A row may also give `context` (flat keys as `--context` takes them: orchestrator, label.NAME,
environment, ...) and `packs` (built-in policy packs added to the baseline, e.g. [dbt]): then it
is judged as that orchestrator's adapter would judge it.

The analyzer's catalogues (tests/catalogue/) use the same rows and harness, stricter: with
`exact: true` the intents must be exactly those listed, and `objects` (optional) lists every
object as "action kind qualified-name" (e.g. "drop table sales.orders"); `operation` (optional)
is the operation the last statement reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CASES_DIR = Path(__file__).parent / "cases"
CATALOGUE_DIR = Path(__file__).parent.parent / "catalogue"
EXPECTATIONS = {"allow", "block", "deny", "review"}
ACTORS = {"human", "service", "ai_agent"}


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    kind: str
    dialect: str | None
    actor: str
    expect: str
    intents: tuple[str, ...]
    family: str
    why: str
    source: str
    exact: bool = False
    objects: tuple[str, ...] | None = None
    operation: str | None = None
    context: tuple[tuple[str, str], ...] = ()
    packs: tuple[str, ...] = ()

    @property
    def unsafe(self) -> bool:
        return self.expect != "allow"

    def accepts(self, verdict: str) -> bool:
        if self.expect == "block":
            return verdict in {"deny", "review"}
        return verdict == self.expect


def _case(row: dict[str, Any], source: str) -> Case:
    where = f"{source}: row {row.get('id', '?')}"
    expect = row.get("expect")
    if expect not in EXPECTATIONS:
        raise ValueError(f"{where}: expect must be one of {sorted(EXPECTATIONS)}, not {expect!r}")
    actor = row.get("actor", "service")
    if actor not in ACTORS:
        raise ValueError(f"{where}: actor must be one of {sorted(ACTORS)}, not {actor!r}")
    if not isinstance(row.get("text"), str) or not row.get("id"):
        raise ValueError(f"{where}: every row needs an id and a text")
    kind = row.get("kind", "sql")
    return Case(
        id=str(row["id"]),
        text=row["text"],
        kind=kind,
        dialect=row.get("dialect") if kind == "sql" else None,
        actor=actor,
        expect=expect,
        intents=tuple(row.get("intents") or ()),
        family=str(row.get("class", "")),
        why=str(row.get("why", "")),
        source=source,
        exact=bool(row.get("exact", False)),
        objects=tuple(row["objects"]) if "objects" in row else None,
        operation=row.get("operation"),
        context=tuple((str(k), str(v)) for k, v in (row.get("context") or {}).items()),
        packs=tuple(row.get("packs") or ()),
    )


def load_cases(paths: list[Path] | None = None) -> list[Case]:
    """Every row of the given files (default: every file under cases/), ids checked unique."""
    files = paths or sorted(CASES_DIR.glob("*.yaml"))
    cases: list[Case] = []
    seen: set[str] = set()
    for path in files:
        rows = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        for row in rows:
            case = _case(row, path.name)
            if case.id in seen:
                raise ValueError(f"{path.name}: duplicate id {case.id!r}")
            seen.add(case.id)
            cases.append(case)
    return cases
