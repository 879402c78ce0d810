"""HTTP face of the sandbox: a WSGI app with the Text Request v3 routes and the control API.

Routes map to thin handlers named after the real operationIds; the :class:`Backend` does
the work. Served by a threaded stdlib server (``make_server``), so no dependency is needed;
it speaks HTTP/1.1 with keep-alive, like the real service, so clients reuse connections.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import sys
import threading
import time
import traceback
from collections.abc import Callable
from urllib.parse import parse_qsl, unquote

from .backend import Backend, SandboxError, bad
from .httpserver import MAX_BODY_BYTES, KeepAliveRequestHandler, SandboxHTTPServer
from .mms import MAX_UPLOAD_BODY, MMS_PATH
from .validation import error_body

API_PREFIX = "/api/v3"
CONTROL_PREFIX = "/_sandbox"
INT_PARAMS = ("dashboard_id", "group_id", "payment_id", "hook_id")

Handler = Callable[[Backend, str, dict, dict, object], tuple[int, object]]


# -- operations (named after the operationIds of apiDefinition.swagger.json) -------------------


def GetDashboards(b, key, p, q, body):
    return 200, b.get_dashboards(key, q)


def CreateDashboard(b, key, p, q, body):
    return 200, b.create_dashboard(key, body)


def GetProvisioningNumbers(b, key, p, q, body):
    return 200, b.provisioning(key, q)


def GetDashboard(b, key, p, q, body):
    return 200, b.get_dashboard(key, p["dashboard_id"])


def UpdateDashboardsName(b, key, p, q, body):
    return 200, b.update_dashboard(key, p["dashboard_id"], body)


def DeleteDashboard(b, key, p, q, body):
    b.delete_dashboard(key, p["dashboard_id"])
    return 204, None


def GetContacts(b, key, p, q, body):
    return 200, b.get_contacts(key, p["dashboard_id"], q)


def BulkUpdateContacts(b, key, p, q, body):
    return 200, b.bulk_update_contacts(key, p["dashboard_id"], body)


def GetContactByPhoneNumber(b, key, p, q, body):
    return _or_204(b.get_contact(key, p["dashboard_id"], p["phone_number"]))


def CreateContact(b, key, p, q, body):
    return 200, b.create_contact(key, p["dashboard_id"], p["phone_number"], body)


def DeleteContact(b, key, p, q, body):
    return 200, b.delete_contact(key, p["dashboard_id"], p["phone_number"])


def GetMessagesByContactPhone(b, key, p, q, body):
    return _or_204(b.get_messages(key, p["dashboard_id"], p["phone_number"], q))


def SendMessageByPhoneNumber(b, key, p, q, body):
    return 200, b.send_message(key, p["dashboard_id"], p["phone_number"], body)


def ArchiveConversation(b, key, p, q, body):
    return 200, b.archive_conversation(key, p["dashboard_id"], p["phone_number"])


def UnarchiveConversation(b, key, p, q, body):
    return 200, b.unarchive_conversation(key, p["dashboard_id"], p["phone_number"])


def GetConversations(b, key, p, q, body):
    return _or_204(b.get_conversations(key, p["dashboard_id"], q))


def GetGroups(b, key, p, q, body):
    return 200, b.get_groups(key, p["dashboard_id"], q)


def CreateGroup(b, key, p, q, body):
    return 200, b.create_group(key, p["dashboard_id"], body)


def GetGroupById(b, key, p, q, body):
    return _or_204(b.get_group(key, p["dashboard_id"], p["group_id"]))


def UpdateGroup(b, key, p, q, body):
    return 200, b.update_group(key, p["dashboard_id"], p["group_id"], body)


def DeleteGroup(b, key, p, q, body):
    b.delete_group(key, p["dashboard_id"], p["group_id"])
    return 204, None


def GetTags(b, key, p, q, body):
    return 200, b.get_tags(key, p["dashboard_id"], q)


def GetCustomFields(b, key, p, q, body):
    return 200, b.get_fields(key, p["dashboard_id"])


def GetPayments(b, key, p, q, body):
    return 200, b.get_payments(key, p["dashboard_id"], q)


def CreatePayment(b, key, p, q, body):
    return 200, b.create_payment(key, p["dashboard_id"], body)


def GetPayment(b, key, p, q, body):
    return _or_204(b.get_payment(key, p["dashboard_id"], p["payment_id"]))


def MarkPaymentPaid(b, key, p, q, body):
    return 200, b.mark_payment_paid(key, p["dashboard_id"], p["payment_id"])


def SendPaymentReminder(b, key, p, q, body):
    return 200, b.send_payment_reminder(key, p["dashboard_id"], p["payment_id"])


def CancelPayment(b, key, p, q, body):
    return 200, b.cancel_payment(key, p["dashboard_id"], p["payment_id"])


def GetHooks(b, key, p, q, body):
    return 200, b.get_hooks(key, p["dashboard_id"])


def CreateHook(b, key, p, q, body):
    return 200, b.create_hook(key, p["dashboard_id"], body)


def DeleteHook(b, key, p, q, body):
    b.delete_hook(key, p["dashboard_id"], p["hook_id"])
    return 204, None


def UploadMms(b, key, p, q, body):
    base_url, file_name, content = body
    return 200, b.upload_mms(key, base_url, file_name, content)


def _or_204(result):
    return (204, None) if result is None else (200, result)


D = "/dashboards/{dashboard_id}"
C = D + "/contacts/{phone_number}"
# (method, path under /api/v3, handler, takes a JSON body (or MULTIPART)). Literal paths
# come first.
MULTIPART = "multipart"
API_ROUTES: list[tuple[str, str, Handler, bool]] = [
    ("GET", "/dashboards", GetDashboards, False),
    ("POST", "/dashboards", CreateDashboard, True),
    ("GET", "/dashboards/provisioning", GetProvisioningNumbers, False),
    ("GET", D, GetDashboard, False),
    ("PUT", D, UpdateDashboardsName, True),
    ("DELETE", D, DeleteDashboard, False),
    ("GET", D + "/contacts", GetContacts, False),
    ("POST", D + "/contacts", BulkUpdateContacts, True),
    ("GET", C, GetContactByPhoneNumber, False),
    ("POST", C, CreateContact, True),
    ("DELETE", C, DeleteContact, False),
    ("GET", C + "/messages", GetMessagesByContactPhone, False),
    ("POST", C + "/messages", SendMessageByPhoneNumber, True),
    ("PUT", C + "/conversations/archive", ArchiveConversation, False),
    ("PUT", C + "/conversations/unarchive", UnarchiveConversation, False),
    ("GET", D + "/conversations", GetConversations, False),
    ("GET", D + "/groups", GetGroups, False),
    ("POST", D + "/groups", CreateGroup, True),
    ("GET", D + "/groups/{group_id}", GetGroupById, False),
    ("PUT", D + "/groups/{group_id}", UpdateGroup, True),
    ("DELETE", D + "/groups/{group_id}", DeleteGroup, False),
    ("GET", D + "/tags", GetTags, False),
    ("GET", D + "/fields", GetCustomFields, False),
    ("GET", D + "/payments", GetPayments, False),
    ("POST", D + "/payments", CreatePayment, True),
    ("GET", D + "/payments/{payment_id}", GetPayment, False),
    ("POST", D + "/payments/{payment_id}/mark_as_paid", MarkPaymentPaid, False),
    ("POST", D + "/payments/{payment_id}/resend", SendPaymentReminder, False),
    ("POST", D + "/payments/{payment_id}/cancel", CancelPayment, False),
    ("GET", D + "/hooks", GetHooks, False),
    ("POST", D + "/hooks", CreateHook, True),
    ("DELETE", D + "/hooks/{hook_id}", DeleteHook, False),
    ("POST", "/mms", UploadMms, MULTIPART),
]


# -- control API (not Text Request): the world around the service ------------------------------


def _key_of(body: dict) -> str:
    key = body.get("api_key")
    if not isinstance(key, str) or not key:
        raise bad("api_key is required")
    return key


def _int_of(body: dict, name: str, required: bool = True) -> int | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(f"{name} must be an integer")
    return value


def _obj(body) -> dict:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise bad("The request body must be a JSON object")
    return body


def control_accounts(b, q, body):
    body = _obj(body)
    return 200, b.create_account(
        seed=body.get("seed", "empty"),
        contacts=body.get("contacts"),
        messages=body.get("messages"),
        dashboards=body.get("dashboards"),
        seed_value=body.get("seed_value"),
    )


def control_reset(b, q, body):
    b.reset()
    return 200, {"reset": True}


def control_share_location(b, q, body):
    body = _obj(body)
    return 200, b.share_location(
        _key_of(body),
        _int_of(body, "dashboard_id"),
        body.get("phone_number"),
        body.get("latitude"),
        body.get("longitude"),
        body.get("accuracy", 20),
    )


def control_inbound(b, q, body):
    body = _obj(body)
    return 200, b.inbound(
        _key_of(body),
        _int_of(body, "dashboard_id"),
        body.get("phone_number"),
        body.get("body"),
        body.get("media_urls"),
    )


def control_pay(b, q, body):
    body = _obj(body)
    return 200, b.portal_pay(
        _key_of(body),
        _int_of(body, "dashboard_id"),
        _int_of(body, "payment_id"),
        body.get("outcome", "paid"),
    )


def control_payment_status(b, q, body):
    body = _obj(body)
    return 200, b.set_payment_status(
        _key_of(body),
        _int_of(body, "dashboard_id"),
        _int_of(body, "payment_id"),
        body.get("textrequest_payment_status"),
    )


def control_delivery_status(b, q, body):
    body = _obj(body)
    return 200, b.set_delivery_status(
        _key_of(body),
        body.get("message_id"),
        body.get("delivery_status"),
        body.get("delivery_error"),
    )


def control_set_faults(b, q, body):
    return 200, b.set_faults(_obj(body))


def control_clear_faults(b, q, body):
    key = q.get("api_key") or _obj(body).get("api_key")
    return 200, b.clear_faults(key)


def control_config(b, q, body):
    return 200, b.configure(_obj(body))


def control_get_config(b, q, body):
    return 200, {"config": dict(b.config)}


def control_counters(b, q, body):
    if not q.get("api_key"):
        raise bad("api_key is required")
    return 200, b.counters(q["api_key"])


def control_messages(b, q, body):
    if not q.get("api_key"):
        raise bad("api_key is required")
    dash = q.get("dashboard_id")
    if dash is not None and not dash.isdigit():
        raise bad("dashboard_id must be an integer")
    return 200, b.all_messages(q["api_key"], int(dash) if dash else None, q.get("phone_number"))


def control_tags(b, q, body):
    body = _obj(body)
    return 200, b.add_tag(
        _key_of(body), _int_of(body, "dashboard_id"), body.get("tag"), body.get("tag_color")
    )


def control_fields(b, q, body):
    body = _obj(body)
    return 200, b.add_field(_key_of(body), _int_of(body, "dashboard_id"), body.get("name"))


def control_clock(b, q, body):
    seconds = _obj(body).get("advance_seconds", 0)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise bad("advance_seconds must be a number")
    return 200, b.advance_clock(seconds)


def control_wait_idle(b, q, body):
    timeout = float(q.get("timeout") or 10)
    return 200, {"idle": b.dispatcher.wait_idle(min(timeout, 60))}


CONTROL_ROUTES = {
    ("POST", "/accounts"): control_accounts,
    ("POST", "/reset"): control_reset,
    ("POST", "/inbound"): control_inbound,
    ("POST", "/location"): control_share_location,
    ("POST", "/payments/pay"): control_pay,
    ("POST", "/payments/status"): control_payment_status,
    ("POST", "/messages/status"): control_delivery_status,
    ("PUT", "/faults"): control_set_faults,
    ("DELETE", "/faults"): control_clear_faults,
    ("PUT", "/config"): control_config,
    ("GET", "/config"): control_get_config,
    ("GET", "/counters"): control_counters,
    ("GET", "/messages"): control_messages,
    ("POST", "/tags"): control_tags,
    ("POST", "/fields"): control_fields,
    ("POST", "/clock"): control_clock,
    ("POST", "/wait_idle"): control_wait_idle,
}


# -- WSGI plumbing ----------------------------------------------------------------------------


def _compile(routes):
    compiled = []
    for method, path, handler, has_body in routes:
        compiled.append((method, path.strip("/").split("/"), handler, has_body))
    return compiled


def _match(compiled, segments: list[str]):
    """Answer (methods allowed for the path, {method: (handler, has_body, params)})."""
    found: dict[str, tuple] = {}
    for method, pattern, handler, has_body in compiled:
        if len(pattern) != len(segments):
            continue
        params = {}
        for want, got in zip(pattern, segments, strict=True):
            if want.startswith("{"):
                params[want[1:-1]] = got
            elif want != got:
                break
        else:
            found.setdefault(method, (handler, has_body, params))
    return found


def _read_body(environ, limit: int = MAX_BODY_BYTES, json: bool = True) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise bad("Invalid Content-Length") from None
    if length > limit:
        raise SandboxError(413, "Request body too large")
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    content_type = environ.get("CONTENT_TYPE") or ""
    if json and raw and content_type and not _is_json(content_type):
        # a body declared as something else is refused, as API frameworks do; a body with no
        # Content-Type at all is read as JSON (lenient: raw HTTP clients often omit it)
        raise SandboxError(
            415, f"Content-Type {content_type!r} is not supported: send application/json"
        )
    return raw


def _multipart_file(environ) -> tuple[str, str, bytes]:
    """(base URL, file name, bytes) of the ``file`` field of a multipart/form-data body."""
    content_type = environ.get("CONTENT_TYPE") or ""
    if content_type.split(";", 1)[0].strip().lower() != "multipart/form-data":
        raise SandboxError(
            415, f"Content-Type {content_type!r} is not supported: send multipart/form-data"
        )
    raw = _read_body(environ, limit=MAX_UPLOAD_BODY, json=False)
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    if not message.is_multipart():
        raise bad("The multipart body cannot be read (boundary missing?)")
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") != "file":
            continue
        file_name = part.get_filename()
        if not file_name:
            raise bad("The file field needs a filename")
        content = part.get_payload(decode=True) or b""
        scheme = environ.get("wsgi.url_scheme", "http")
        host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
        return f"{scheme}://{host}", file_name, content
    raise bad("The multipart body has no file field")


def _serve_mms(backend: Backend, segments: list[str], start_response):
    """GET /mms/<token>/<name>: an uploaded file, as Text Request's storage serves it."""
    found = backend.mms_file(segments[1]) if len(segments) == 3 else None
    if found is None:
        raise SandboxError(404, "No such MMS file")
    mime, name, content = found
    disposition = "inline" if mime.startswith(("image/", "video/")) else "attachment"
    start_response(
        "200 OK",
        [
            ("Content-Type", mime),
            ("Content-Length", str(len(content))),
            ("Content-Disposition", f'{disposition}; filename="{name}"'),
            ("X-Content-Type-Options", "nosniff"),
            ("Cache-Control", "public, max-age=86400"),
        ],
    )
    return [content]


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


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


