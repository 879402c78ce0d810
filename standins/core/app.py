"""The WSGI app every stand-in serves: routing, bodies, faults, errors, the control API.

A service subclasses :class:`StandinApp` with its ``api_prefix``, its ``api_routes`` (thin
handlers named after the real operationIds, each calling the backend), its ``control_routes``
(the world around the service, under ``/_sandbox/``), the header that carries a caller's
credential and the shape of its error body. Everything else is here, once: matching paths,
404/405 (with ``Allow``), reading and checking JSON bodies, the backend's admission (auth,
rate limit, faults) with its latency, after-processing errors and timeouts, and a JSON
answer even for a stand-in bug.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback
from collections.abc import Callable
from urllib.parse import parse_qsl, unquote

from .errors import StandinError, bad
from .faults import SANDBOX_FAULT
from .httpserver import MAX_BODY_BYTES, KeepAliveRequestHandler, SandboxHTTPServer

REASONS = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

# How a route takes its body: JSON that must be there, JSON that may be, or none at all (the
# body is not read). A service may add kinds of its own (``StandinApp.read_body``).
JSON, OPTIONAL, NO_BODY = "json", "optional", None


def compile_routes(routes) -> list[tuple]:
    """Routes ``(method, path, handler, ...)`` with their paths split into segments."""
    return [(route, route[1].strip("/").split("/")) for route in routes]


def match(compiled, segments: list[str]) -> dict[str, tuple]:
    """{method: (route, path params)} of the routes matching ``segments``; the first route of
    a method wins, so literal paths go before templated ones."""
    found: dict[str, tuple] = {}
    for route, pattern in compiled:
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


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def json_body(raw: bytes, required: bool):
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


def query(environ) -> dict:
    raw = environ.get("QUERY_STRING", "")
    raw = raw.encode("latin-1", "replace").decode("utf-8", "replace")
    return dict(parse_qsl(raw, keep_blank_values=True))


Response = list[bytes]


class StandinApp:
    """The WSGI application serving one backend (see the module docstring)."""

    api_prefix = ""
    control_prefix = "/_sandbox"
    credential_header = ""  # the WSGI key of the header naming the caller (HTTP_X_API_KEY)
    api_routes: list[tuple] = []  # (method, path under api_prefix, handler, body kind)
    control_routes: list[tuple] = []  # (method, path under control_prefix, handler)
    max_body_bytes = MAX_BODY_BYTES
    # A body declared as something other than JSON is refused (415), as API frameworks do; a
    # body with no Content-Type at all is read as JSON (raw HTTP clients often omit it).
    json_media_only = False

    def __init__(self, backend):
        self.backend = backend
        self._api = compile_routes(self.api_routes)
        self._control = compile_routes(self.control_routes)
        self._base = self.api_prefix.strip("/").split("/")

    # -- what a service may change ------------------------------------------------------------

    def error_body(self, status: int, message: str, code: str | None = None) -> dict:
        return {"message": message}

    def call_api(self, handler: Callable, credential, params, q, body, environ):
        return handler(self.backend, credential, params, q, body, environ)

    def call_control(self, handler: Callable, q, body, params, environ):
        return handler(self.backend, q, body, params, environ)

    def check_params(self, params: dict) -> None:
        """Refuse path parameters of the wrong type (400), before the body is read."""

    def read_body(self, kind, environ):
        """The body of an API call as its handler takes it."""
        if kind is NO_BODY:
            return None
        return json_body(self.read_raw(environ), required=kind == JSON)

    def serve_other(self, method: str, path: str, segments: list[str], environ, start_response):
        """Paths outside the API and the control API (e.g. files); None: not found."""
        return None

    # -- the plumbing -------------------------------------------------------------------------

    def read_raw(self, environ, limit: int | None = None, json: bool = True) -> bytes:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise bad("Invalid Content-Length") from None
        if length > (limit or self.max_body_bytes):
            raise StandinError(413, "Request body too large")
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        content_type = environ.get("CONTENT_TYPE") or ""
        if self.json_media_only and json and raw and content_type and not is_json(content_type):
            raise StandinError(
                415, f"Content-Type {content_type!r} is not supported: send application/json"
            )
        return raw

    def respond(self, start_response, status: int, payload=None, headers=None) -> Response:
        reason = REASONS.get(status, "OK")
        hdrs = list((headers or {}).items())
        if status == 204:
            start_response(f"204 {reason}", hdrs)
            return [b""]
        data = b"" if payload is None else json.dumps(payload).encode()
        if payload is not None:
            hdrs.append(("Content-Type", "application/json; charset=utf-8"))
        hdrs.append(("Content-Length", str(len(data))))
        start_response(f"{status} {reason}", hdrs)
        return [data]

    def _route(self, compiled, method: str, segments: list[str], path: str) -> tuple:
        found = match(compiled, segments)
        if not found:
            raise StandinError(404, f"No such endpoint: {path}")
        if method not in found:
            allow = {"Allow": ", ".join(found)}
            raise StandinError(405, f"Method {method} not allowed on {path}", allow)
        return found[method]

    def __call__(self, environ, start_response) -> Response:
        self.backend.changes += 1  # any call may change state or counters (state.py saves)
        raw_path = environ.get("sandbox.raw_path") or environ.get("PATH_INFO", "")
        segments = [unquote(s, errors="replace") for s in raw_path.strip("/").split("/")]
        path = "/" + "/".join(segments)
        method = environ.get("REQUEST_METHOD", "GET").upper()
        try:
            if path == self.control_prefix or path.startswith(self.control_prefix + "/"):
                return self._control_call(environ, start_response, method, segments, path)
            answer = self.serve_other(method, path, segments, environ, start_response)
            if answer is not None:
                return answer
            if segments[: len(self._base)] != self._base:
                raise StandinError(404, f"Not found: {path}")
            return self._api_call(environ, start_response, method, segments, path)
        except StandinError as exc:
            return self._error(start_response, exc)
        except Exception as exc:  # noqa: BLE001 - a bug must still answer JSON
            traceback.print_exc(file=sys.stderr)
            return self.respond(start_response, 500, self.error_body(500, f"Sandbox bug: {exc!r}"))

    def _control_call(self, environ, start_response, method, segments, path) -> Response:
        depth = len(self.control_prefix.strip("/").split("/"))
        route, params = self._route(self._control, method, segments[depth:], path)
        body = json_body(self.read_raw(environ), required=False)
        status, payload = self.call_control(route[2], query(environ), body, params, environ)
        return self.respond(start_response, status, payload)

    def _api_call(self, environ, start_response, method, segments, path) -> Response:
        route, params = self._route(self._api, method, segments[len(self._base) :], path)
        handler, body_kind = route[2], route[3]
        credential = environ.get(self.credential_header)
        plan = self.backend.admit(credential, handler.__name__)
        if plan["latency"]:
            time.sleep(plan["latency"])
        try:
            self.check_params(params)
            body = self.read_body(body_kind, environ)
            status, payload = self.call_api(
                handler, credential, params, query(environ), body, environ
            )
            result = (status, payload, None)
        except StandinError as exc:
            result = (exc.status, self.error_body(exc.status, exc.message, exc.code), exc.headers)
        if plan.get("error"):
            result = (plan["error"], self.error_body(plan["error"], SANDBOX_FAULT), None)
        if plan["timeout"]:
            time.sleep(plan["timeout"])  # processed, but the answer comes too late
        return self.respond(start_response, *result)

    def _error(self, start_response, exc: StandinError) -> Response:
        body = self.error_body(exc.status, exc.message, exc.code)
        return self.respond(start_response, exc.status, body, exc.headers)


def make_server(app: StandinApp, host: str = "127.0.0.1", port: int = 0, verbose: bool = False):
    """A ready-to-serve threaded HTTP/1.1 server for ``app`` (port 0 picks a free port); the
    HTTP layer's own errors take the app's error shape."""
    attrs = {
        "verbose": verbose,
        "max_body_bytes": app.max_body_bytes,
        "error_body": staticmethod(app.error_body),
    }
    handler = type("Handler", (KeepAliveRequestHandler,), attrs)
    server = SandboxHTTPServer((host, port), handler)
    server.set_app(app)
    return server


def serve_in_thread(app: StandinApp, host: str = "127.0.0.1", port: int = 0, name="sandbox-http"):
    """Start a server on a daemon thread; answer (server, thread)."""
    server = make_server(app, host, port)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
    )
    thread.start()
    return server, thread
