"""axe-core in the browser tests: the vendored axe-core (tests/browser/vendor, with its sum) run
on the page as it is, under the app's own CSP (it is evaluated through the DevTools protocol,
which the page's script-src does not govern), against WCAG 2.2 AA and axe's best practices."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

VERSION = "4.14.1"
SOURCE = (Path(__file__).parent / f"vendor/axe-core-{VERSION}/axe.min.js").read_text()
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
OPTIONS = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}
AUDITED: list[str] = []  # "<page and state> (<mode>)", for the figures


def violations(page: Page) -> list[dict[str, Any]]:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(SOURCE)
    result = page.evaluate("options => axe.run(document, options)", OPTIONS)
    return list(result["violations"])


def describe(found: list[dict[str, Any]]) -> str:
    lines = []
    for violation in found:
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:4]]
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return "\n".join(lines)


def audit(page: Page, where: str) -> None:
    """Zero violations on the page as it is now; `where` names the page and state."""
    mode = page.evaluate("() => matchMedia('(prefers-color-scheme: dark)').matches")
    found = violations(page)
    AUDITED.append(f"{where} ({'dark' if mode else 'light'})")
    assert found == [], f"{where}:\n{describe(found)}"
