"""The shell program registry read from rules/programs.yaml: each row checked and built into
the Registry that programs.py matches command lines against."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from guardrails_core.intent import guard_switches
from guardrails_core.intent.option_spans import operand, rule_prefixes, span, values
from guardrails_core.intent.programs import (
    EFFECTS,
    MORE_PROGRAMS,
    RULES,
    Carrier,
    Program,
    Registry,
    Rule,
    When,
)
from guardrails_core.intent.saved_plans import SavedPlan
from guardrails_core.yaml_data import load_yaml


def _when(row: dict[str, Any] | None) -> When:
    row = row or {}
    return When(
        tuple(str(w).lower() for w in row.get("words") or ()),
        tuple(str(o) for o in row.get("options") or ()),
        span(row.get("span")),
        values(row.get("values")),
        operand(row.get("operand")),
        rule_prefixes(row.get("prefixes")),
        tuple(str(o) for o in row.get("without") or ()),
        bool(row.get("keeps", False)),
        None if row.get("most") is None else int(row["most"]),
    )


def _carrier(row: dict[str, Any]) -> Carrier:
    return Carrier(
        _when(row.get("when")),
        tuple(row.get("options") or ()),
        row.get("dialect"),
        row.get("language"),
        row.get("template"),
        bool(row.get("folder", False)),
        bool(row.get("attached", False)),
        bool(row.get("empties", False)),
        bool(row.get("before", False)),
        tuple(row.get("defaults") or ()),
    )


def _program(row: dict[str, Any]) -> Program:
    return Program(
        names=tuple(row["names"]),
        object=row.get("object", "resource"),
        words=int(row.get("words", 4)),
        verbs=bool(row.get("verbs", True)),
        safe=tuple(tuple(str(entry).lower().split()) for entry in row.get("safe") or ()),
        rules=tuple(
            Rule(_when(r.get("when")), r["effect"], r.get("message", ""))
            for r in row.get("rules") or ()
        ),
        sql=tuple(_carrier(r) for r in row.get("sql") or ()),
        code=tuple(_carrier(r) for r in row.get("code") or ()),
        command=tuple(_when(r.get("when")) for r in row.get("command") or ()),
        stdin=tuple(_carrier(r) for r in row.get("stdin") or ()),
        positionals=int(row.get("positionals", 0)),
        remote=bool(row.get("remote", False)),
        file_values=bool(row.get("file_values", False)),
        builtins=frozenset(str(name) for name in row.get("builtins") or ()),
        archives=bool(row.get("archives", False)),
        value_options=frozenset(row.get("value_options") or ()),
        pins=frozenset(row.get("pins") or ()),
        generates=tuple(_when(r.get("when")) for r in row.get("generates") or ()),
        applies=tuple(_when(r.get("when")) for r in row.get("applies") or ()),
        builds=tuple(Rule(_when(r.get("when")), r["effect"]) for r in row.get("builds") or ()),
        writes=tuple(_carrier(r) for r in row.get("writes") or ()),
        images=tuple(_carrier(r) for r in row.get("images") or ()),
        runs=str(row.get("runs", "")),
        migrations=bool(row.get("migrations", False)),
        scratch_roots=tuple(str(root) for root in row.get("scratch_roots") or ()),
        env_options=tuple(str(form) for form in row.get("env_options") or ()),
        dry_run=tuple(_when(r) for r in row.get("dry_run") or ()),
        saved_plan=SavedPlan(**row["saved_plan"]) if row.get("saved_plan") else None,
    )


def _check(programs: list[Program]) -> None:
    for program in programs:
        effects = [rule.effect for rule in program.rules]
        unknown = sorted(set(effects) - set(EFFECTS))
        if unknown:
            raise ValueError(f"{RULES}: {program.names[0]}: unknown effect(s) {unknown}")


@cache
def registry() -> Registry:
    from guardrails_core.intent.credential_rows import (  # it reads When from here: import late
        _argv_credentials,
        _credential_readers,
        _credential_traces,
        _kept_options,
    )

    data = load_yaml(RULES.read_text(encoding="utf-8"))
    rows = list(data["programs"])
    for more in MORE_PROGRAMS:
        rows.extend(load_yaml(more.read_text(encoding="utf-8"))["programs"])
    programs = [_program(row) for row in rows]
    _check(programs)
    table: dict[str, Program] = {}
    for program in programs:
        for name in program.names:
            if name in table:
                raise ValueError(f"{RULES}: program {name!r} is listed twice")
            table[name] = program
    vocabulary = {
        key: frozenset(str(v).lower() for v in values) for key, values in data["verbs"].items()
    }
    scratch = data.get("scratch") or {}
    return Registry(
        table,
        vocabulary,
        tuple(data.get("dry_run") or ()),
        frozenset(scratch.get("dirs") or ()),
        tuple(scratch.get("files") or ()),
        tuple(scratch.get("home") or ()),
        {
            **{name: tuple(patterns) for name, patterns in (data.get("files") or {}).items()},
            guard_switches.GUARD_FILES: guard_switches.files(),
        },
        {name: frozenset(names) for name, names in (data.get("environment") or {}).items()},
        data.get("inline_python") or {},
        frozenset(str(v).lower() for v in data.get("public_values") or ()),
        {
            name: (
                row["dialect"],
                tuple((re.compile(p, re.IGNORECASE), r) for p, r in row.get("rewrite") or ()),
            )
            for name, row in (data.get("client_dialects") or {}).items()
        },
        _credential_readers((data.get("credentials") or {}).get("stdin") or ()),
        tuple((data.get("credentials") or {}).get("masked") or ()),
        tuple((data.get("credentials") or {}).get("urls") or ()),
        _argv_credentials((data.get("credentials") or {}).get("argv") or ()),
        _credential_traces((data.get("credentials") or {}).get("traced") or ()),
        _kept_options((data.get("credentials") or {}).get("kept") or ()),
        scratch_buckets=frozenset(str(word) for word in scratch.get("buckets") or ()),
        scratch_roots=tuple(str(root) for root in scratch.get("roots") or ()),
        insecure_tls=tuple(str(option) for option in data.get("insecure_tls") or ()),
        manifests=data.get("manifests") or {},
        client_commands=data.get("client_commands") or {},
        shell_setup=tuple(str(pattern) for pattern in data.get("shell_setup") or ()),
        inline_scripts=data.get("inline_scripts") or {},
        official_images=frozenset(str(image) for image in data.get("official_images") or ()),
        credential_searches=(data.get("credentials") or {}).get("searches") or {},
        own_network=data.get("own_network") or {},
        info_only=data.get("info_only") or {},
    )
