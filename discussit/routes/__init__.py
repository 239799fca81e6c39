"""All routes, assembled in one list."""

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from discussit.routes import accounts, group_socket, groups, health, messages, updates
from discussit.templating import STATIC_DIR

routes = [
    *accounts.routes,
    *groups.routes,
    *messages.routes,
    *group_socket.routes,
    *updates.routes,
    *health.routes,
    Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
]
