"""Making bots as staff do (through the staff area's forms), and calling the API as a bot."""

from __future__ import annotations

import uuid
from typing import Any

import httpx2 as httpx

from tests.helpers import Browser, html


def make_bot(staff: Browser, username: str = "helper", name: str = "Helper") -> tuple[int, str]:
    """A new bot: (its id, its token, as the page shows it once)."""
    made = staff.post("/admin/bots", {"username": username, "name": name})
    assert made.status_code == 201, made.text
    page = html(made)
    token = page.css_first("#bot-token").attributes["value"] or ""
    action = page.css_first("form[action$='/token']").attributes["action"] or ""
    return int(action.split("/")[3]), token


def add_bot(staff: Browser, bot_id: int, group_id: uuid.UUID) -> None:
    added = staff.post(f"/admin/bots/{bot_id}/groups", {"group_id": str(group_id)})
    assert added.status_code == 303, added.text


def api(client: Any, method: str, path: str, token: str | None, **kwargs: Any) -> httpx.Response:
    """A request with no cookies at all, as a bot's own program sends it."""
    headers = dict(kwargs.pop("headers", {}))
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    client.cookies = httpx.Cookies()
    return client.request(method, path, headers=headers, **kwargs)
