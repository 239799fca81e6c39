"""Paths from route names, for Python and templates alike (no hand-written `/groups/...`).

`use_routes` is called once by `create_app` with the app's routes; `url_path` then works
anywhere, including fragments rendered outside a request (live updates)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from starlette.routing import BaseRoute, Router

_router = Router()


def use_routes(routes: Sequence[BaseRoute]) -> None:
    _router.routes = list(routes)
    _path.cache_clear()


def url_path(name: str, /, **params: Any) -> str:
    """The path of route `name` (e.g. "groups:show", group_id=...)."""
    return _path(name, *((key, str(value)) for key, value in params.items()))


@lru_cache(maxsize=8192)
def _path(name: str, /, *params: tuple[str, str]) -> str:
    """Remembered: Starlette tries each route in turn for the name (a few microseconds per
    route), and the same paths (a member's picture, a group's page) go into every message and
    page rendered."""
    return str(_router.url_path_for(name, **dict(params)))
