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


def write_worker(worker: str) -> None:
    """A pytest-xdist worker's figures, for the run's controller to gather (`write`)."""
    if FIGURES:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"checklist-summary-{backend()}.{worker}.json").write_text(
            json.dumps(FIGURES, sort_keys=True)
        )


def _merge(into: dict[str, object], more: dict[str, object]) -> None:
    """Counters add up, lists go on, sections merge; anything else: the later one."""
    for name, value in more.items():
        known = into.get(name)
        if isinstance(known, dict) and isinstance(value, dict):
            _merge(known, value)
        elif (
            isinstance(known, int) and isinstance(value, int) and not isinstance(value, bool)
        ) or (isinstance(known, list) and isinstance(value, list)):
            into[name] = known + value
        else:
            into[name] = value


def write() -> Path | None:
    """This run's figures (its workers' too, if it had any), added to those of the earlier
    runs of the same `make check` or `make test` (which starts by removing the files)."""
    for part in sorted(ARTIFACTS.glob(f"checklist-summary-{backend()}.gw*.json")):
        _merge(FIGURES, json.loads(part.read_text()))  # type: ignore[arg-type]
        part.unlink()
    if not FIGURES:
        return None
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"checklist-summary-{backend()}.json"
    gathered: dict[str, object] = json.loads(path.read_text()) if path.exists() else {}
    _merge(gathered, {"backend": backend(), **FIGURES})
    path.write_text(json.dumps(gathered, indent=2, sort_keys=True))
    return path
