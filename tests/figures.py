"""The figures the checklist asks for (section 4), gathered by the tests of one run and written
to test-artifacts/checklist-summary-<backend>.json at the end (and printed)."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

FIGURES: defaultdict[str, dict[str, object]] = defaultdict(dict)
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def add(section: str, name: str, amount: int = 1) -> None:
    """Add to a counter in a section (e.g. bad inputs tried)."""
    FIGURES[section][name] = int(FIGURES[section].get(name, 0)) + amount  # type: ignore[arg-type]


def backend() -> str:
    return "postgres_redis" if os.environ.get("TEST_DATABASE_URL") else "sqlite_memory"


def write() -> Path | None:
    if not FIGURES:
        return None
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"checklist-summary-{backend()}.json"
    path.write_text(json.dumps({"backend": backend(), **FIGURES}, indent=2, sort_keys=True))
    return path
