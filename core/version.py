"""Version strings recorded in every decision."""

from __future__ import annotations

import os
import sys


def _installed_version(name: str) -> str | None:
    """The version of distribution `name` from its `NAME-VERSION.dist-info` folder on sys.path.

    importlib.metadata takes ~80 ms to import (email, zipfile, csv): too slow for `--version`
    and for every CLI start. Installers name the folder after the normalised name and version.
    """
    prefix = name.replace("-", "_").lower() + "-"
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for found in names:
            if found.lower().startswith(prefix) and found.endswith(".dist-info"):
                return found[len(prefix) : -len(".dist-info")]
    return None


def _version(name: str) -> str | None:
    found = _installed_version(name)
    if found is not None:
        return found
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


# Running from a source tree that is not installed: 0.0.0+source.
PACKAGE_VERSION = _version("access-guardrails") or "0.0.0+source"

# The analyzer's verdicts depend on the parser too, so both versions are recorded.
ANALYZER_VERSION = f"{PACKAGE_VERSION}+sqlglot{_version('sqlglot')}"
