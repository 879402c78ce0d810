"""Payment requests (a mixin of :class:`Backend`).

A payment texts the customer a pay link (``Payments`` as the sender); staff can mark it
paid, send one reminder or cancel it; the customer pays or is declined through the portal
(control API).
"""

from __future__ import annotations

import math

from .records import Dashboard, Payment
from .validation import as_object, bad, opt_str, page_of, paging, parse_phone, req_str

PAY_PREFIX = "https://pay.textrequest.com/p/"
PAYMENT_SORTS = ("amount", "contact", "date", "status")
MAX_AMOUNT = 100_000


class PaymentsMixin:
    """GetPayments, CreatePayment, GetPayment, MarkPaymentPaid, SendPaymentReminder,
    CancelPayment, and the portal."""

    def _payment_json(self, dash: Dashboard, payment: Payment) -> dict:
        contact = dash.contacts.get(payment.phone)
        return payment.as_json(self.now_ms(), contact.display_name if contact else None)

    @staticmethod
    def _payment(dash: Dashboard, payment_id: int) -> Payment:
        payment = dash.payments.get(payment_id)
        if payment is None:
            raise bad(f"Payment {payment_id} does not exist in this dashboard")
        return payment

    @staticmethod
    def _open(payment: Payment, action: str) -> None:
        if payment.status != "Sent":
            raise bad(f"Payment {payment.id} is already {payment.status.lower()}; cannot {action}")

    def get_payments(self, key: str, dashboard_id: int, q: dict) -> dict:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            page, size = paging(q)
            sort_type = (q.get("sort_type") or "date").strip().lower()
            if sort_type not in PAYMENT_SORTS:
                raise bad(f"sort_type must be one of {', '.join(PAYMENT_SORTS)}")
            direction = (q.get("sort_direction") or "desc").strip().lower()
            if direction not in ("asc", "desc"):
                raise bad("sort_direction must be asc or desc")
            payments = list(dash.payments.values())
            if q.get("reference_number"):
                payments = [p for p in payments if p.reference == q["reference_number"]]
            if q.get("phone_number"):
                phone = parse_phone(q["phone_number"], "phone_number")
                payments = [p for p in payments if p.phone == phone]

            def name(p: Payment) -> str:
                contact = dash.contacts.get(p.phone)
                return ((contact.display_name if contact else None) or "").casefold()

            keys = {
                "amount": lambda p: (p.amount, p.id),
                "contact": lambda p: (name(p), p.phone, p.id),
                "date": lambda p: (p.request_at, p.id),
                "status": lambda p: (p.status, p.id),
            }
            payments.sort(key=keys[sort_type], reverse=direction == "desc")
            return page_of(payments, page, size, lambda p: self._payment_json(dash, p))

    def get_payment(self, key: str, dashboard_id: int, payment_id: int) -> dict | None:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            payment = dash.payments.get(payment_id)
            return self._payment_json(dash, payment) if payment else None

    def create_payment(self, key: str, dashboard_id: int, body: object) -> dict:
        body = as_object(body)
        if body.get("customer_phone") is None:
            raise bad("customer_phone is required")
        phone = parse_phone(body.get("customer_phone"), "customer_phone")
        amount = _amount(body.get("amount_requested"))
        message = req_str(body, "message", 1000)
        description = opt_str(body, "description", 500)
        reference = opt_str(body, "reference_number", 100)
        with self.lock:
            dash = self._dash(key, dashboard_id)
            contact = dash.contacts.get(phone)
            if contact is not None:
                self._sendable(contact)
            else:
                contact = self._new_contact(dash, phone)
            token = f"{self.rng.getrandbits(48):012x}"
            payment = Payment(
                self.next_id("payment"), self.now_ms(), description, phone, amount, message,
                reference, token,
            )  # fmt: skip
            dash.payments[payment.id] = payment
            self._send(dash, contact, f"{message}\n{PAY_PREFIX}{token}", "Payments")
            return self._payment_json(dash, payment)

    def mark_payment_paid(self, key: str, dashboard_id: int, payment_id: int) -> dict:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            payment = self._payment(dash, payment_id)
            self._open(payment, "mark it paid")
            payment.status = "Paid"
            self._fire_payment(dash, payment)
            return self._payment_json(dash, payment)

    def send_payment_reminder(self, key: str, dashboard_id: int, payment_id: int) -> dict:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            payment = self._payment(dash, payment_id)
            self._open(payment, "send a reminder")
            if payment.reminder_sent:
                raise bad(
                    f"A reminder was already sent for payment {payment.id}; only one is allowed"
                )
            contact = dash.contacts.get(payment.phone) or self._new_contact(dash, payment.phone)
            self._sendable(contact)
            payment.reminder_sent = True
            text = (
                f"Reminder from {dash.name}: your payment of ${payment.amount:,.2f} is still "
                f"open. Pay securely here: {PAY_PREFIX}{payment.token}"
            )
            self._send(dash, contact, text, "Payments")
            return self._payment_json(dash, payment)

    def cancel_payment(self, key: str, dashboard_id: int, payment_id: int) -> dict:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            payment = self._payment(dash, payment_id)
            self._open(payment, "cancel it")
            payment.status = "Canceled"
            self._fire_payment(dash, payment)
            contact = dash.contacts.get(payment.phone)
            if contact is not None and not contact.is_blocked and contact.opted_out_at is None:
                text = (
                    f"{dash.name}: your payment request of ${payment.amount:,.2f} has been "
                    "canceled. No payment is needed for this request."
                )
                self._send(dash, contact, text, "Payments")
            return self._payment_json(dash, payment)

    def portal_pay(
        self, key: str, dashboard_id: int, payment_id: int, outcome: str = "paid"
    ) -> dict:
        """Control API: the customer pays (or is declined) through the payment portal."""
        if outcome not in ("paid", "declined"):
            raise bad("outcome must be 'paid' or 'declined'")
        with self.lock:
            dash = self._dash(key, dashboard_id)
            payment = self._payment(dash, payment_id)
            self._open(payment, "pay it")
            if outcome == "paid":
                payment.status = "Paid"
                payment.transaction_status = "Approved"
            else:
                payment.transaction_status = "Declined"
            self._fire_payment(dash, payment)
            return self._payment_json(dash, payment)

    def pay_scheduled(self, now_ms: int | None = None, key: str | None = None) -> int:
        """The demo's customers pay, through the portal, the open requests whose ``pays_at``
        has come (fired like ``portal_pay``), of every account or the one of ``key``;
        answers how many. Run about every second by the ``serve`` command's helper
        (seeding.ScheduledPayments)."""
        paid = 0
        with self.lock:
            now_ms = self.now_ms() if now_ms is None else now_ms
            accounts = self.accounts.values() if key is None else [self.accounts[key]]
            for acct in accounts:
                for dash in acct.dashboards.values():
                    for payment in dash.payments.values():
                        # Snapshots from before ``pays_at`` existed have no such slot value.
                        pays_at = getattr(payment, "pays_at", None)
                        if pays_at is None or pays_at > now_ms:
                            continue
                        payment.pays_at = None
                        if payment.status != "Sent":
                            continue  # canceled or marked paid meanwhile
                        payment.status = "Paid"
                        payment.transaction_status = "Approved"
                        self._fire_payment(dash, payment)
                        paid += 1
            if paid:
                self.changes += 1
        return paid


def _amount(value: object) -> float:
    if value is None:
        raise bad("amount_requested is required")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad("amount_requested must be a number (dollars)")
    amount = float(value)
    if not math.isfinite(amount) or amount <= 0:
        raise bad("amount_requested must be greater than 0")
    if amount > MAX_AMOUNT:
        raise bad(f"amount_requested must be at most {MAX_AMOUNT:,.2f}")
    if abs(amount * 100 - round(amount * 100)) > 1e-6:
        raise bad("amount_requested must have at most two decimal places")
    return round(amount, 2)
