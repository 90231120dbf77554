"""Fresh-venv installs take minutes each: they run in CI (CI=true) or when asked for with
`-m packaging`, not in every local run of the suite."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("CI") or "packaging" in (config.getoption("markexpr") or ""):
        return
    later = pytest.mark.skip(reason="fresh-venv installs: run in CI, or locally with -m packaging")
    for item in items:
        if item.get_closest_marker("packaging") is not None:
            item.add_marker(later)