def make_app(backend: Backend):
    """The WSGI application serving ``backend``."""
    compiled = _compile(API_ROUTES)

    def respond(start_response, status: int, payload=None, headers=None):
        reason = _REASONS.get(status, "OK")
        hdrs = list((headers or {}).items())
        if status == 204:
            start_response(f"204 {reason}", hdrs)
            return [b""]
        data = json.dumps(payload).encode()
        hdrs += [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(data))),
        ]
        start_response(f"{status} {reason}", hdrs)
        return [data]

    def app(environ, start_response):
        backend.changes += 1  # any call may change state or counters (state.py saves then)
        raw_path = environ.get("sandbox.raw_path") or environ.get("PATH_INFO", "")
        segments = [unquote(s, errors="replace") for s in raw_path.strip("/").split("/")]
        path = "/" + "/".join(segments)
        method = environ.get("REQUEST_METHOD", "GET").upper()
        try:
            if path.startswith(CONTROL_PREFIX + "/") or path == CONTROL_PREFIX:
                handler = CONTROL_ROUTES.get((method, path[len(CONTROL_PREFIX) :]))
                if handler is None:
                    raise SandboxError(404, f"No sandbox control route {method} {path}")
                body = _json_body(_read_body(environ), required=False)
                status, payload = handler(backend, _query(environ), body)
                return respond(start_response, status, payload)
            if method in ("GET", "HEAD") and path.startswith(MMS_PATH):
                return _serve_mms(backend, segments, start_response)
            if not path.startswith(API_PREFIX + "/"):
                raise SandboxError(404, f"Not found: {path}")
            found = _match(compiled, segments[2:])
            if not found:
                raise SandboxError(404, f"No such endpoint: {path}")
            if method not in found:
                raise SandboxError(
                    405, f"Method {method} not allowed on {path}", {"Allow": ", ".join(found)}
                )
            handler, has_body, params = found[method]
            key = environ.get("HTTP_X_API_KEY")
            plan = backend.admit(key, handler.__name__)
            if plan["latency"]:
                time.sleep(plan["latency"])
            try:
                for name in INT_PARAMS:
                    if name in params:
                        value = params[name]
                        if not value.isascii() or not value.isdigit() or len(value) > 9:
                            raise bad(f"{name} must be an integer, got {value!r}")
                        params[name] = int(value)
                if has_body == MULTIPART:
                    body = _multipart_file(environ)
                else:
                    body = _json_body(_read_body(environ), required=has_body)
                status, payload = handler(backend, key, params, _query(environ), body)
                result = (status, payload, None)
            except SandboxError as exc:
                result = (exc.status, exc.body(), exc.headers)
            if plan["timeout"]:
                time.sleep(plan["timeout"])  # processed, but the answer comes too late
            return respond(start_response, *result)
        except SandboxError as exc:
            return respond(start_response, exc.status, exc.body(), exc.headers)
        except Exception as exc:  # noqa: BLE001 - a bug must still answer JSON
            traceback.print_exc(file=sys.stderr)
            return respond(start_response, 500, error_body(500, f"Sandbox bug: {exc!r}"))

    return app


_REASONS = {
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
    503: "Service Unavailable",
}


def make_server(backend: Backend, host: str = "127.0.0.1", port: int = 8001, verbose=False):
    """A ready-to-serve threaded HTTP server for ``backend`` (port 0 picks a free port)."""
    handler = type("Handler", (KeepAliveRequestHandler,), {"verbose": verbose})
    server = SandboxHTTPServer((host, port), handler)
    server.set_app(make_app(backend))
    return server


def serve_in_thread(backend: Backend, host: str = "127.0.0.1", port: int = 0):
    """Start a server on a daemon thread; answer (server, thread)."""
    server = make_server(backend, host, port)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="sandbox-http",
        daemon=True,
    )
    thread.start()
    return server, thread
