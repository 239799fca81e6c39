"""Small helpers for checklist tests that run real servers."""

import re

from tests.servers import Server


def make_group(server: Server, name: str) -> str:
    out = server.command("create-group", name)
    return re.search(r"\(([0-9a-f-]{36})\)", out).group(1)  # type: ignore[union-attr]
