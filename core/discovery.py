"""Configuration found from the working directory upward, as linters find theirs: the first
folder holding `access-guardrails.yaml` / `.access-guardrails.yaml` (a policy file) or a
`pyproject.toml` with a `[tool.access-guardrails]` table decides.

    [tool.access-guardrails]
    policy = "ci/guardrails.yaml"     # relative to pyproject.toml
    dialect = "postgres"              # default --dialect of check and gate

--policy and GUARDRAILS_POLICY win over what is found here.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

POLICY_FILES = ("access-guardrails.yaml", ".access-guardrails.yaml")
_KEYS = {"policy": "a policy file, relative to pyproject.toml", "dialect": "the SQL dialect"}


class DiscoveryError(ValueError):
    """A `[tool.access-guardrails]` table that cannot be used; the message names file and key."""


@dataclass(frozen=True)
class Discovered:
    policy: Path | None = None
    dialect: str | None = None
    source: Path | None = None  # the file that said so


def discover(start: Path | None = None) -> Discovered:
    """The configuration of `start` (default: the working directory), or an empty one."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        for name in POLICY_FILES:
            if (candidate / name).is_file():
                return Discovered(policy=candidate / name, source=candidate / name)
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            found = _from_pyproject(pyproject)
            if found is not None:
                return found
    return Discovered()


def _from_pyproject(path: Path) -> Discovered | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise DiscoveryError(f"{path}: cannot read it as TOML: {error}") from None
    table = data.get("tool", {}).get("access-guardrails")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise DiscoveryError(f"{path} [tool.access-guardrails]: expected a table of settings")
    for key, value in table.items():
        if key not in _KEYS:
            known = ", ".join(f"{name} ({what})" for name, what in _KEYS.items())
            raise DiscoveryError(
                f"{path} [tool.access-guardrails].{key}: unknown key; known: {known}"
            )
        if not isinstance(value, str):
            raise DiscoveryError(f"{path} [tool.access-guardrails].{key}: expected a string")
    policy = (path.parent / table["policy"]) if "policy" in table else None
    if policy is not None and not policy.is_file():
        raise DiscoveryError(
            f"{path} [tool.access-guardrails].policy: {policy} is not a file; fix the path "
            "(it is relative to pyproject.toml)"
        )
    return Discovered(policy=policy, dialect=table.get("dialect"), source=path)


__all__ = ["POLICY_FILES", "Discovered", "DiscoveryError", "discover"]
