"""The role x action matrix: every route of the app and every socket action, asked by every role
(nobody logged in, a logged-in outsider, a member, the message's author, staff, a deactivated
account's old cookie, a bot), in a public, a private and an archived group where the route names
a group; each answer is compared with what the rule says. A route added without a rule here
fails the walk.

"Granted" means the request got past the permission checks (2xx, 3xx other than to the login
page, or a 400/422 for the harmless bad input the cell sends on purpose, so that most cells
change nothing); "refused" means a login redirect, 401, 403 or 404. The figures (cells, granted,
refused, wrongly granted) go to the checklist summary."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from discussit.app import ROUTES
from tests import factories
from tests import figures as figs
from tests.bots.helpers import add_bot, api, make_bot
from tests.helpers import Browser, drain, receive_text, resume

ROLES = ("anonymous", "outsider", "member", "author", "staff", "deactivated", "bot")
VARIANTS = ("public", "private", "archived")
# Who belongs to which group (the author wrote the messages the cells act on).
MEMBERS = {
    "public": {"member", "author", "staff", "bot"},
    "private": {"author"},
    "archived": {"member", "author", "bot"},
}
LOGIN = 0  # a redirect to the login page (not counted as granted; any other 303 is)
NO_LOGIN = {"anonymous", "deactivated", "bot"}  # (a bot has no cookie: only its token)

Rule = Callable[[str, str], int]


def anyone(ok: int) -> Rule:
    return lambda role, variant: ok


def logged_in(ok: int) -> Rule:
    return lambda role, variant: LOGIN if role in NO_LOGIN else ok


def staff_only(ok: int) -> Rule:
    return lambda role, variant: LOGIN if role in NO_LOGIN else ok if role == "staff" else 403


def _outside(variant: str) -> int:
    return 404 if variant == "private" else 403  # (a private group does not exist to others)


def member(ok: int, writes: bool = False) -> Rule:
    def rule(role: str, variant: str) -> int:
        if role in NO_LOGIN:
            return LOGIN
        if role not in MEMBERS[variant]:
            return _outside(variant)
        return 403 if writes and variant == "archived" else ok

    return rule


def author(ok: int, writes: bool = False, staff_too: bool = False) -> Rule:
    def rule(role: str, variant: str) -> int:
        if role in NO_LOGIN:
            return LOGIN
        first = member(ok, writes)(role, variant)
        if first != ok:
            return first
        return ok if role == "author" or (staff_too and role == "staff") else 403

    return rule


def join(role: str, variant: str) -> int:
    if role in NO_LOGIN:
        return LOGIN
    if variant == "archived":
        return 403
    if variant == "private" and role not in MEMBERS["private"]:
        return 404
    return 303


def leave(role: str, variant: str) -> int:
    if role in NO_LOGIN:
        return LOGIN
    return 404 if variant == "private" and role not in MEMBERS["private"] else 303


def add_people(ok: int) -> Rule:
    def rule(role: str, variant: str) -> int:
        if role in NO_LOGIN:
            return LOGIN
        if role not in MEMBERS[variant] and role != "staff":
            return _outside(variant)
        return ok if variant == "private" else 403  # (private groups only; never archived)

    return rule


def bot_api(ok: int, writes: bool) -> Rule:
    def rule(role: str, variant: str) -> int:
        if role != "bot":
            return 401  # a cookie is no credential there
        if role not in MEMBERS[variant]:
            return 404 if variant == "private" else 403
        return 403 if writes and variant == "archived" else ok

    return rule


@dataclass(frozen=True)
class Cell:
    """How a route is asked: method, the path's parameters, the form (or JSON) sent, the
    rule, and whether it names a group (then asked of each variant)."""

    method: str
    rule: Rule
    data: dict[str, Any] | None = None
    query: str = ""
    grouped: bool = False
    seq: str = "target"  # which message a {seq} names: "target", or "doomed" (one per role)
    user: str = "outsider"  # whose account a {user_id} names
    bot: str = "spare"  # which bot a {bot_id} names
    json: bool = False


NEEDS: dict[str, Cell] = {
    "accounts:signup": Cell("GET", anyone(200)),
    "accounts:login": Cell("GET", anyone(200)),
    "accounts:logout": Cell("POST", anyone(303)),
    "account:show": Cell("GET", logged_in(200)),
    "account:password": Cell("POST", logged_in(400), {"current": "wrong", "new": "a", "new2": "b"}),
    "account:end_login": Cell("POST", logged_in(404)),  # (a login that is not theirs)
    "account:end_others": Cell("POST", logged_in(303)),
    "account:profile": Cell("POST", logged_in(303), {"display_name": "", "bio": ""}),
    "account:picture": Cell("POST", logged_in(400)),  # (no picture in it)
    "account:remove_picture": Cell("POST", logged_in(303)),
    "people:avatar": Cell("GET", logged_in(200), user="author"),
    "people:show": Cell("GET", logged_in(200), user="author"),
    "admin:home": Cell("GET", staff_only(303)),
    "admin:people": Cell("GET", staff_only(200)),
    "admin:staff": Cell("POST", staff_only(400), {"staff": "maybe"}),
    "admin:active": Cell("POST", staff_only(400), {"active": "maybe"}),
    "admin:audit": Cell("GET", staff_only(200)),
    "admin:groups": Cell("GET", staff_only(200)),
    "admin:group": Cell("GET", staff_only(200), grouped=True),
    "admin:remove_member": Cell("POST", staff_only(303), grouped=True),  # (the outsider)
    "admin:edit_group": Cell(
        "POST", staff_only(400), {"name": "", "description": ""}, grouped=True
    ),
    "admin:archive_group": Cell("POST", staff_only(303), {"archived": "AS_IS"}, grouped=True),
    "admin:private_group": Cell("POST", staff_only(303), {"private": "AS_IS"}, grouped=True),
    "admin:delete_group": Cell("POST", staff_only(400), {"confirm": "not its name"}, grouped=True),
    "admin:bots": Cell("GET", staff_only(200)),
    "admin:create_bot": Cell("POST", staff_only(400), {"username": "x"}),
    "admin:bot": Cell("GET", staff_only(200)),
    "admin:bot_token": Cell("POST", staff_only(200)),
    "admin:bot_revoke": Cell("POST", staff_only(303)),
    "admin:bot_webhook": Cell("POST", staff_only(400), {"url": "ftp://nowhere"}),
    "admin:bot_secret": Cell("POST", staff_only(303)),
    "admin:bot_add_group": Cell("POST", staff_only(303), {"group_id": "LOUNGE"}),
    "admin:signup": Cell("GET", staff_only(200)),
    "admin:signup_policy": Cell("POST", staff_only(303), {"policy": "open"}),
    "admin:signup_rotate": Cell("POST", staff_only(303)),
    "groups:index": Cell("GET", logged_in(200)),
    "groups:new": Cell("GET", staff_only(200)),
    "groups:create": Cell("POST", staff_only(400), {"name": ""}),
    "groups:join": Cell("POST", join, {"next": "/"}, grouped=True),
    "groups:leave": Cell("POST", leave, {"next": "/"}, grouped=True),
    "groups:read": Cell("POST", member(303), {"next": "/"}, grouped=True),
    "groups:suggest": Cell("GET", member(200), query="?q=a", grouped=True),
    "groups:notifications": Cell("POST", member(303), {"level": "all"}, grouped=True),
    "groups:add_person": Cell("POST", add_people(400), {"username": "no-such-one"}, grouped=True),
    "groups:suggest_people": Cell("GET", add_people(200), query="?username=o", grouped=True),
    "chat:show": Cell("GET", member(200), grouped=True),
    "chat:history": Cell("GET", member(200), query="?before=2", grouped=True),
    "chat:post": Cell("POST", member(303, writes=True), {"text": "a cell"}, grouped=True),
    "messages:show": Cell("GET", member(303), grouped=True),  # (to its page of history)
    "messages:edit_form": Cell("GET", author(200), grouped=True),
    "messages:edit": Cell("POST", author(303, writes=True), {"text": "edited"}, grouped=True),
    "messages:delete_form": Cell("GET", author(200, staff_too=True), grouped=True),
    "messages:delete": Cell(
        "POST", author(303, writes=True, staff_too=True), {}, grouped=True, seq="doomed"
    ),
    "messages:react": Cell("POST", member(303, writes=True), {"emoji": "👍"}, grouped=True),
    "search:page": Cell("GET", logged_in(200), query="?q=cell"),
    "search:results": Cell("GET", logged_in(200), query="?q=cell"),
    "api:post": Cell("POST", bot_api(201, writes=True), {"text": "bot"}, grouped=True, json=True),
    "api:list": Cell("GET", bot_api(200, writes=False), grouped=True, json=True),
    # (Only its refusals are asked: it streams. An event stream is told 401, not redirected.)
    "groups:stream": Cell("GET", lambda role, variant: 401 if role in NO_LOGIN else 200),
    "health": Cell("GET", anyone(200)),
    "dev:patterns": Cell("GET", staff_only(200)),
}
# (They change who belongs, and who is logged in: asked last, in this order.)
LAST = ("groups:join", "groups:leave", "accounts:logout")


@dataclass
class World:
    client: TestClient
    browsers: dict[str, Browser]
    users: dict[str, int]
    groups: dict[str, uuid.UUID]
    target: dict[str, int]  # the author's message the cells act on, per variant
    doomed: dict[tuple[str, str], int]  # (variant, role): a message of the author to delete
    bots: dict[str, tuple[int, str]]


def build(client: TestClient) -> World:
    browsers = {role: Browser(client) for role in ROLES}
    names = {
        "outsider": "dan",
        "member": "cat",
        "author": "ben",
        "staff": "ana",
        "deactivated": "eve",
    }
    for role, name in names.items():
        assert browsers[role].sign_up(name).status_code == 303
    factories.make_staff(client, "ana")
    staff = browsers["staff"]
    groups = {
        v: factories.make_group(client, name)
        for v, name in zip(VARIANTS, ("Lounge", "Vault", "Attic"), strict=True)
    }
    helper_id, token = make_bot(staff, "helper", "Helper")
    bots = {"helper": (helper_id, token), "spare": make_bot(staff, "spare", "Spare")}
    for variant, group in groups.items():
        for role in MEMBERS[variant] - {"bot"}:
            assert browsers[role].join(group).status_code == 303
        if "bot" in MEMBERS[variant]:
            add_bot(staff, helper_id, group)
    browsers["deactivated"].join(groups["public"])
    target = {
        v: factories.client_store(client, g, "ben", f"target in {v}").seq for v, g in groups.items()
    }
    doomed = {
        (v, role): factories.client_store(client, g, "ben", f"doomed {role}").seq
        for v, g in groups.items()
        for role in ROLES
    }
    staff.post(f"/admin/groups/{groups['private']}/private", {"private": "1"})
    staff.post(f"/admin/groups/{groups['archived']}/archive", {"archived": "1"})
    users = {role: factories.user(client, name).id for role, name in names.items()}
    eve = users["deactivated"]
    assert staff.post(f"/admin/people/{eve}/active", {"active": "off"}).status_code == 303
    browsers["anonymous"].csrf()  # (a visitor's form token, from the login page)
    return World(client, browsers, users, groups, target, doomed, bots)


def path_of(route: Route, cell: Cell, world: World, role: str, variant: str) -> str:
    seq = world.target[variant] if cell.seq == "target" else world.doomed[(variant, role)]
    params = {
        "group_id": world.groups[variant],
        "seq": seq,
        "user_id": world.users["author" if cell.user == "author" else "outsider"],
        "bot_id": world.bots[cell.bot][0],
        "login_id": 999_999,
    }
    path = route.path
    for name, value in params.items():
        path = path.replace("{" + name + "}", str(value)).replace("{" + name + ":int}", str(value))
    return path + cell.query


def ask(world: World, route: Route, cell: Cell, role: str, variant: str) -> int:
    path = path_of(route, cell, world, role, variant)
    as_is = {"private": "1" if variant == "private" else "0"}  # (a staff cell changes nothing)
    as_is["archived"] = "1" if variant == "archived" else "0"
    data = {
        k: str(world.groups["public"]) if v == "LOUNGE" else as_is[k] if v == "AS_IS" else v
        for k, v in (cell.data or {}).items()
    }
    if cell.json:
        token = world.bots["helper"][1] if role == "bot" else None
        if role == "bot":
            body = {"json": data} if cell.method == "POST" else {}
            return api(world.client, cell.method, path, token, **body).status_code
        browser = world.browsers[role]  # (a browser: its cookie, never a token)
        return browser.request(
            cell.method, path, json=data or None, follow_redirects=False
        ).status_code
    browser = world.browsers[role]
    if cell.method == "GET":
        response = browser.get(path, follow_redirects=False)
    else:
        response = browser.post(path, data)
    to_login = response.status_code == 303 and response.headers["location"].startswith("/login")
    if to_login and route.name != "accounts:logout":  # (logging out lands there: it is done)
        return LOGIN
    return response.status_code


def granted(status: int) -> bool:
    return status in (200, 201, 303, 400, 422)


def walk() -> list[tuple[Route, Cell]]:
    cells = []
    for route in ROUTES:
        if isinstance(route, Mount | WebSocketRoute):
            continue
        assert isinstance(route, Route)
        assert route.name in NEEDS, f"{route.name} has no rule in the access matrix"
        cells.append((route, NEEDS[route.name]))
    return sorted(cells, key=lambda rc: LAST.index(rc[0].name) + 1 if rc[0].name in LAST else 0)


def test_every_route_answers_every_role_as_its_rule_says(client, monkeypatch):
    from discussit.bots import api as bots_api

    monkeypatch.setattr(bots_api, "BAD_TOKENS", bots_api.Rate(10_000, 60))  # (one address here)
    world = build(client)
    wrong: list[tuple[object, ...]] = []
    counted = {"cells": 0, "granted": 0, "refused": 0, "wrongly_granted": 0}
    cells = walk()
    first = [rc for rc in cells if rc[0].name not in LAST]
    for route, cell in first:
        ask_all(world, route, cell, wrong, counted)
    for name, amount in socket_cells(world).items():  # (before anyone leaves or logs out)
        counted[name] += amount
    for route, cell in cells[len(first) :]:
        ask_all(world, route, cell, wrong, counted)
    assert wrong == [], "\n".join(map(str, wrong))
    assert counted["wrongly_granted"] == 0
    for name, amount in counted.items():
        figs.add("access_matrix", name, amount)


def ask_all(
    world: World, route: Route, cell: Cell, wrong: list[tuple[object, ...]], counted: dict[str, int]
) -> None:
    """Every role (in every variant of group, if the route names one) asks this route."""
    for variant in VARIANTS if cell.grouped else ("public",):
        for role in ROLES:
            expected = cell.rule(role, variant)
            if route.name == "groups:stream" and expected != 401:
                continue  # (a live stream: granted ones are the stream tests')
            got = ask(world, route, cell, role, variant)
            counted["cells"] += 1
            counted["granted" if granted(got) else "refused"] += 1
            if got != expected:
                wrong.append((route.name, variant, role, expected, got))
                if granted(got) and not granted(expected):
                    counted["wrongly_granted"] += 1


def socket_cells(world: World) -> dict[str, int]:
    """The group socket: who may open it (members, of a group not archived), and what a member
    may do there (edit and delete: the author; delete: staff too)."""
    cells = refused = 0
    for variant, group in world.groups.items():
        for role in ROLES:
            if role == "bot":
                continue  # (no cookie: the same as nobody)
            allowed = role in MEMBERS[variant] and variant != "archived" and role != "deactivated"
            browser = world.browsers[role]
            with browser.socket(group) as ws:
                if allowed:
                    resume(ws, 0)
                    receive_text(ws)
                else:
                    with pytest.raises(WebSocketDisconnect):
                        receive_text(ws)
                    refused += 1
            cells += 1
    lounge = world.groups["public"]
    for role, may_edit, may_delete in [
        ("member", False, False),
        ("staff", False, True),
        ("author", True, True),
    ]:
        seq = world.doomed[("public", "outsider")]  # (a message nobody deleted in the walk)
        with world.browsers[role].socket(lounge) as ws:
            resume(ws, 0)
            drain(ws, quiet=0.2)  # (the catch-up)
            ws.send_json({"type": "edit", "seq": seq, "text": f"edited by {role}"})
            answer = _until_status_or_entry(ws, f"edited by {role}")
            assert answer == ("entry" if may_edit else "refused"), (role, "edit")
            cells += 1
            refused += answer == "refused"
        if not may_delete:
            with world.browsers[role].socket(lounge) as ws:
                resume(ws, 0)
                drain(ws, quiet=0.2)
                ws.send_json({"type": "delete", "seq": seq})
                deleted = f'id="entry-{seq}" class="message message--deleted'
                assert _until_status_or_entry(ws, deleted) == "refused", (role, "delete")
                cells += 1
                refused += 1
    return {"cells": cells, "refused": refused, "granted": cells - refused}


def _until_status_or_entry(ws: Any, wanted: str) -> str:
    while True:
        frame = receive_text(ws, timeout=3)
        if wanted in frame:
            return "entry"
        if "composer__status" in frame or "Only its author" in frame:
            return "refused"
