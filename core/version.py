"""Version strings recorded in every decision."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    PACKAGE_VERSION = version("access-guardrails")
except PackageNotFoundError:  # running from a source tree that is not installed
    PACKAGE_VERSION = "0.0.0+source"

# The analyzer's verdicts depend on the parser too, so both versions are recorded.
ANALYZER_VERSION = f"{PACKAGE_VERSION}+sqlglot{version('sqlglot')}"
