"""The one Jinja2 environment: every template autoescapes, whatever its name."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from starlette.templating import Jinja2Templates

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"
HTMX = "vendor/htmx-4.0.1"


def _time_label(value: datetime) -> str:
    """Server-side fallback text for a <time>; the browser rewrites it in local time."""
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,  # not select_autoescape(): a fragment with another suffix must not go raw
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["time_label"] = _time_label
environment.filters["plural"] = _plural
environment.globals["HTMX"] = HTMX
environment.globals["new_client_message_id"] = lambda: str(uuid.uuid4())

templates = Jinja2Templates(env=environment)


def render(name: str, **context: Any) -> str:
    """Render a fragment to a string (live updates, sockets, streams: no request needed)."""
    return environment.get_template(name).render(**context)


def compile_all() -> None:
    """Compile every template at start-up, not during the first request (or post) that uses it."""
    for name in environment.list_templates(extensions=["html"]):
        environment.get_template(name)
