"""HTTP face of the ASMS sandbox: a WSGI app with the connector's routes and the control API.

Routes map to thin handlers named after the definition's operationIds; the :class:`Backend`
does the work. Served by a threaded stdlib server, so no dependency is needed.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback
from collections.abc import Callable
from socketserver import ThreadingMixIn
from urllib.parse import parse_qsl, unquote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from . import catalogue
from .backend import Backend, SandboxError, bad

API_PREFIX = "/asmsadapter/api/asms"
CONTROL_PREFIX = "/_sandbox"
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


# (method, path under the base path, handler, body: "json" required / "optional" / None).
# Literal paths come first: /case/list is not a ticketId.
API_ROUTES: list[tuple[str, str, Handler, str | None]] = [
    ("GET", "/connection", TestConnection, None),
    ("POST", "/case", CreateCase, "json"),
    ("POST", "/case/list", SearchTickets, "optional"),
    ("GET", "/case/{ticketId}", GetCase, None),
    ("PUT", "/case/{ticketId}", UpdateCase, "optional"),
    ("POST", "/case/{ticketId}/note", AttachNote, None),
    ("POST", "/attachment/file", AttachFile, "json"),
]


# -- control API (not ASMS): the world around the service --------------------------------------


def _obj(body) -> dict:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise bad("The request body must be a JSON object")
    return body


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


# -- WSGI plumbing ----------------------------------------------------------------------------


def _match(routes, segments: list[str]) -> dict[str, tuple]:
    """{method: (route, path params)} of the routes matching ``segments``."""
    found: dict[str, tuple] = {}
    for route in routes:
        pattern = route[1].strip("/").split("/")
        if len(pattern) != len(segments):
            continue
        params = {}
        for want, got in zip(pattern, segments, strict=True):
            if want.startswith("{"):
                params[want[1:-1]] = got
            elif want != got:
                break
        else:
            found.setdefault(route[0], (route, params))
    return found


def _read_body(environ) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise bad("Invalid Content-Length") from None
    if length > MAX_BODY_BYTES:
        raise SandboxError(413, "Request body too large")
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _json_body(raw: bytes, required: bool):
    if not raw.strip():
        if required:
            raise bad("A JSON body is required")
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise bad("The request body must be UTF-8 encoded JSON") from None
    except (ValueError, RecursionError) as exc:
        raise bad(f"The request body is not valid JSON: {exc}") from None


def _query(environ) -> dict:
    raw = environ.get("QUERY_STRING", "")
    raw = raw.encode("latin-1", "replace").decode("utf-8", "replace")
    return dict(parse_qsl(raw, keep_blank_values=True))


def _route(routes, method: str, segments: list[str], path: str):
    found = _match(routes, segments)
    if not found:
        raise SandboxError(404, f"No such endpoint: {path}")
    if method not in found:
        allow = {"Allow": ", ".join(found)}
        raise SandboxError(405, f"Method {method} not allowed on {path}", allow)
    return found[method]


def make_app(backend: Backend):
    """The WSGI application serving ``backend``."""

    def respond(start_response, status: int, payload=None, headers=None):
        hdrs = list((headers or {}).items())
        data = b"" if payload is None else json.dumps(payload).encode()
        if payload is not None:
            hdrs.append(("Content-Type", "application/json; charset=utf-8"))
        hdrs.append(("Content-Length", str(len(data))))
        start_response(f"{status} {_REASONS.get(status, 'OK')}", hdrs)
        return [data]

    def app(environ, start_response):
        raw_path = environ.get("PATH_INFO", "")
        segments = [unquote(s, errors="replace") for s in raw_path.strip("/").split("/")]
        path = "/" + "/".join(segments)
        method = environ.get("REQUEST_METHOD", "GET").upper()
        try:
            if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
                route, params = _route(CONTROL_ROUTES, method, segments[1:], path)
                body = _json_body(_read_body(environ), required=False)
                status, payload = route[2](backend, _query(environ), body, params, environ)
                return respond(start_response, status, payload)
            base = API_PREFIX.strip("/").split("/")
            if segments[: len(base)] != base:
                raise SandboxError(404, f"Not found: {path}")
            route, params = _route(API_ROUTES, method, segments[len(base) :], path)
            handler, body_kind = route[2], route[3]
            token = environ.get("HTTP_TOKENASMS")
            plan = backend.admit(token, handler.__name__)
            if plan["latency"]:
                time.sleep(plan["latency"])
            try:
                body = None
                if body_kind:
                    body = _json_body(_read_body(environ), required=body_kind == "json")
                status, payload = handler(backend, token, params, _query(environ), body, environ)
                result = (status, payload, None)
            except SandboxError as exc:
                result = (exc.status, {"message": exc.message}, exc.headers)
            if plan["error"]:
                result = (plan["error"], {"message": "Internal server error (sandbox fault)"}, None)
            if plan["timeout"]:
                time.sleep(plan["timeout"])  # processed, but the answer comes too late
            return respond(start_response, *result)
        except SandboxError as exc:
            return respond(start_response, exc.status, {"message": exc.message}, exc.headers)
        except Exception as exc:  # noqa: BLE001 - a bug must still answer JSON
            traceback.print_exc(file=sys.stderr)
            return respond(start_response, 500, {"message": f"Sandbox bug: {exc!r}"})

    return app


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class _Handler(WSGIRequestHandler):
    verbose = False

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        if self.verbose:
            super().log_message(format, *args)


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def server_bind(self):
        # HTTPServer.server_bind does a reverse DNS lookup that can hang without DNS.
        from socketserver import TCPServer

        TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]
        self.setup_environ()

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return  # the client gave up (e.g. a timeout fault)
        super().handle_error(request, client_address)


def make_server(backend: Backend, host: str = "127.0.0.1", port: int = 8002, verbose=False):
    """A ready-to-serve threaded HTTP server for ``backend`` (port 0 picks a free port)."""
    handler = type("Handler", (_Handler,), {"verbose": verbose})
    server = _Server((host, port), handler)
    server.set_app(make_app(backend))
    return server


def serve_in_thread(backend: Backend, host: str = "127.0.0.1", port: int = 0):
    """Start a server on a daemon thread; answer (server, thread)."""
    server = make_server(backend, host, port)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="asms-sandbox-http",
        daemon=True,
    )
    thread.start()
    return server, thread
