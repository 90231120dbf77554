"""Every code sample in README.md runs as written.

Conventions (what each fenced block must satisfy):
- ```python: executed in a fresh interpreter, in a temporary folder holding `policy.yaml` (the
  README's own policy sample) and `warehouse.db`. A line `expr  # expected` whose comment is
  a Python expression (before an optional `: explanation`) is also checked: `expr == expected`.
- ```console: each `$ command` runs; the first line of its shown output must be the first line
  printed, and `$ echo $?` the exit code shown.
- ```bash: each `access-guardrails ...` line runs and must not be a usage error (exit 2); a
  `pip install` line names only extras the package declares. A
  line with placeholders (`DECISION_ID`, `<id>`, `[--option]`) only has its subcommand checked
  (`... --help`), as has a server that runs until stopped (`guard-server`). `make` lines are
  the README's own entry points and are not run here; `export` lines set the environment.
- ```yaml: parses; a policy (with `version:`) loads with the policy loader, a bare `impact:`
  section loads as a policy's impact section, a list is GitHub workflow steps (each with `run`
  or `uses`). ```ini: parses.
- ```text: not code (a diagram, a listing); a listed folder (`name/` at a line's start) exists.
Every fence names one of these languages: an untagged or other block fails the suite.
"""

from __future__ import annotations

import ast
import configparser
import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from guardrails_core.policy import parse_policy

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CLI = Path(sys.executable).parent / "access-guardrails"
FENCE = re.compile(r"^( *)```(\w*)\n(.*?)^\1```", re.DOTALL | re.MULTILINE)
LANGUAGES = {"python", "console", "bash", "yaml", "ini", "text"}
PLACEHOLDER = re.compile(r"[A-Z][A-Z_]{2,}|<[^>]+>|\[.*")
# Subcommands that serve until stopped: a sample line is checked through its `--help`.
SERVERS = {"guard-server"}


def _blocks(language: str) -> list[tuple[int, str]]:
    text = README.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        if match.group(2) == language:
            line = text.count("\n", 0, match.start()) + 1
            found.append((line, textwrap.dedent(match.group(3))))
    return found


def _policy_sample() -> str:
    [policy] = [body for _, body in _blocks("yaml") if body.startswith("version:")]
    return policy


@pytest.fixture
def sandbox(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    (tmp_path / "policy.yaml").write_text(_policy_sample(), encoding="utf-8")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GUARDRAILS_", "AIRFLOW", "PREFECT_"))
    }
    env.update(
        GUARDRAILS_HOME=str(tmp_path / "guardrails"),
        AIRFLOW_HOME=str(tmp_path / "airflow"),
        PREFECT_HOME=str(tmp_path / "prefect"),
        PYTHONPATH=str(ROOT),
    )
    return tmp_path, env


def _checked(source: str) -> str:
    """The sample, with `expr  # expected` lines turned into assertions."""
    lines = []
    for line in source.splitlines():
        code, _, comment = line.partition("  # ")
        expected = comment.split(": ")[0].strip()  # `# value: why` checks the value
        top_level = code.strip() and not code.startswith(" ")
        if top_level and expected and _is_expression(code) and _is_expression(expected):
            line = f"assert ({code}) == ({expected}), ({code}, {expected!r})"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _is_expression(text: str) -> bool:
    try:
        ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return False
    return True


@pytest.mark.parametrize(("line", "source"), _blocks("python"), ids=lambda v: str(v)[:20])
def test_python_samples_run(line: int, source: str, sandbox: tuple[Path, dict[str, str]]) -> None:
    folder, env = sandbox
    script = folder / f"readme_{line}.py"
    script.write_text(_checked(source), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], cwd=folder, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, f"README.md:{line}\n{done.stdout}\n{done.stderr}"


