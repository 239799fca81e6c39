"""Paths from route names, for Python and templates alike (no hand-written `/groups/...`).

`use_routes` is called once by `create_app` with the app's routes; `url_path` then works
anywhere, including fragments rendered outside a request (live updates)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Router

_router = Router()


def use_routes(routes: Sequence[BaseRoute]) -> None:
    _router.routes = list(routes)


def url_path(name: str, /, **params: Any) -> str:
    """The path of route `name` (e.g. "groups:show", group_id=...)."""
    return str(_router.url_path_for(name, **{k: str(v) for k, v in params.items()}))
