"""YAML read as data, with libyaml when PyYAML was built with it.

The analyser's registries, the baseline and the policy are read in every fresh worker process;
the pure-Python reader took ~0.4 s of a task's first decision (benchmarks/worker_cost.py).
"""

from __future__ import annotations

from typing import Any

import yaml

SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """`yaml.safe_load`, faster: the same safe subset of YAML."""
    return yaml.load(text, Loader=SAFE_LOADER)
