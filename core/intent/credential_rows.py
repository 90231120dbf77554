"""The credential tables of rules/programs.yaml (``credentials:``), read into Registry fields:
who reads a credential from stdin, which options carry one in argv, trace or keep one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from guardrails_core.intent.program_loader import _when
from guardrails_core.intent.programs import When


@dataclass(frozen=True, slots=True)
class ArgvCredential:
    """Options whose value is a credential given on the command line (credentials.argv)."""

    attached: tuple[str, ...] = ()  # -pSECRET, --password=SECRET
    valued: tuple[str, ...] = ()  # -p SECRET, --password SECRET, --password=SECRET
    after: str = ""  # the credential follows this in the value (curl -u user:PASS)
    words: tuple[str, ...] = ()  # all among the arguments (docker login, not docker run -p)
    literal: bool = False  # only a value written out, no $ (curl -u "user:$PW" is a use)

    def given(self, args: Sequence[str]) -> str | None:
        """The option that carries one, if any."""
        if not set(self.words) <= set(args):
            return None
        for index, arg in enumerate(args):
            for option in self.valued:
                if arg == option and index + 1 < len(args):
                    value = args[index + 1]
                else:
                    value = arg.removeprefix(option + "=") if arg.startswith(option + "=") else ""
                if self._holds(value):
                    return option
            for option in self.attached:
                if arg.startswith(option) and self._holds(arg[len(option) :]):
                    return option
        return None

    def _holds(self, value: str) -> bool:
        if self.after:
            value = value.partition(self.after)[2]
        if self.literal and "$" in value:
            return False
        return bool(value) and not value.startswith("-")


def _credential_readers(rows: Sequence[dict[str, Any]]) -> dict[str, tuple[When, ...]]:
    readers: dict[str, tuple[When, ...]] = {}
    for row in rows:
        for name in row["names"]:
            readers[name] = (*readers.get(name, ()), _when(row.get("when")))
    return readers


def _argv_credentials(rows: Sequence[dict[str, Any]]) -> dict[str, tuple[ArgvCredential, ...]]:
    table: dict[str, tuple[ArgvCredential, ...]] = {}
    for row in rows:
        options = ArgvCredential(
            tuple(row.get("attached") or ()),
            tuple(row.get("valued") or ()),
            row.get("after", ""),
            tuple(row.get("words") or ()),
            bool(row.get("literal", False)),
        )
        for name in row["names"]:
            table[name] = (*table.get(name, ()), options)
    return table


def _credential_traces(rows: Sequence[dict[str, Any]]) -> dict[str, tuple[tuple[When, When], ...]]:
    table: dict[str, tuple[tuple[When, When], ...]] = {}
    for row in rows:
        pair = (_when(row.get("when")), When(options=tuple(row["sends"])))
        for name in row["names"]:
            table[name] = (*table.get(name, ()), pair)
    return table


def _kept_options(
    rows: Sequence[dict[str, Any]],
) -> dict[str, tuple[tuple[When, tuple[str, ...], str], ...]]:
    table: dict[str, tuple[tuple[When, tuple[str, ...], str], ...]] = {}
    for row in rows:
        kept = (_when(row.get("when")), tuple(row["options"]), str(row["kept"]))
        for name in row["names"]:
            table[name] = (*table.get(name, ()), kept)
    return table
