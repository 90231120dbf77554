"""Client password files (`~/.pgpass`, `~/.netrc`, `~/.my.cnf`, `~/.aws/credentials`): a
password written there for a server named for production is a credential handed to every
later command that connects there (rules/connection_settings.yaml password_files)."""

from __future__ import annotations

import fnmatch
import functools
import re
from pathlib import Path
from typing import Any

from guardrails_core.intent import shell_registry
from guardrails_core.intent.programs import home_form
from guardrails_core.intent.shell.words import _Effect, _Word
from guardrails_core.intent.this_machine import is_this_machine
from guardrails_core.model import Intent
from guardrails_core.yaml_data import load_yaml

_RULES = Path(__file__).parent.parent / "rules" / "connection_settings.yaml"


@functools.cache
def connection_settings() -> dict[str, Any]:
    """rules/connection_settings.yaml, read once: connection keys and files, and password files."""
    return dict(load_yaml(_RULES.read_text(encoding="utf-8")))


def _format(target: _Word) -> str | None:
    path = target.display.strip("\"'") if target.dynamic else home_form(target.value)
    for form, globs in connection_settings()["password_files"].items():
        if any(fnmatch.fnmatchcase(path, str(glob)) for glob in globs):
            return str(form)
    return None


def password_stored(effect: _Effect, target: _Word, text: str, how: str) -> None:
    """TEXT written into a client password file stores a password for a production server."""
    form = _format(target)
    if form is None:
        return
    production = shell_registry.environment("production")
    for host in _hosts_with_password(form, text):
        host = host.strip().lower()
        if not host or "$" in host or "*" in host or is_this_machine(host):
            continue
        if set(re.split(r"[^a-z0-9]+", host)) & production:
            named = f"{host} (named for production)"
            stored = f"{how} stores a password for {named} in {target.display}"
            effect.add(Intent.PRIVILEGE, f"{stored}: later commands connect there without one")
            effect.add(Intent.UNKNOWN, f"{stored}: a person decides whether that is meant")


def _hosts_with_password(form: str, text: str) -> list[str]:
    if form == "pgpass":
        fields = [re.split(r"(?<!\\):", line) for line in text.splitlines()]
        return [f[0] for f in fields if len(f) >= 5 and f[4] and not f[0].startswith("#")]
    if form == "netrc":
        words = text.split()
        hosts, host = [], ""
        for word, value in zip(words, [*words[1:], ""], strict=True):
            if word == "machine":
                host = value
            elif word == "password" and value and host:
                hosts.append(host)
        return hosts
    return _ini_hosts(text)


def _ini_hosts(text: str) -> list[str]:
    keys = {str(key) for key in connection_settings()["password_keys"]}
    hosts: list[str] = []
    for section in re.split(r"(?m)^\s*\[", text):
        name, _, body = section.partition("]")
        settings = dict(re.findall(r"(?m)^\s*([\w-]+)\s*=\s*[\"']?([^\s\"']*)", body))
        if any(key.lower().replace("-", "_") in keys and value for key, value in settings.items()):
            hosts.append(settings.get("host") or name.removeprefix("profile "))
    return hosts
