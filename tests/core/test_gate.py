"""The CI gate: every SQL file under the paths judged in one process, blocks located by line."""

from __future__ import annotations

import io
import json
from pathlib import Path

from guardrails_core.cli import main


def _gate(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(["gate", *argv], out=out), out.getvalue()


def test_blocked_statements_are_located_by_file_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "ok.sql").write_text("select * from orders;\n")
    bad = tmp_path / "002_oops.sql"
    bad.write_text("select 1;\n\n  delete from orders;\nDROP TABLE x;\n")
    code, text = _gate(str(tmp_path), "--dialect", "postgres", "--format", "json")
    report = json.loads(text)
    assert code == 1
    assert report["files"] == 2
    located = [
        (item["path"], item["line"], item["column"], item["rule"]) for item in report["blocked"]
    ]
    assert located == [
        (str(bad), 3, 3, "baseline.mass-mutation"),
        (str(bad), 4, 1, "baseline.drop"),
    ]


def test_github_annotations_and_clean_folder(tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text("TRUNCATE orders;\n")
    code, text = _gate(str(tmp_path / "a.sql"), "--format", "github")
    assert code == 1
    assert text.startswith("::error file=" + str(tmp_path / "a.sql") + ",line=1,col=1,")
    (tmp_path / "a.sql").write_text("insert into t values (1);\n")
    assert _gate(str(tmp_path))[0] == 0


def test_unreadable_or_missing_file_fails_closed(tmp_path: Path) -> None:
    (tmp_path / "latin.sql").write_bytes(b"select '\xff';")
    code, text = _gate(str(tmp_path / "latin.sql"), str(tmp_path / "missing.sql"))
    assert code == 1
    assert text.count("gate:unreadable") == 2
