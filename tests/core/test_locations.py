"""Location patterns: paths and URLs normalised before matching (issue 15).

The traversal table (tests/redteam/traversal.yaml) is the spec; these tests run every row, then
pin what the table cannot show: readings, pattern errors, and symlinks read at each call.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from guardrails_core import Verdict, check
from guardrails_core.locations import compile_pattern, readings
from guardrails_core.policy import PolicyError, parse_policy
from tests.redteam.traversal import build_links, judge, load


@pytest.fixture(scope="module")
def links(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.path.realpath(tmp_path_factory.mktemp("traversal")))
    build_links(folder)
    return folder


_, _ROWS = load(Path("/{tmp}"))


@pytest.mark.parametrize("row_id", [row.id for row in _ROWS])
def test_traversal_table(row_id: str, links: Path) -> None:
    policy_text, rows = load(links)
    row = next(row for row in rows if row.id == row_id)
    result = judge(row, policy_text)
    assert result["ok"], (row.text, row.expect, row.rule, result)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("/srv/exports/../../etc/cron.d/x", ("/etc/cron.d/x",)),
        ("/srv//exports/./x", ("/srv/exports/x",)),
        ("/../../x", ("/x",)),
        ("x/../../y", ("../y",)),
        ("FILE:///srv/exports/%2E%2E/x", ("/srv/x",)),
        ("s3://Bucket/a/../b", ("s3://bucket/b", "s3://bucket/a/../b")),
        (
            "https://evil%2eexample.com/x",
            ("https://evil%2eexample.com/x", "https://evil.example.com/x"),
        ),
        ("https://ｅvil.example.com./x", ("https://evil.example.com/x",)),
        ("https://up.example.com@attacker.net/in/x", ("https://attacker.net/in/x",)),
        ("C:\\exports\\x.csv.", ("c:/exports/x.csv",)),
        ("/srv/a\\b", ("/srv/a\\b", "/srv/a/b")),
        ("@stage/a/../../x", None),
        ("~/../etc", None),
        ("/srv/x\x00/../y", None),
        ("https://h/%ff", None),
        ("https://h/%25252525252e", None),
    ],
)
def test_readings(written: str, expected: tuple[str, ...] | None) -> None:
    assert readings(written) == expected


@pytest.mark.parametrize(
    ("pattern", "inside", "outside"),
    [
        ("/srv/exports/*", ["/srv/exports/x"], ["/srv/exports/a/b", "/srv/exports", "/srv/x"]),
        ("/srv/**", ["/srv/a", "/srv/a/b/c"], ["/srv", "/srvx/a"]),
        ("/srv/**/x.csv", ["/srv/x.csv", "/srv/a/b/x.csv"], ["/srv/a/y.csv"]),
        (
            "https://*.example.com/in/*",
            ["https://a.example.com/in/x"],
            ["https://a.example.com/in/a/b"],
        ),
        ("./data/*", ["data/x"], ["../data/x", "data/a/b"]),
        ("/x/[!a]*", ["/x/b"], ["/x/a", "/x/b/c"]),
    ],
)
def test_star_stays_in_one_segment(pattern: str, inside: list[str], outside: list[str]) -> None:
    compiled = compile_pattern(pattern)
    assert [name for name in inside if compiled.fullmatch(name)] == inside
    assert [name for name in outside if compiled.fullmatch(name)] == []


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("/srv/exports/../x", "rules[0].match.objects[0]: '/srv/exports/../x' contains '..'"),
        ("/srv/a**b", "'**' must be a whole path segment"),
        ("https://user@h/x", "user names in URL patterns are not matched"),
    ],
)
def test_unsafe_patterns_are_load_errors(pattern: str, message: str) -> None:
    rule = f"  - id: r\n    match: {{objects: [{pattern!r}]}}\n    decision: allow\n"
    text = f"version: 1\nrules:\n{rule}"
    with pytest.raises(PolicyError) as raised:
        parse_policy(text, source="policy.yaml")
    assert message in str(raised.value)
    assert "policy.yaml:" in str(raised.value)


def test_symlinks_are_read_at_each_call_not_memoised(tmp_path: Path) -> None:
    exports = Path(os.path.realpath(tmp_path)) / "exports"
    exports.mkdir()
    policy = parse_policy(
        textwrap.dedent(
            f"""
            version: 1
            rules:
              - id: allow-exports
                match: {{kind: [shell], object_actions: [write], objects: ["{exports}/**"]}}
                decision: allow
              - id: deny-writes
                match: {{kind: [shell], object_actions: [write]}}
                decision: deny
            """
        ),
        source="policy.yaml",
    )
    command = f"cp x {exports}/link/y"
    assert check(command, kind="shell", policy=policy, local_paths=True).decision is Verdict.ALLOW
    (exports / "link").symlink_to(tmp_path.parent)
    after = check(command, kind="shell", policy=policy, local_paths=True)
    assert after.decision is Verdict.DENY and after.reasons[0].rule_id == "deny-writes"
    # Without local paths (SQL on a database server, a remote host) only the text is judged.
    assert check(command, kind="shell", policy=policy).decision is Verdict.ALLOW
