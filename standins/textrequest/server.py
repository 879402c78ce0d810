"""HTTP face of the sandbox: a WSGI app with the Text Request v3 routes and the control API.

Routes map to thin handlers named after the real operationIds; the :class:`Backend` does
the work. Served by a threaded stdlib server (``make_server``), so no dependency is needed;
it speaks HTTP/1.1 with keep-alive, like the real service, so clients reuse connections.
"""

from __future__ import annotations

import email.parser
import email.policy
from collections.abc import Callable

from standins.core import app as core
from standins.core.app import JSON, OPTIONAL, StandinApp
from standins.core.errors import object_or_empty as _obj

from .backend import Backend, SandboxError, bad
from .mms import MAX_UPLOAD_BODY, MMS_PATH
from .validation import error_body

API_PREFIX = "/api/v3"
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


# -- beyond the definition (docs/textrequest-api.md, evidence): names of our choosing ----------


def CreateTag(b, key, p, q, body):
    return 200, b.create_tag(key, p["dashboard_id"], body)


def GetTag(b, key, p, q, body):
    return _or_204(b.get_tag(key, p["dashboard_id"], p["tag_id"]))


def UpdateTag(b, key, p, q, body):
    return 200, b.update_tag(key, p["dashboard_id"], p["tag_id"], body)


def DeleteTag(b, key, p, q, body):
    b.delete_tag(key, p["dashboard_id"], p["tag_id"])
    return 204, None


def CreateCustomField(b, key, p, q, body):
    return 200, b.create_field(key, p["dashboard_id"], body)


def GetCustomField(b, key, p, q, body):
    return _or_204(b.get_field(key, p["dashboard_id"], p["field_id"]))


def UpdateCustomField(b, key, p, q, body):
    return 200, b.update_field(key, p["dashboard_id"], p["field_id"], body)


def DeleteCustomField(b, key, p, q, body):
    b.delete_field(key, p["dashboard_id"], p["field_id"])
    return 204, None


def RedactMessage(b, key, p, q, body):
    b.set_redacted(key, p["message_id"], True)
    return 200, None


def UnredactMessage(b, key, p, q, body):
    b.set_redacted(key, p["message_id"], False)
    return 200, None


def GetDashboardMessages(b, key, p, q, body):
    return _or_204(b.get_dashboard_messages(key, p["dashboard_id"], q))


def SendMessage(b, key, p, q, body):
    return 200, b.send_by_numbers(key, body)


def GetScheduledMessages(b, key, p, q, body):
    return 200, b.get_scheduled_messages(key, p["dashboard_id"], q)


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


# -- webhooks: event types (evidence, docs/textrequest-api.md) --------------------------------


def GetEventTypes(b, key, p, q, body):
    return 200, b.get_event_types(key)


def UploadMms(b, key, p, q, body):
    base_url, file_name, content = body
    return 200, b.upload_mms(key, base_url, file_name, content)


def _or_204(result):
    return (204, None) if result is None else (200, result)


