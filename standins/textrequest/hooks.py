"""Webhooks and status callbacks (a mixin of :class:`Backend`).

Deliveries run on the dispatcher's background threads (``dispatch.py``), never under the
lock while the receiver is being called: a slow receiver never holds up the API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections import Counter

from .dispatch import post_json
from .phones import count_segments
from .records import Account, Contact, Dashboard, Message
from .validation import SandboxError, as_object, bad, opt_url

# The seven events of docs/textrequest-api.md, as GET /eventTypes answers them.
HOOK_EVENTS = (
    "msg_sent",
    "msg_received",
    "msg_status_updated",
    "contact_created",
    "contact_updated",
    "location_received",
    "payment_status_updated",
)
# What the control API can make the next callbacks of an account look like (POST
# /control/callbacks/tamper): tests play each way a forged or stale callback reaches a receiver.
TAMPER_MODES = ("unsigned", "bad_signature", "stale_timestamp", "replay")
STALE_BY = 3600  # seconds a "stale_timestamp" callback is dated in the past


def sign(api_key: str, timestamp: str, body: bytes) -> str:
    """Text Request's callback signature: base64(HMAC-SHA256(key = the API key as UTF-8,
    message = "{timestamp}.{raw body}")) (docs/textrequest-api.md, "Signed callbacks")."""
    digest = hmac.new(api_key.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


class HooksMixin:
    """GetHooks / CreateHook / DeleteHook / GetEventTypes, signed webhook deliveries with
    retries, status and location callbacks, and the tampering the control API asks for."""

    def get_event_types(self, key: str) -> list[str]:
        with self.lock:
            self.account(key)
            return list(HOOK_EVENTS)

    def get_hooks(self, key: str, dashboard_id: int) -> list:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            return [_hook_json(h) for h in dash.hooks.values()]

    def create_hook(self, key: str, dashboard_id: int, body: object) -> dict:
        body = as_object(body)
        event = body.get("event")
        if event not in HOOK_EVENTS:
            raise bad(f"event must be one of {', '.join(HOOK_EVENTS)}")
        target = opt_url(body, "target_url")
        if target is None:
            raise bad("target_url is required (an http(s) URL)")
        verb = body.get("http_verb", "POST")
        if not isinstance(verb, str) or verb.upper() != "POST":
            raise bad("http_verb must be POST")
        with self.lock:
            dash = self._dash(key, dashboard_id)
            hook = {"id": self.next_id("hook"), "event": event, "target_url": target}
            dash.hooks[hook["id"]] = hook
            return _hook_json(hook)

    def delete_hook(self, key: str, dashboard_id: int, hook_id: int) -> None:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            if dash.hooks.pop(hook_id, None) is None:
                raise SandboxError(404, f"Hook {hook_id} not found on dashboard {dashboard_id}")

    # -- signing and tampering ----------------------------------------------------------------

    def tamper_callbacks(self, key: str, mode: object, count: object = 1) -> dict:
        """Control API: the account's next ``count`` callbacks (webhooks, status and location
        callbacks alike) go out ``mode``: unsigned, with a bad signature, with a timestamp an
        hour old, or delivered twice with the same headers and body (a replay)."""
        if mode not in TAMPER_MODES:
            raise bad(f"mode must be one of {', '.join(TAMPER_MODES)}")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 100:
            raise bad("count must be an integer from 1 to 100")
        with self.lock:
            self.account(key)
            queue = self.callback_tampers.setdefault(key, [])
            queue.extend([mode] * count)
            return {"api_key": key, "pending": list(queue)}

    def _post_signed(
        self, acct: Account, url: str, payload: dict, timeout: float
    ) -> tuple[int | None, str]:
        """POST one callback signed with the account's key as it is now (or tampered as the
        control API asked); answers the receiver's status and how it was sent."""
        body = json.dumps(payload).encode()
        with self.lock:
            queue = self.callback_tampers.get(acct.key)
            mode = queue.pop(0) if queue else "signed"
            key = acct.key
            self.callback_counts.setdefault(key, Counter())[mode] += 1
        timestamp = str(int(time.time()) - (STALE_BY if mode == "stale_timestamp" else 0))
        headers = {}
        if mode != "unsigned":
            signing_key = key + "-not-the-key" if mode == "bad_signature" else key
            headers = {
                "x-tr-webhook-timestamp": timestamp,
                "x-tr-webhook-signature": sign(signing_key, timestamp, body),
            }
        status = post_json(url, payload, timeout, headers=headers, data=body)
        if mode == "replay":
            status = post_json(url, payload, timeout, headers=headers, data=body)
        return status, mode

    # -- deliveries ---------------------------------------------------------------------------

    def _fire_hooks(self, dash: Dashboard, contact: Contact, msg: Message, event: str) -> None:
        if not dash.hooks:
            return
        acct = dash.account
        payload = {
            "messageUniqueIdentifier": msg.id,
            "account": {"id": acct.id},
            "yourPhoneNumber": {"id": dash.id, "description": dash.name, "phoneNumber": dash.phone},
            "conversation": {
                "id": contact.conversation_id,
                "date": msg.as_json()["message_timestamp_utc"],
                "consumerPhoneNumber": contact.phone,
                "messageDirection": msg.direction,
                "message": msg.body,
                "numSegments": count_segments(msg.body),
                "status": msg.status,
                "claimedBy": None,
                "consumerFriendlyName": contact.display_name,
            },
        }
        self._fire_event(dash, event, payload)

    def _fire_event(self, dash: Dashboard, event: str, payload: dict) -> None:
        """Deliver ``payload`` to every hook of ``dash`` subscribed to ``event`` (under the
        lock; the POSTs run on the dispatcher's threads)."""
        hooks = [h for h in dash.hooks.values() if h["event"] == event]
        if not hooks:
            return
        acct = dash.account
        delays = list(self.cfg(acct, "webhook_retry_delays"))
        timeout = float(self.cfg(acct, "webhook_timeout"))
        for hook in hooks:
            self._schedule_webhook(acct, dash, hook, payload, delays, timeout, 0, 0.0)

    # The payloads of the five events whose shape Text Request does not document, except
    # contact_created's (PascalCase, docs/textrequest-api.md): the sandbox defines them alike
    # (COVERAGE.md, "Webhooks").

    def _fire_contact(self, dash: Dashboard, contact: Contact, event: str) -> None:
        if dash.hooks:
            self._fire_event(dash, event, {
                "ContactId": contact.conversation_id,
                "LocationPhoneNumber": dash.phone,
                "ContactPhoneNumber": contact.phone,
                "ContactFriendlyName": contact.display_name,
            })  # fmt: skip

    def _fire_payment(self, dash: Dashboard, payment) -> None:
        if dash.hooks:
            self._fire_event(dash, "payment_status_updated", {
                "PaymentId": payment.id,
                "LocationPhoneNumber": dash.phone,
                "ContactPhoneNumber": payment.phone,
                "PaymentStatus": payment.status,
                "TransactionStatus": payment.transaction_status,
            })  # fmt: skip

    def _fire_status(self, dash: Dashboard, msg: Message) -> None:
        if dash.hooks:
            self._fire_event(dash, "msg_status_updated", {
                "MessageId": msg.id,
                "LocationPhoneNumber": dash.phone,
                "ContactPhoneNumber": msg.phone,
                "DeliveryStatus": msg.status,
            })  # fmt: skip

    def _fire_location(self, dash: Dashboard, phone: str, message_id) -> None:
        if dash.hooks:
            self._fire_event(dash, "location_received", {
                "MessageId": message_id,
                "LocationPhoneNumber": dash.phone,
                "ContactPhoneNumber": phone,
            })  # fmt: skip

    def _schedule_webhook(self, acct, dash, hook, payload, delays, timeout, attempt, delay):
        def deliver() -> None:
            with self.lock:
                if (
                    dash.hooks.get(hook["id"]) is not hook
                    or self.accounts.get(acct.key) is not acct
                ):
                    return  # unsubscribed or reset since
            status, mode = self._post_signed(acct, hook["target_url"], payload, timeout)
            ok = status is not None and 200 <= status < 300
            with self.lock:
                acct.webhook_deliveries += 1
                if not ok:
                    acct.webhook_failures += 1
            # A tampered callback plays a forger, who does not retry.
            if not ok and mode == "signed" and attempt < len(delays):
                self._schedule_webhook(
                    acct, dash, hook, payload, delays, timeout, attempt + 1, delays[attempt]
                )

        self.dispatcher.schedule(delay, deliver)

    def _status_callback(self, msg: Message, acct: Account) -> None:
        """POST the message's settled status to its ``status_callback`` once, not retried,
        signed like a webhook."""
        payload = {
            "message_id": msg.id,
            "delivery_status": msg.status,
            "delivery_error": msg.error,
        }
        url, timeout = msg.status_callback, float(self.cfg(acct, "callback_timeout"))

        def call() -> None:
            self._post_signed(acct, url, payload, timeout)
            with self.lock:
                acct.status_callbacks += 1

        self.dispatcher.schedule(0, call)


def _hook_json(hook: dict) -> dict:
    return {"id": hook["id"], "event": hook["event"], "target_url": hook["target_url"]}
