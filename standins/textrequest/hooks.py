"""Webhooks and status callbacks (a mixin of :class:`Backend`).

Deliveries run on the dispatcher's background threads (``dispatch.py``), never under the
lock while the receiver is being called: a slow receiver never holds up the API.
"""

from __future__ import annotations

from .dispatch import post_json
from .phones import count_segments
from .records import Account, Contact, Dashboard, Message
from .validation import SandboxError, as_object, bad, opt_url

HOOK_EVENTS = ("msg_received", "msg_sent")


class HooksMixin:
    """GetHooks / CreateHook / DeleteHook, webhook deliveries with retries, status callbacks."""

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

    # -- deliveries ---------------------------------------------------------------------------

    def _fire_hooks(self, dash: Dashboard, contact: Contact, msg: Message, event: str) -> None:
        hooks = [h for h in dash.hooks.values() if h["event"] == event]
        if not hooks:
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
        delays = list(self.cfg(acct, "webhook_retry_delays"))
        timeout = float(self.cfg(acct, "webhook_timeout"))
        for hook in hooks:
            self._schedule_webhook(acct, dash, hook, payload, delays, timeout, 0, 0.0)

    def _schedule_webhook(self, acct, dash, hook, payload, delays, timeout, attempt, delay):
        def deliver() -> None:
            with self.lock:
                if (
                    dash.hooks.get(hook["id"]) is not hook
                    or self.accounts.get(acct.key) is not acct
                ):
                    return  # unsubscribed or reset since
            status = post_json(hook["target_url"], payload, timeout)
            ok = status is not None and 200 <= status < 300
            with self.lock:
                acct.webhook_deliveries += 1
                if not ok:
                    acct.webhook_failures += 1
            if not ok and attempt < len(delays):
                self._schedule_webhook(
                    acct, dash, hook, payload, delays, timeout, attempt + 1, delays[attempt]
                )

        self.dispatcher.schedule(delay, deliver)

    def _status_callback(self, msg: Message, acct: Account) -> None:
        """POST the message's settled status to its ``status_callback`` once, not retried."""
        payload = {
            "message_id": msg.id,
            "delivery_status": msg.status,
            "delivery_error": msg.error,
        }
        url, timeout = msg.status_callback, float(self.cfg(acct, "callback_timeout"))

        def call() -> None:
            post_json(url, payload, timeout)
            with self.lock:
                acct.status_callbacks += 1

        self.dispatcher.schedule(0, call)


def _hook_json(hook: dict) -> dict:
    return {"id": hook["id"], "event": hook["event"], "target_url": hook["target_url"]}
