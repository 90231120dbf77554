"""Installs as a user makes them: the built wheel, with plain pip (the registry pip is configured
with), into a fresh venv holding nothing else; then the extra's example pipeline runs there.

One venv per row: the core alone (on each Python the machine has), `[airflow]` alone with the
oldest and the newest supported Airflow, `[prefect]` alone with Prefect 3.7 and the newest. The
suite's own environment (uv.lock) co-installs everything; these prove each extra works without
the others' pins. Slow (minutes each): they run in CI, or with `-m packaging`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "dags_examples"
# pip's own chatter about the machine's extra index folders: not an install problem.
PIP_NOISE = "WARNING: Location"


@dataclass(frozen=True)
class Install:
    """One fresh venv: which Python, which extra, which pinned orchestrator version."""

    python: str
    extra: str | None
    pins: tuple[str, ...] = ()

    @property
    def requirement(self) -> str:
        return f"[{self.extra}]" if self.extra else ""


def _python(version: str) -> str:
    """An interpreter of `version`: on PATH, or one pyenv keeps (its shims refuse versions not
    selected globally)."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [shutil.which(f"python{version}"), *sorted(pyenv.glob(f"{version}.*/bin/python3"))]
    for candidate in filter(None, candidates):
        if subprocess.run([str(candidate), "--version"], capture_output=True).returncode == 0:
            return str(candidate)
    pytest.skip(f"no python{version} on this machine")


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this tree, as a release would build it."""
    out = tmp_path_factory.mktemp("dist")
    uv = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")  # where `make` puts it
    subprocess.run(
        [uv, "build", "--wheel", "-o", str(out), str(ROOT)], check=True, capture_output=True
    )
    [built] = out.glob("access_guardrails-*.whl")
    return built


def _clean_environ(home: Path) -> dict[str, str]:
    """The machine's environment without anything of the suite's: no GUARDRAILS_*, AIRFLOW*,
    PREFECT_* or virtualenv variables leak into the user's shell."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GUARDRAILS_", "AIRFLOW", "PREFECT_", "VIRTUAL_ENV", "PYTHON"))
    }
    env["HOME"] = os.environ.get("HOME", str(home))
    env["GUARDRAILS_HOME"] = str(home / "guardrails")
    env["PREFECT_HOME"] = str(home / "prefect")
    return env


def _venv(install: Install, wheel: Path, where: Path) -> tuple[Path, dict[str, str]]:
    env = _clean_environ(where)
    venv = where / "venv"
    subprocess.run([_python(install.python), "-m", "venv", str(venv)], check=True, env=env)
    pip = subprocess.run(
        [
            str(venv / "bin" / "pip"),
            "install",
            "--quiet",
            f"{wheel}{install.requirement}",
            *install.pins,
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    errors = "\n".join(line for line in pip.stderr.splitlines() if PIP_NOISE not in line)
    assert pip.returncode == 0, f"pip install failed:\n{errors}"
    return venv, env


def _run(venv: Path, env: dict[str, str], *args: str, timeout: float = 600) -> str:
    started = time.monotonic()
    done = subprocess.run(
        [str(venv / "bin" / "python"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=venv.parent,  # not the source tree: every import comes from the installed wheel
        timeout=timeout,
    )
    print(f"{' '.join(args)}: {time.monotonic() - started:.1f} s")
    assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _installed(venv: Path, env: dict[str, str], *names: str) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, sys\n"
        "for name in sys.argv[1:]:\n"
        "    try: print(name, m.version(name))\n"
        "    except m.PackageNotFoundError: print(name, '-')\n"
    )
    out = _run(venv, env, "-c", code, *names)
    versions = dict(line.split(" ", 1) for line in out.splitlines())
    print(f"installed: {versions}")  # shown with -s: what this run tested
    return versions


# ----------------------------------------------------------------------------- core alone


@pytest.mark.parametrize("python", ["3.11", "3.12", "3.13"])
def test_the_core_alone_installs_and_judges_the_demo_night(
    wheel: Path, tmp_path: Path, python: str
) -> None:
    venv, env = _venv(Install(python, None), wheel, tmp_path)
    out = _run(venv, env, str(EXAMPLES / "demo.py"))
    assert "5 of 12 steps allowed; 7 stopped before touching data." in out
    versions = _installed(venv, env, "apache-airflow", "prefect", "sqlglot", "sqlglotc")
    assert versions["apache-airflow"] == versions["prefect"] == "-"
    assert versions["sqlglotc"] == "-"  # the compiled parser is the `speed` extra
    for adapter, extra in (("airflow_guardrails", "airflow"), ("prefect_guardrails", "prefect")):
        missing = subprocess.run(
            [str(venv / "bin" / "python"), "-c", f"import {adapter}"],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        assert f"pip install 'access-guardrails[{extra}]'" in missing.stderr


# ----------------------------------------------------------------------------- one orchestrator


AIRFLOW_OLDEST = "3.3.0"
PREFECT_OLDEST = "3.7.8"


@pytest.mark.parametrize(
    "install",
    [
        pytest.param(
            Install("3.11", "airflow", (f"apache-airflow=={AIRFLOW_OLDEST}",)), id="oldest"
        ),
        pytest.param(Install("3.13", "airflow"), id="newest"),
    ],
)
def test_airflow_alone_runs_the_example_dags_and_lists_the_provider(
    wheel: Path, tmp_path: Path, install: Install
) -> None:
    venv, env = _venv(install, wheel, tmp_path)
    versions = _installed(venv, env, "apache-airflow", "prefect", "fastapi", "sqlglot")
    assert versions["prefect"] == "-"
    if install.pins:
        assert versions["apache-airflow"] == AIRFLOW_OLDEST
    out = _run(venv, env, str(EXAMPLES / "run_airflow_demo.py"), timeout=900)
    assert "events:" in out and "rows before the undo" in out
    assert "DENY" in out and "ALLOW" in out

    env = {**env, "AIRFLOW_HOME": str(tmp_path / "airflow")}
    airflow = str(venv / "bin" / "airflow")
    providers = subprocess.run(
        [airflow, "providers", "list", "--output", "plain"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert "access-guardrails" in providers.stdout, providers.stderr[-2000:]


@pytest.mark.parametrize(
    "install",
    [
        pytest.param(Install("3.11", "prefect", (f"prefect=={PREFECT_OLDEST}",)), id="3.7"),
        pytest.param(Install("3.13", "prefect"), id="newest"),
    ],
)
def test_prefect_alone_runs_the_example_flows(
    wheel: Path, tmp_path: Path, install: Install
) -> None:
    venv, env = _venv(install, wheel, tmp_path)
    versions = _installed(venv, env, "prefect", "apache-airflow", "fastapi", "sqlglot")
    assert versions["apache-airflow"] == "-"
    if install.pins:
        assert versions["prefect"] == PREFECT_OLDEST
    env = {**env, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    out = _run(venv, env, str(EXAMPLES / "run_prefect_demo.py"), timeout=900)
    assert "decisions, as recorded in the audit trail:" in out
    assert "deny" in out and "allow" in out
