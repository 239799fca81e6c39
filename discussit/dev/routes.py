"""/dev/patterns: every fragment of templates/ rendered with its samples (dev/samples.py), each
state under its name, in the app's own layout and stylesheets: what a designer changes, seen at
once. For staff (or anyone while DEBUG is on)."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from discussit.accounts.pages import page
from discussit.core.security.csrf import csrf_token
from discussit.core.templating import render
from discussit.dev.samples import samples
from discussit.groups import access
from discussit.settings import Settings


@dataclass(frozen=True, slots=True)
class Shown:
    fragment: str
    state: str
    html: Markup  # the fragment as rendered by the app's own templates (which escape text)


def shown(token: str) -> list[Shown]:
    return [
        Shown(name, state, Markup(render(name, **context)))
        for name, states in sorted(samples(token).items())
        for state, context in states
    ]


async def patterns(request: Request) -> Response:
    settings: Settings = request.state.settings
    if not settings.debug:
        await access.require_staff(request, "see the pattern page")
    return await page(request, "dev/patterns.html", shown=shown(csrf_token(request)))


routes = [Route("/dev/patterns", patterns, name="dev:patterns")]
