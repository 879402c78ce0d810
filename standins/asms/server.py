"""HTTP face of the ASMS sandbox: a WSGI app with the connector's routes and the control API.

Routes map to thin handlers named after the definition's operationIds; the :class:`Backend`
does the work. Served by a threaded stdlib server, so no dependency is needed.
"""

from __future__ import annotations

from collections.abc import Callable

from standins.core import app as core
from standins.core.app import JSON, NO_BODY, OPTIONAL, StandinApp
from standins.core.errors import object_or_empty as _obj

from . import catalogue
from .backend import Backend, bad

API_PREFIX = "/asmsadapter/api/asms"
# A 5 MB file is about 6.7 MB in base64; bodies beyond this are refused without reading.
MAX_BODY_BYTES = 64 * 1024 * 1024

Handler = Callable[[Backend, str, dict, dict, object, dict], tuple[int, object]]


# -- operations (named after the operationIds of apiDefinition.swagger.json) -------------------


def TestConnection(b, token, p, q, body, headers):
    return 200, b.test_connection(token)


def CreateCase(b, token, p, q, body, headers):
    return 200, b.create_case(token, body)


def GetCase(b, token, p, q, body, headers):
    return 200, b.get_case(token, p["ticketId"])


def UpdateCase(b, token, p, q, body, headers):
    return 200, b.update_case(token, p["ticketId"], body)


def AttachNote(b, token, p, q, body, headers):
    return 200, b.attach_note(token, p["ticketId"], q.get("message"))


def AttachFile(b, token, p, q, body, headers):
    b.attach_file(token, headers.get("HTTP_TICKETID"), body)
    return 200, None


def SearchTickets(b, token, p, q, body, headers):
    return 200, b.search(token, body)


# (method, path under the base path, handler, body: JSON required, OPTIONAL or NO_BODY).
# Literal paths come first: /case/list is not a ticketId.
API_ROUTES: list[tuple[str, str, Handler, str | None]] = [
    ("GET", "/connection", TestConnection, NO_BODY),
    ("POST", "/case", CreateCase, JSON),
    ("POST", "/case/list", SearchTickets, OPTIONAL),
    ("GET", "/case/{ticketId}", GetCase, NO_BODY),
    ("PUT", "/case/{ticketId}", UpdateCase, OPTIONAL),
    ("POST", "/case/{ticketId}/note", AttachNote, NO_BODY),
    ("POST", "/attachment/file", AttachFile, JSON),
]


# -- control API (not ASMS): the world around the service --------------------------------------


def _token_of(q: dict, body: dict) -> str:
    token = q.get("token") or body.get("token")
    if not isinstance(token, str) or not token:
        raise bad("token is required")
    return token


def control_tenants(b, q, body, p, headers):
    return 200, b.new_tenant(_obj(body).get("seed", "empty"))


def control_catalogue(b, q, body, p, headers):
    b.tenant(headers.get("HTTP_TOKENASMS"))  # the app asks with its own token
    return 200, catalogue.as_json()


def control_cases(b, q, body, p, headers):
    return 200, b.sandbox_cases(_token_of(q, {}))


def control_move(b, q, body, p, headers):
    body = _obj(body)
    return 200, b.move_case(_token_of(q, body), p["ticketId"], body)


def control_note(b, q, body, p, headers):
    body = _obj(body)
    return 200, b.technician_note(_token_of(q, body), p["ticketId"], body)


def control_set_faults(b, q, body, p, headers):
    return 200, b.set_faults(_obj(body))


def control_clear_faults(b, q, body, p, headers):
    return 200, b.clear_faults(q.get("token") or _obj(body).get("token"))


def control_config(b, q, body, p, headers):
    return 200, b.configure(_obj(body))


def control_counters(b, q, body, p, headers):
    return 200, b.counters(_token_of(q, {}))


def control_reset(b, q, body, p, headers):
    b.reset()
    return 200, {"reset": True}


CONTROL_ROUTES = [
    ("POST", "/tenants", control_tenants),
    ("GET", "/catalogue", control_catalogue),
    ("GET", "/cases", control_cases),
    ("POST", "/cases/{ticketId}/state", control_move),
    ("POST", "/cases/{ticketId}/notes", control_note),
    ("PUT", "/faults", control_set_faults),
    ("DELETE", "/faults", control_clear_faults),
    ("PUT", "/config", control_config),
    ("GET", "/counters", control_counters),
    ("POST", "/reset", control_reset),
]


# -- the app ---------------------------------------------------------------------------------


class AsmsApp(StandinApp):
    """The connector's API and the control API over one :class:`Backend`."""

    api_prefix = API_PREFIX
    credential_header = "HTTP_TOKENASMS"
    api_routes = API_ROUTES
    control_routes = CONTROL_ROUTES
    max_body_bytes = MAX_BODY_BYTES


def make_app(backend: Backend) -> AsmsApp:
    """The WSGI application serving ``backend``."""
    return AsmsApp(backend)


def make_server(backend: Backend, host: str = "127.0.0.1", port: int = 8002, verbose=False):
    """A ready-to-serve threaded HTTP server for ``backend`` (port 0 picks a free port)."""
    return core.make_server(AsmsApp(backend), host, port, verbose)
