"""The search page (`/search?q=...`, whole, for JavaScript off and for links), and its results as
fragments for htmx: as one types (the page's form, or the box in the page header), and each
"More results"."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from discussit.accounts import auth
from discussit.accounts.pages import page
from discussit.core.templating import templates
from discussit.core.urls import url_path
from discussit.core.web import int_param
from discussit.search import searching
from discussit.search.engines import SORTS, Cursor
from discussit.search.searching import Answer, Ask, TooManySearches


def _ask(request: Request) -> Ask:
    params = request.query_params
    before = int_param(request, "before")
    cursor = None
    if before is not None:
        cursor = Cursor(before, _score(params.get("score")))
    return Ask(
        text=params.get("q", ""),
        group=params.get("group", ""),
        sort=searching.clean_sort(params.get("sort")),
        cursor=cursor,
    )


def _score(raw: str | None) -> float | None:
    """A page key's score, as the previous page wrote it (a finite number), or None."""
    if raw is None or raw == "":
        return None
    try:
        score = float(raw)
    except ValueError:
        score = math.nan
    if not math.isfinite(score) or len(raw) > 32:
        raise HTTPException(400, "That page of results is not one this site made (score).")
    return score


async def _answer(request: Request) -> Answer:
    viewer = await auth.require_viewer(request)
    return await searching.search(
        request.state.db,
        request.state.limiter,
        request.state.settings,
        viewer,
        request,
        _ask(request),
    )


def _context(answer: Answer, panel: bool = False) -> dict[str, Any]:
    return {
        "answer": answer,
        "ask": answer.ask,
        "sorts": SORTS,
        "panel": panel,
        "page_query": page_query(answer.ask),
        "more_query": more_query(answer),
    }


def page_query(ask: Ask) -> str:
    """The query string of the first page of this search (what the address shows)."""
    values = {"q": ask.text, "group": ask.group, "sort": "" if ask.sort == "newest" else ask.sort}
    return urlencode({name: value for name, value in values.items() if value})


def more_query(answer: Answer) -> str:
    """The query string of the next page of results ("" when there is none)."""
    if answer.more is None:
        return ""
    values = {"before": str(answer.more.before)}
    if answer.more.score is not None:
        values["score"] = repr(answer.more.score)
    query = page_query(answer.ask)
    return (query + "&" if query else "") + urlencode(values)


async def search_page(request: Request) -> Response:
    try:
        answer = await _answer(request)
    except TooManySearches as refused:
        return await _too_many(request, refused, whole=True)
    return await page(request, "search/index.html", **_context(answer))


async def results(request: Request) -> Response:
    """htmx: the first page of results (as one types), or the next page ("More results")."""
    panel = request.query_params.get("panel") == "1"
    try:
        answer = await _answer(request)
    except TooManySearches as refused:
        return await _too_many(request, refused, whole=False)
    if panel and not answer.searched and not answer.notes:
        return Response("")  # nothing typed (or the box cleared): the panel closes
    more = answer.ask.cursor is not None
    template = "search/_more.html" if more else "search/_results.html"
    response = templates.TemplateResponse(request, template, _context(answer, panel))
    if not panel and not more:  # the search page's address follows its search
        response.headers["HX-Replace-Url"] = url_path("search:page") + _query(answer.ask)
    return response


def _query(ask: Ask) -> str:
    query = page_query(ask)
    return "?" + query if query else ""


async def _too_many(request: Request, refused: TooManySearches, whole: bool) -> Response:
    problem = f"You are searching too fast. Try again in {refused.retry_after} seconds."
    headers = {"Retry-After": str(refused.retry_after)}
    if whole:
        answer = Answer(_ask(request), False, notes=(problem,))
        response = await page(request, "search/index.html", status_code=429, **_context(answer))
    else:
        answer = Answer(_ask(request), False, notes=(problem,))
        more = answer.ask.cursor is not None
        template = "search/_more.html" if more else "search/_results.html"
        response = templates.TemplateResponse(request, template, _context(answer), status_code=429)
    response.headers.update(headers)
    return response


routes = [
    Route("/search", search_page, name="search:page"),
    Route("/search/results", results, name="search:results"),
]
