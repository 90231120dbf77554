"""Fresh-venv installs take minutes each. CI (CI=true) runs the environments the issue names:
the core alone on the oldest and newest Python, the oldest supported Airflow alone and the newest
Prefect alone. `-m packaging` runs every environment (each Python, both ends of each range); a
plain local run of the suite skips them all."""

from __future__ import annotations

import os

import pytest

# Test ids (parametrize ids) CI runs; `-m packaging` runs all.
IN_CI = frozenset(
    {
        "test_the_core_alone_installs_and_judges_the_demo_night[3.11]",
        "test_the_core_alone_installs_and_judges_the_demo_night[3.13]",
        "test_airflow_alone_runs_the_example_dags_and_lists_the_provider[oldest]",
        "test_prefect_alone_runs_the_example_flows[newest]",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    asked = "packaging" in (config.getoption("markexpr") or "")
    in_ci = bool(os.environ.get("CI"))
    for item in items:
        if item.get_closest_marker("packaging") is None or asked:
            continue
        if not in_ci:
            item.add_marker(
                pytest.mark.skip(reason="fresh-venv installs: run in CI, or with -m packaging")
            )
        elif item.name not in IN_CI:
            item.add_marker(
                pytest.mark.skip(reason="CI runs one install per range end; -m packaging runs all")
            )
