"""``python -m guardrails_core.audit list|show|verify|export|stats``."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main(["audit", *sys.argv[1:]]))