def _run(words: list[str], folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    assert words[0] == "access-guardrails"
    return subprocess.run(
        [str(CLI), *words[1:]], cwd=folder, env=env, capture_output=True, text=True
    )


def _without_placeholders(words: list[str]) -> list[str] | None:
    """The words before the first placeholder (and the option it is the value of), or None."""
    for position, word in enumerate(words):
        if PLACEHOLDER.fullmatch(word):
            kept = words[:position]
            return kept[:-1] if kept[-1].startswith("--") else kept
    return None


def _assert_extras_exist(requirements: list[str], line: int) -> None:
    """`pip install 'access-guardrails[x]'` lines name extras the package declares."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for requirement in requirements:
        name, _, extras = requirement.partition("[")
        assert name == project["name"], f"README.md:{line}: installs {requirement}"
        for extra in filter(None, extras.rstrip("]").split(",")):
            assert extra in project["optional-dependencies"], f"README.md:{line}: [{extra}]"


@pytest.mark.parametrize(("line", "source"), _blocks("bash"), ids=lambda v: str(v)[:20])
def test_cli_samples_run(line: int, source: str, sandbox: tuple[Path, dict[str, str]]) -> None:
    folder, env = sandbox
    for command in source.splitlines():
        words = shlex.split(command, comments=True)
        if words[:2] == ["pip", "install"]:
            _assert_extras_exist(words[2:], line)
            continue
        if not words or words[0] != "access-guardrails":
            assert not words or words[0] in ("make", "export"), f"README.md:{line}: {command}"
            continue
        subcommand = words[:2] if words[1] in SERVERS else _without_placeholders(words)
        done = _run([*subcommand, "--help"] if subcommand else words, folder, env)
        assert done.returncode != 2, f"README.md:{line}: {command}\n{done.stderr}"
        if subcommand:
            assert done.returncode == 0, f"README.md:{line}: {command}\n{done.stderr}"


@pytest.mark.parametrize(("line", "source"), _blocks("console"), ids=lambda v: str(v)[:20])
def test_console_samples_show_what_runs(
    line: int, source: str, sandbox: tuple[Path, dict[str, str]]
) -> None:
    folder, env = sandbox
    last: subprocess.CompletedProcess[str] | None = None
    shown: list[str] = []
    for text in [*source.splitlines(), "$ "]:
        if not text.startswith("$ "):
            shown.append(text)
            continue
        if last is not None and shown:
            if last.args == ["echo $?"]:
                assert shown[0] == str(last.returncode), f"README.md:{line}: exit code"
            else:
                assert last.stdout.splitlines()[0] == shown[0], f"README.md:{line}"
        command, shown = text[2:].strip(), []
        if command == "echo $?":
            assert last is not None
            last = subprocess.CompletedProcess(["echo $?"], last.returncode)
        elif command:
            last = _run(shlex.split(command), folder, env)


PACKAGE_ROOTS = {
    "guardrails_core": ROOT / "core" / "__init__.py",
    "airflow_guardrails": ROOT / "airflow_guardrails" / "__init__.py",
    "prefect_guardrails": ROOT / "prefect_guardrails" / "__init__.py",
}


def _declared_all(init: Path) -> set[str]:
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
        ):
            return set(ast.literal_eval(node.value))
    raise AssertionError(f"{init} declares no __all__")


def _readme_imports(package: str) -> set[str]:
    """The names the README's Python samples import from `package`'s root."""
    return {
        alias.name
        for _line, source in _blocks("python")
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module == package and node.level == 0
        for alias in node.names
    }


@pytest.mark.parametrize("package", sorted(PACKAGE_ROOTS))
def test_package_root_exports_exactly_what_the_readme_imports(package: str) -> None:
    exported = _declared_all(PACKAGE_ROOTS[package])
    shown = _readme_imports(package)
    assert sorted(shown - exported) == [], f"README.md imports from {package} what it hides"
    assert sorted(exported - shown) == [], f"{package}.__all__ names what README.md never shows"


@pytest.mark.parametrize("package", sorted(PACKAGE_ROOTS))
def test_package_root_hides_what_it_does_not_export(package: str) -> None:
    """A name left out of `__all__` is not reachable from the root (only from its module)."""
    code = (
        f"import {package} as root\n"
        "missing = [name for name in root.__all__ if not hasattr(root, name)]\n"
        "assert missing == [], missing\n"
        "for hidden in ('Mode', 'ObjectRef', 'parse_policy', 'GuardrailsPlugin', 'Outcome'):\n"
        "    assert not hasattr(root, hidden), hidden\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_yaml_and_ini_samples_parse() -> None:
    for line, body in _blocks("yaml"):
        loaded = yaml.safe_load(body)
        if isinstance(loaded, list):  # GitHub workflow steps: each runs or uses something
            assert all({"run", "uses"} & set(step) for step in loaded), f"README.md:{line}"
            continue
        if "version" in loaded:
            parse_policy(body, source=f"README.md:{line}")
        elif "impact" in loaded:
            parse_policy(f"version: 1\n{body}", source=f"README.md:{line}")
        else:
            pytest.fail(f"README.md:{line}: a yaml sample that is neither a policy nor a section")
    for _line, body in _blocks("ini"):
        configparser.ConfigParser().read_string(body)


def test_every_block_names_a_checked_language() -> None:
    text = README.read_text(encoding="utf-8")
    unchecked = [
        (text.count("\n", 0, match.start()) + 1, match.group(2) or "(none)")
        for match in FENCE.finditer(text)
        if match.group(2) not in LANGUAGES
    ]
    assert unchecked == [], f"README.md (line, language) of blocks no test checks: {unchecked}"


def test_listed_folders_exist() -> None:
    listed = [
        (line, word)
        for line, body in _blocks("text")
        for word in (row.split(" ")[0] for row in body.splitlines())
        if word.endswith("/")
    ]
    assert listed, "the Layout listing is gone: this test checks it"
    missing = [(line, word) for line, word in listed if not (ROOT / word).is_dir()]
    assert missing == [], f"README.md lists folders that do not exist: {missing}"
