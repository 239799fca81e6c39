"""The one Jinja2 environment: every template autoescapes, whatever its name.

Templates come from TEMPLATES_DIR (an operator's overrides, when set) before the built-in
`templates/`. Filters and globals every template can use: `dom_id`, `time_label`, `plural`,
`url_for` (a path from a route name), `limits` (discussit/limits.py), `HTMX` (vendored path),
`SOCKET_PAGE` (how a group page takes its socket's frames).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape
from starlette.templating import Jinja2Templates

from discussit import limits
from discussit.core.urls import url_path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"
HTMX = "vendor/htmx-4.0.1"
# How a group page takes what its socket sends (templates/groups/show.html, live/*.html): bump
# it when that changes. A page says it in its resume frame; one rendered before the change (open
# across a deploy, or a TEMPLATES_DIR copy of an older groups/show.html) is told to reload.
# 2: a frame's main content is new lines, appended to #timeline (1: everything out of band).
SOCKET_PAGE = "2"


def dom_id(kind: str, *keys: object) -> str:
    """The element id of a thing, `kind-key`: dom_id("entry", 42) == "entry-42". Python,
    templates ({{ "entry"|dom_id(entry.seq) }}) and tests build ids only this way."""
    return "-".join((kind, *(str(key) for key in keys)))


def _time_label(value: datetime) -> str:
    """Server-side fallback text for a <time>; the browser rewrites it in local time."""
    return value.isoformat(sep=" ", timespec="minutes")[:16] + " UTC"


def _iso_time(value: datetime) -> str:
    """A <time>'s machine-readable value, to the second (UTC). Both are written from isoformat:
    strftime gives the same text and cost about 25 µs a call on a busy server, where this runs
    once for every message sent."""
    return value.isoformat(timespec="seconds")[:19] + "Z"


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


def _message_html(entry: Any) -> Markup:
    """A message entry's body as HTML: `{{ entry|message_html }}`. The one place user text
    becomes markup: `body_html` is what timeline/formatting.py made of the text (raw HTML
    escaped, links checked), never the text itself. It takes the entry, not a string, so that
    it cannot be put on anything else."""
    return Markup(entry.body_html)


_MARKED = re.compile("\x02([^\x02\x03]*)\x03")
_MARKS = re.compile("[\x02\x03]")


def _snippet_html(hit: Any) -> Markup:
    """A search result's snippet as HTML: `{{ hit|snippet_html }}`. The text is escaped first;
    then each match the engine marked (between \\x02 and \\x03, characters no message can
    hold) becomes <mark>, and any stray mark is dropped. Like message_html, it takes the hit,
    not a string."""
    escaped = str(escape(hit.snippet))
    return Markup(_MARKS.sub("", _MARKED.sub(r"<mark>\1</mark>", escaped)))


def new_client_message_id() -> str:
    """The first id a rendered composer sends with; the page counts on from it (discussit.js)
    without any secure-context-only API, so each send has its own id on plain HTTP too."""
    return uuid.uuid4().hex


def _loader(overrides: Path | None) -> jinja2.BaseLoader:
    folders = [TEMPLATES_DIR] if overrides is None else [overrides, TEMPLATES_DIR]
    return jinja2.FileSystemLoader(folders)


environment = jinja2.Environment(
    loader=_loader(None),
    autoescape=True,  # not select_autoescape(): a fragment with another suffix must not go raw
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # use_overrides(reload=True): a file's time checked at every render
    # Every template is kept once compiled (a plain dict): Jinja's default, a least-recently-
    # used cache of 400, searched a list of every template kept at each lookup, three lookups
    # for every message rendered (a fragment and the two it includes).
    cache_size=-1,
)
environment.filters["dom_id"] = dom_id
environment.filters["time_label"] = _time_label
environment.filters["plural"] = _plural
environment.filters["iso_time"] = _iso_time
environment.filters["message_html"] = _message_html
environment.filters["snippet_html"] = _snippet_html
environment.globals["HTMX"] = HTMX
environment.globals["SOCKET_PAGE"] = SOCKET_PAGE
environment.globals["limits"] = limits
environment.globals["url_for"] = url_path  # before Jinja2Templates, which only sets a default
environment.globals["new_client_message_id"] = new_client_message_id

templates = Jinja2Templates(env=environment)


_in_use: tuple[Path | None, bool] = (None, False)  # the environment's folder and reload


def use_overrides(folder: Path | None, reload: bool = False) -> None:
    """Search `folder` (TEMPLATES_DIR) before the built-in templates; None: built-ins only.
    `reload` (TEMPLATES_RELOAD): re-read a template whose file changed. The same folder and
    reload as now change nothing: what is compiled stays (an app made again, as every test
    makes one, compiles no template twice)."""
    global _in_use
    if (folder, reload) == _in_use:
        return
    environment.loader = _loader(folder)
    environment.auto_reload = reload
    if environment.cache is not None:
        environment.cache.clear()
    _in_use = (folder, reload)


def render(name: str, **context: Any) -> str:
    """Render a fragment to a string (live updates, sockets, streams: no request needed)."""
    return environment.get_template(name).render(**context)


def compile_all() -> None:
    """Compile every template at start-up, not during the first request (or post) that uses it."""
    for name in environment.list_templates(extensions=["html"]):
        environment.get_template(name)