D = "/dashboards/{dashboard_id}"
C = D + "/contacts/{phone_number}"
# (method, path under /api/v3, handler, body: JSON required, OPTIONAL or MULTIPART). Literal
# paths come first.
MULTIPART = "multipart"
API_ROUTES: list[tuple[str, str, Handler, str]] = [
    ("GET", "/dashboards", GetDashboards, OPTIONAL),
    ("POST", "/dashboards", CreateDashboard, JSON),
    ("GET", "/dashboards/provisioning", GetProvisioningNumbers, OPTIONAL),
    ("GET", D, GetDashboard, OPTIONAL),
    ("PUT", D, UpdateDashboardsName, JSON),
    ("DELETE", D, DeleteDashboard, OPTIONAL),
    ("GET", D + "/contacts", GetContacts, OPTIONAL),
    ("POST", D + "/contacts", BulkUpdateContacts, JSON),
    ("GET", C, GetContactByPhoneNumber, OPTIONAL),
    ("POST", C, CreateContact, JSON),
    ("DELETE", C, DeleteContact, OPTIONAL),
    ("GET", C + "/messages", GetMessagesByContactPhone, OPTIONAL),
    ("POST", C + "/messages", SendMessageByPhoneNumber, JSON),
    ("PUT", C + "/conversations/archive", ArchiveConversation, OPTIONAL),
    ("PUT", C + "/conversations/unarchive", UnarchiveConversation, OPTIONAL),
    ("GET", D + "/conversations", GetConversations, OPTIONAL),
    ("GET", D + "/groups", GetGroups, OPTIONAL),
    ("POST", D + "/groups", CreateGroup, JSON),
    ("GET", D + "/groups/{group_id}", GetGroupById, OPTIONAL),
    ("PUT", D + "/groups/{group_id}", UpdateGroup, JSON),
    ("DELETE", D + "/groups/{group_id}", DeleteGroup, OPTIONAL),
    ("GET", D + "/tags", GetTags, OPTIONAL),
    ("POST", D + "/tags", CreateTag, JSON),
    ("GET", D + "/tags/{tag_id}", GetTag, OPTIONAL),
    ("PUT", D + "/tags/{tag_id}", UpdateTag, JSON),
    ("DELETE", D + "/tags/{tag_id}", DeleteTag, OPTIONAL),
    ("GET", D + "/fields", GetCustomFields, OPTIONAL),
    ("POST", D + "/fields", CreateCustomField, JSON),
    ("GET", D + "/fields/{field_id}", GetCustomField, OPTIONAL),
    ("PUT", D + "/fields/{field_id}", UpdateCustomField, JSON),
    ("DELETE", D + "/fields/{field_id}", DeleteCustomField, OPTIONAL),
    ("GET", D + "/messages", GetDashboardMessages, OPTIONAL),
    ("GET", D + "/scheduledmessages", GetScheduledMessages, OPTIONAL),
    ("POST", "/messages", SendMessage, JSON),
    ("PUT", "/messages/{message_id}/redact", RedactMessage, OPTIONAL),
    ("PUT", "/messages/{message_id}/unredact", UnredactMessage, OPTIONAL),
    ("GET", D + "/payments", GetPayments, OPTIONAL),
    ("POST", D + "/payments", CreatePayment, JSON),
    ("GET", D + "/payments/{payment_id}", GetPayment, OPTIONAL),
    ("POST", D + "/payments/{payment_id}/mark_as_paid", MarkPaymentPaid, OPTIONAL),
    ("POST", D + "/payments/{payment_id}/resend", SendPaymentReminder, OPTIONAL),
    ("POST", D + "/payments/{payment_id}/cancel", CancelPayment, OPTIONAL),
    ("GET", D + "/hooks", GetHooks, OPTIONAL),
    ("POST", D + "/hooks", CreateHook, JSON),
    ("DELETE", D + "/hooks/{hook_id}", DeleteHook, OPTIONAL),
    ("GET", "/eventTypes", GetEventTypes, OPTIONAL),
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


def control_scheduled(b, q, body):
    body = _obj(body)
    return 200, b.add_scheduled(_key_of(body), _int_of(body, "dashboard_id"), body)


def control_clock(b, q, body):
    seconds = _obj(body).get("advance_seconds", 0)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise bad("advance_seconds must be a number")
    return 200, b.advance_clock(seconds)


def control_wait_idle(b, q, body):
    timeout = float(q.get("timeout") or 10)
    return 200, {"idle": b.dispatcher.wait_idle(min(timeout, 60))}


# -- control: signed callbacks and the world's contacts (webhooks, issue 20) ------------------


def control_tamper_callbacks(b, q, body):
    body = _obj(body)
    return 200, b.tamper_callbacks(_key_of(body), body.get("mode"), body.get("count", 1))


def control_create_contact(b, q, body):
    """Someone adds a contact in Text Request's own app (no text): CreateContact's effect."""
    body = _obj(body)
    fields = {k: body[k] for k in ("first_name", "last_name", "display_name") if k in body}
    return 200, b.create_contact(
        _key_of(body), _int_of(body, "dashboard_id"), body.get("phone_number"), fields
    )


def control_rotate_key(b, q, body):
    return 200, b.rotate_key(_key_of(_obj(body)))


CONTROL_ROUTES = [
    ("POST", "/accounts", control_accounts),
    ("POST", "/reset", control_reset),
    ("POST", "/inbound", control_inbound),
    ("POST", "/location", control_share_location),
    ("POST", "/payments/pay", control_pay),
    ("POST", "/payments/status", control_payment_status),
    ("POST", "/messages/status", control_delivery_status),
    ("PUT", "/faults", control_set_faults),
    ("DELETE", "/faults", control_clear_faults),
    ("PUT", "/config", control_config),
    ("GET", "/config", control_get_config),
    ("GET", "/counters", control_counters),
    ("GET", "/messages", control_messages),
    ("POST", "/tags", control_tags),
    ("POST", "/fields", control_fields),
    ("POST", "/scheduled", control_scheduled),
    ("POST", "/clock", control_clock),
    ("POST", "/wait_idle", control_wait_idle),
    ("POST", "/callbacks/tamper", control_tamper_callbacks),
    ("POST", "/contacts", control_create_contact),
    ("POST", "/accounts/rotate_key", control_rotate_key),
]


# -- the app ---------------------------------------------------------------------------------


def _multipart_file(app: core.StandinApp, environ) -> tuple[str, str, bytes]:
    """(base URL, file name, bytes) of the ``file`` field of a multipart/form-data body."""
    content_type = environ.get("CONTENT_TYPE") or ""
    if content_type.split(";", 1)[0].strip().lower() != "multipart/form-data":
        raise SandboxError(
            415, f"Content-Type {content_type!r} is not supported: send multipart/form-data"
        )
    raw = app.read_raw(environ, limit=MAX_UPLOAD_BODY, json=False)
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


class TextRequestApp(StandinApp):
    """The Text Request v3 API and its control API over one :class:`Backend`."""

    api_prefix = API_PREFIX
    credential_header = "HTTP_X_API_KEY"
    api_routes = API_ROUTES
    control_routes = CONTROL_ROUTES
    json_media_only = True

    def error_body(self, status: int, message: str, code: str | None = None) -> dict:
        return error_body(status, message, code)

    def call_api(self, handler, credential, params, q, body, environ):
        return handler(self.backend, credential, params, q, body)

    def call_control(self, handler, q, body, params, environ):
        return handler(self.backend, q, body)

    def check_params(self, params: dict) -> None:
        for name in INT_PARAMS:
            if name in params:
                value = params[name]
                if not value.isascii() or not value.isdigit() or len(value) > 9:
                    raise bad(f"{name} must be an integer, got {value!r}")
                params[name] = int(value)

    def read_body(self, kind, environ):
        if kind == MULTIPART:
            return _multipart_file(self, environ)
        return super().read_body(kind, environ)

    def serve_other(self, method, path, segments, environ, start_response):
        """GET /mms/<token>/<name>: an uploaded file, as Text Request's storage serves it."""
        if method not in ("GET", "HEAD") or not path.startswith(MMS_PATH):
            return None
        found = self.backend.mms_file(segments[1]) if len(segments) == 3 else None
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


def make_app(backend: Backend) -> TextRequestApp:
    """The WSGI application serving ``backend``."""
    return TextRequestApp(backend)


def make_server(backend: Backend, host: str = "127.0.0.1", port: int = 8001, verbose=False):
    """A ready-to-serve threaded HTTP server for ``backend`` (port 0 picks a free port)."""
    return core.make_server(TextRequestApp(backend), host, port, verbose)


def serve_in_thread(backend: Backend, host: str = "127.0.0.1", port: int = 0):
    """Start a server on a daemon thread; answer (server, thread)."""
    return core.serve_in_thread(TextRequestApp(backend), host, port)
