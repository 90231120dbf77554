"""Write README.md's Python samples to a folder as modules, for `make typecheck` to check them
with mypy --strict as a user's type checker would see them (tests/test_readme.py runs them)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_readme import _blocks  # noqa: E402 - the repository root is on the path now


def main(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for line, source in _blocks("python"):
        (folder / f"readme_line_{line}.py").write_text(source, encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
