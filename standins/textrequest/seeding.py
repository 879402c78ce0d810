"""Seed data for the sandbox: realistic demo accounts, empty test accounts, a customer simulator.

Seeding builds the records directly (no validation path) so 50,000 contacts and 500,000
messages take a few seconds. Everything comes from ``random.Random`` seeded by the account's
``seed_value`` and id, so the same startup gives the same data.
"""

from __future__ import annotations

import itertools
import random
import threading

from .records import Contact, Group, Message, Payment, fmt_ts

DAY = 86_400_000
HOUR = 3_600_000
MINUTE = 60_000


def _line_name(lines: list[str], i: int) -> str:
    """Short, distinct names like staff give their lines: "Front Desk", "Billing", "Billing 2"."""
    name = lines[i % len(lines)]
    return name if i < len(lines) else f"{name} {i // len(lines) + 1}"


BUSINESSES = [
    ("Blue Ridge Plumbing & Heating", ["Front Desk", "Billing", "After Hours"]),
    ("Downtown Dental", ["Front Desk", "Hygiene Recall", "Billing"]),
    ("Maple Street Auto Care", ["Service Desk", "Parts", "Billing"]),
    ("Sunrise Pet Clinic", ["Reception", "Pharmacy", "Boarding"]),
]
DEMO_LINE_NUMBERS = ["4235550100", "4235550101", "4235550102"]
AREA_CODES = ["423", "615", "865", "901", "404", "678", "704", "919", "312", "512", "303", "206"]
FIRST_NAMES = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Maria",
    "Daniel",
    "Nancy",
    "Matthew",
    "Lisa",
    "Anthony",
    "Betty",
    "Mark",
    "Sandra",
    "Donald",
    "Ashley",
    "Steven",
    "Kimberly",
    "Andrew",
    "Emily",
    "Paul",
    "Donna",
    "Joshua",
    "Michelle",
    "Kevin",
    "Carol",
    "Brian",
    "Amanda",
    "George",
    "Melissa",
    "Timothy",
    "Deborah",
    "Luis",
    "Rosa",
    "Wei",
    "Aisha",
    "Priya",
    "Diego",
    "Hannah",
    "Omar",
    "Chloe",
    "Mateo",
    "Grace",
    "Ethan",
    "Zoe",
]
LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Patel",
    "Kim",
    "Chen",
    "O'Brien",
    "Schmidt",
    "Novak",
    "Okafor",
]
TAGS = [
    ("VIP", "#e11d48"),
    ("New lead", "#2563eb"),
    ("Follow up", "#f59e0b"),
    ("Warranty", "#10b981"),
    ("Commercial", "#7c3aed"),
]
EMPTY_TAGS = [("VIP", "#e11d48"), ("New lead", "#2563eb"), ("Follow up", "#f59e0b")]
FIELDS = ["Customer ID", "Service address", "Preferred technician"]
STREETS = ["Oak St", "Maple Ave", "Cedar Ln", "Riverside Dr", "Hillcrest Rd", "Main St", "Elm Ct"]
TECHS = ["Marcus", "Dana", "Luis", "Priya", "Tom"]
STAFF = ["Dana Whitfield", "Marcus Lee", "Priya Raman", "Front Desk"]
NOTES = [
    "Prefers texts after 5pm.",
    "Has a dog, call before arriving.",
    "Gate code 4412.",
    "Referred by a neighbour.",
    "Commercial account, net 30.",
]
DIALOGUES = [
    [
        ("R", "Hi, my water heater is making a banging noise. Can someone take a look?"),
        (
            "S",
            "Sorry to hear that! We have an opening tomorrow between 9 and 11am. Does that work?",
        ),
        ("R", "Tomorrow morning works. Thank you!"),
        ("S", "You're booked. Our tech will text when he's on the way."),
        ("R", "Great, see you then."),
        ("S", "Your technician Marcus is on the way, about 20 minutes out."),
        ("R", "Thanks, the gate is open."),
        ("S", "All done! Let us know if the noise comes back."),
    ],
    [
        ("S", "Hi! This is a reminder of your appointment on Thursday at 2pm. Reply C to confirm."),
        ("R", "C"),
        ("S", "Thanks, you're confirmed. See you Thursday!"),
        ("R", "Can I move it to 3pm instead?"),
        ("S", "3pm works. I've updated your appointment."),
        ("R", "Perfect, thank you"),
    ],
    [
        ("R", "How much do you charge for a drain cleaning?"),
        ("S", "A standard drain cleaning is $149, including the first hour."),
        ("R", "Ok. Do you have anything this week?"),
        ("S", "We can come Friday afternoon. Want me to book it?"),
        ("R", "Yes please"),
        ("S", "Done! You'll get a confirmation text the day before."),
    ],
    [
        ("S", "Thanks for choosing us! How did we do today? Reply 1-5."),
        ("R", "5"),
        ("S", "Thank you! Would you mind leaving us a review? It helps a lot."),
        ("R", "Sure, just did 👍"),
        ("S", "Much appreciated, have a great week!"),
    ],
    [
        ("R", "Is my invoice from last week paid? I thought I paid online."),
        ("S", "Let me check... yes, we received your payment on the 12th. Thank you!"),
        ("R", "Great, thanks for checking"),
    ],
    [
        ("R", "There's a leak under the kitchen sink, it's getting worse"),
        ("S", "Can you send a photo of the leak?"),
        ("R", "Here you go"),
        ("S", "Thanks. That looks like the supply line. We can fix it today at 4pm."),
        ("R", "Please do, I'll be home"),
        ("S", "Tech is scheduled for 4pm. Turn off the valve under the sink until then."),
    ],
]
CUSTOMER_LINES = [
    "Hi, are you open on Saturday?",
    "Can you send me a quote for a new faucet?",
    "Running 10 minutes late, sorry!",
    "Thanks again for the quick fix",
    "What time is my appointment tomorrow?",
    "Do you take credit cards?",
    "The toilet is running again 😩",
    "Is the technician on the way?",
    "Can I reschedule to next week?",
    "👍",
]
PAYMENT_STATES = [
    # (textrequest status, transaction status, days ago, reminder sent, the customer pays it
    # in the portal soon after the sandbox starts: textdesk reads it open, then sees it paid)
    ("Sent", "Unknown", 1, False, False),
    ("Sent", "Unknown", 10, False, False),
    ("Sent", "Unknown", 8, True, False),
    ("Sent", "Unknown", 3, True, True),
    ("Sent", "Unknown", 2, False, True),
    ("Sent", "Unknown", 5, False, True),
    ("Sent", "Unknown", 9, True, True),
    ("Paid", "Approved", 25, False, False),
    ("Paid", "Unknown", 40, False, False),
    ("Canceled", "Unknown", 6, False, False),
    ("Sent", "Declined", 2, False, False),
]
# The demo's history: 90 days of a small business open 8:00-18:00 on weekdays (local time).
HISTORY_DAYS = 90
OPEN_HOUR, CLOSE_HOUR = 8, 18
# Payments of the last days are still open at the start; most are paid in the portal within
# PAY_SOON seconds of it (``Payment.pays_at``), as textdesk watches.
OPEN_DAYS = 12
PAY_SOON = (20, 120)
PAYMENT_TEXTS = [
    ("Drain cleaning", 149.0),
    ("Water heater repair", 385.0),
    ("Housecall for plumbing services", 220.5),
    ("Faucet installation", 189.99),
    ("Annual maintenance plan", 120.0),
    ("Sewer line camera inspection", 640.0),
]
MMS_PREFIX = "https://mms.textrequest.com/"


def seed_demo_accounts(backend, *, contacts=None, messages=None, dashboards=None, seed_value=0):
    """The startup state of ``serve``: the demo account and a smaller second one."""
    from .backend import DEMO2_API_KEY, DEMO_API_KEY

    seed_account(backend, backend.new_account_record(DEMO_API_KEY), "demo", contacts, messages,
                 dashboards, seed_value, business=0)  # fmt: skip
    seed_account(backend, backend.new_account_record(DEMO2_API_KEY), "demo", 24, 160, 1,
                 seed_value, business=1)  # fmt: skip


def _business_time(at: int, offset: int) -> int:
    """``at`` if the business is open then, else its next opening (``offset``: local - UTC)."""
    day, ms = divmod(at + offset, DAY)
    if ms < OPEN_HOUR * HOUR:
        ms = OPEN_HOUR * HOUR
    elif ms >= CLOSE_HOUR * HOUR:
        day, ms = day + 1, OPEN_HOUR * HOUR
    while (day + 3) % 7 >= 5:  # day 0 (1970-01-01) was a Thursday: skip Saturday, Sunday
        day, ms = day + 1, OPEN_HOUR * HOUR
    return day * DAY + ms - offset


def _thread_times(rng: random.Random, directions: list[str], now: int, offset: int) -> list[int]:
    """When each text of a thread was sent, within the last HISTORY_DAYS (more of them
    recent): customers text at any hour of the day; staff answer within business hours,
    within minutes, and on a slow day (about one reply in twelve) after hours."""
    day = (now + offset) // DAY - int(rng.random() ** 1.6 * HISTORY_DAYS)
    at = day * DAY + rng.randint(7 * 60, 22 * 60) * MINUTE - offset
    times = []
    prev = None
    for direction in directions:
        if prev is not None:
            if direction == "S" and prev == "R":
                at = _business_time(at, offset)
                slow = rng.random() < 0.08
                at += (rng.randint(90, 300) if slow else rng.randint(2, 30)) * MINUTE
            elif direction == "R":
                at += (
                    rng.randint(3, 90) * MINUTE if rng.random() < 0.7 else rng.randint(3, 40) * HOUR
                )
            else:  # staff texts again (a reminder, "on the way"): business hours
                at = _business_time(at + rng.randint(1, 48) * HOUR, offset)
        times.append(at)
        prev = direction
    late = times[-1] - (now - 5 * MINUTE)
    if late > 0:  # whole weeks back: the same weekdays and hours
        weeks = -(-late // (7 * DAY))
        times = [t - weeks * 7 * DAY for t in times]
    return times


def _utc_offset(acct) -> int:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return int(datetime.now(ZoneInfo(acct.timezone)).utcoffset().total_seconds() * 1000)


def _guid(rng: random.Random) -> str:
    s = f"{rng.getrandbits(128):032x}"
    return f"{s[:8]}-{s[8:12]}-4{s[13:16]}-a{s[17:20]}-{s[20:]}"


def seed_account(backend, acct, kind, contacts, messages, dashboards, seed_value, business=None):
    """Fill ``acct``: ``empty`` (lines with tags and fields only) or ``demo`` (lived-in)."""
    rng = random.Random(seed_value * 1_000_003 + acct.id)
    if business is None:
        business = rng.randrange(len(BUSINESSES))
    _company, lines = BUSINESSES[business]
    if kind == "empty":
        for i in range(1 if dashboards is None else dashboards):
            dash = backend.new_dashboard_record(acct, _line_name(lines, i))
            for name, color in EMPTY_TAGS:
                tag = {"id": _guid(rng), "tag_color": color, "tag": name}
                dash.tags[tag["id"]] = tag
            for name in FIELDS[:2]:
                field = {"id": _guid(rng), "name": name}
                dash.fields[field["id"]] = field
        return
    n_dash = 3 if dashboards is None else dashboards
    n_contacts = 60 if contacts is None else contacts
    n_messages = 600 if messages is None else messages
    weights = [0.5, 0.3, 0.2][:n_dash] if n_dash <= 3 else [1.0 / n_dash] * n_dash
    total = sum(weights) or 1
    for i in range(n_dash):
        phone = None
        if (
            acct.key == _demo_key()
            and i < len(DEMO_LINE_NUMBERS)
            and DEMO_LINE_NUMBERS[i] not in backend.phones_in_use
        ):
            phone = DEMO_LINE_NUMBERS[i]
        name = _line_name(lines, i)
        dash = backend.new_dashboard_record(acct, name, phone)
        if i == n_dash - 1:
            nc = n_contacts - sum(int(n_contacts * w / total) for w in weights[:-1])
            nm = n_messages - sum(int(n_messages * w / total) for w in weights[:-1])
        else:
            nc = int(n_contacts * weights[i] / total)
            nm = int(n_messages * weights[i] / total)
        _seed_dashboard(backend, dash, rng, nc, nm)


def _demo_key() -> str:
    from .backend import DEMO_API_KEY

    return DEMO_API_KEY


def _seed_dashboard(backend, dash, rng: random.Random, n_contacts: int, n_messages: int) -> None:
    now = backend.now_ms()
    offset = _utc_offset(dash.account)
    for name, color in TAGS:
        tag = {"id": _guid(rng), "tag_color": color, "tag": name}
        dash.tags[tag["id"]] = tag
    tag_ids = list(dash.tags)
    field_ids = []
    for name in FIELDS:
        field = {"id": _guid(rng), "name": name}
        dash.fields[field["id"]] = field
        field_ids.append(field["id"])
    newsletter = Group(backend.next_id("group"), "Newsletter", "Monthly tips and offers.")
    newsletter.last_message_sent_at = now - 3 * DAY - 4 * HOUR
    vip = Group(backend.next_id("group"), "VIP Customers", "Priority scheduling.")
    winter = Group(backend.next_id("group"), "WINTER", "Keyword group: texted WINTER", "WINTER")
    for group in (newsletter, vip, winter):
        dash.groups[group.id] = group

    # Unique, valid NANP contact numbers; never ending in 0000 (the sandbox's landline).
    phones: list[str] = []
    seen = set(dash.contacts)
    while len(phones) < n_contacts:
        number = f"{rng.choice(AREA_CODES)}{rng.randint(200, 999)}{rng.randint(1, 9999):04d}"
        if number not in seen:
            seen.add(number)
            phones.append(number)

    n_conv = min(n_messages, max(1, round(n_contacts * 0.9))) if n_contacts and n_messages else 0
    counts = [1] * n_conv
    if n_conv and n_messages > n_conv:
        cum = list(itertools.accumulate(rng.expovariate(1.0) + 0.05 for _ in range(n_conv)))
        for idx in rng.choices(range(n_conv), cum_weights=cum, k=n_messages - n_conv):
            counts[idx] += 1

    contacts: list[Contact] = []
    getrandbits, random_ = rng.getrandbits, rng.random
    for i, phone in enumerate(phones):
        c = Contact(phone, 0, backend.next_id("conversation"))
        if random_() < 0.92:
            c.first_name = rng.choice(FIRST_NAMES)
            c.last_name = rng.choice(LAST_NAMES)
            c.display_name = f"{c.first_name} {c.last_name}"
        if random_() < 0.45:
            c.tags = rng.sample(tag_ids, rng.randint(1, 2))
        if random_() < 0.7:
            c.custom_fields[field_ids[0]] = f"CUST-{10000 + i}"
        if random_() < 0.35:
            c.custom_fields[field_ids[1]] = f"{rng.randint(10, 9999)} {rng.choice(STREETS)}"
        if random_() < 0.2:
            c.custom_fields[field_ids[2]] = rng.choice(TECHS)
        if random_() < 0.1:
            c.note = rng.choice(NOTES)
        for group, share in ((newsletter, 0.3), (vip, 0.08), (winter, 0.1)):
            if random_() < share:
                group.members.add(phone)
                c.groups.append(group.id)
        if random_() < 0.02:
            c.is_suppressed = True
            c.suppressed_reason = "Marked as spam"
        if i < n_conv:
            k = counts[i]
            dialogue = rng.choice(DIALOGUES)
            opted_out = random_() < 0.04
            directions = [dialogue[j % len(dialogue)][0] for j in range(k)]
            if opted_out:
                directions[-1] = "R"
            times = _thread_times(rng, directions, now, offset)
            prev_dir = None
            msgs = c.messages
            for j, at in enumerate(times):
                direction, body = dialogue[j % len(dialogue)]
                if opted_out and j == k - 1:
                    direction, body = "R", "STOP"
                s = f"{getrandbits(128):032x}"
                mid = f"{s[:8]}-{s[8:12]}-4{s[13:16]}-a{s[17:20]}-{s[20:]}"
                media = ()
                status, error, user = "delivered", None, None
                if direction == "R":
                    if random_() < 0.06 or body == "Here you go":
                        media = (f"{MMS_PREFIX}seed/{s[:12]}.jpg",)
                    c.last_received_at = at
                    c.total_received += 1
                    if prev_dir == "S":
                        c.response_count += 1
                else:
                    user = rng.choice(STAFF)
                    if random_() < 0.02:
                        status, error = "error", "Carrier rejected the message"
                    c.last_sent_at = at
                    c.total_sent += 1
                msgs.append(
                    Message(
                        mid, direction, body, user, at + j, status, error, media, phone, dash.id
                    )
                )
                prev_dir = direction
            c.first_contact_at = msgs[0].at
            c.created_at = msgs[0].at - rng.randint(0, 3 * DAY)
            last_dir = msgs[-1].direction
            c.is_resolved = random_() < (0.7 if last_dir == "S" else 0.15)
            if opted_out:
                c.opted_out_at = msgs[-1].at
                c.is_archived = True
            elif random_() < 0.08:
                c.is_archived = True
                c.is_resolved = True
            if random_() < 0.01:
                c.is_blocked = True
        else:
            c.created_at = now - rng.randint(1, 60 * DAY)
        contacts.append(c)

    contacts.sort(key=lambda c: c.created_at)
    for c in contacts:
        dash.contacts[c.phone] = c
    dash.index.add_many(contacts)
    with_messages = [c for c in contacts if c.messages]
    with_messages.sort(key=lambda c: c.messages[-1].at)
    for c in with_messages:
        dash.conv_order[c.phone] = c
        dash.index.moved(c.phone)

    payable = [c for c in with_messages if c.opted_out_at is None and not c.is_blocked]
    _seed_scheduled(backend, dash, payable, now)
    if not payable:
        return
    states = list(PAYMENT_STATES)
    for _ in range(min(200, max(4, n_contacts // 5))):
        days = int(random_() ** 1.3 * HISTORY_DAYS)
        if days <= OPEN_DAYS:
            states.append(("Sent", "Unknown", days, days >= 4 and random_() < 0.3, random_() < 0.7))
        else:
            r = random_()
            status = "Paid" if r < 0.8 else "Canceled" if r < 0.9 else "Sent"
            transaction = "Approved" if status == "Paid" and random_() < 0.85 else "Unknown"
            states.append((status, transaction, days, status == "Sent", False))
    for status, transaction, days, reminded, pays in states:
        c = rng.choice(payable)
        description, amount = rng.choice(PAYMENT_TEXTS)
        payment = Payment(
            backend.next_id("payment"),
            now - days * DAY - rng.randint(0, 8) * HOUR,
            description,
            c.phone,
            amount,
            "Thanks for your business! Please use the link below to pay your balance.",
            f"INV-{rng.randint(1000, 9999)}",
            f"{rng.getrandbits(48):012x}",
        )
        payment.status = status
        payment.transaction_status = transaction
        payment.reminder_sent = reminded
        if pays:
            payment.pays_at = now + rng.randint(*PAY_SOON) * 1000
        dash.payments[payment.id] = payment


SCHEDULED_TEXTS = [
    # (days ahead, hour in the line's day, recurrence, body)
    (1, 9, None, "Reminder: your technician arrives tomorrow between 9 and 11 AM."),
    (3, 14, None, "Your water heater's annual flush is due. Reply YES to book a visit."),
    (7, 10, "weekly", "This week's maintenance slots are open. Reply with a day that suits you."),
]


def _seed_scheduled(backend, dash, contacts: list, now: int) -> None:
    """A few messages scheduled in Text Request's own app (GetScheduledMessages), from a
    random source of their own so the rest of the seed stays as it was."""
    if not contacts:
        return
    rng = random.Random(dash.id * 7919)
    offset = _utc_offset(dash.account)
    for days, hour, recurrence, body in SCHEDULED_TEXTS:
        contact = rng.choice(contacts)
        day_start = (now + offset) // DAY * DAY - offset
        dash.scheduled.append(
            {
                "id": backend._scheduled_id(),
                "phone_number": contact.phone,
                "body": body,
                "send_at": fmt_ts(day_start + days * DAY + hour * HOUR),
                "is_recurring": recurrence is not None,
                "recurrence": recurrence,
                "sender_name": rng.choice(STAFF),
            }
        )


class ScheduledPayments:
    """Every second, the demo's customers pay the requests whose time has come
    (``Backend.pay_scheduled``): textdesk, having read them open, sees them paid."""

    def __init__(self, backend, every: float = 1.0):
        self.backend = backend
        self.every = every
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="sandbox-payers", daemon=True)

    def start(self) -> ScheduledPayments:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.backend.pay_scheduled()
            except Exception:  # noqa: BLE001, S112 - never stop the server
                continue


class CustomerSimulator:
    """Every ``every`` seconds a seeded customer of the account texts in something plausible."""

    def __init__(self, backend, api_key: str, every: float, seed: int = 0):
        self.backend = backend
        self.api_key = api_key
        self.every = every
        # kept in the backend's state, so a restarted sandbox's customers carry on
        self.rng = backend.simulator_rngs.setdefault(api_key, random.Random(seed))
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="sandbox-customers", daemon=True)

    def start(self) -> CustomerSimulator:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def tick(self) -> dict | None:
        with self.backend.lock:
            acct = self.backend.accounts.get(self.api_key)
            if acct is None or not acct.dashboards:
                return None
            dash = self.rng.choice(list(acct.dashboards.values()))
            candidates = [
                c for c in dash.contacts.values() if not c.is_blocked and c.opted_out_at is None
            ]
            if not candidates:
                return None
            contact = self.rng.choice(candidates[-200:])
            body = self.rng.choice(CUSTOMER_LINES)
            return self.backend.inbound(self.api_key, dash.id, contact.phone, body)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.tick()
            except Exception:  # noqa: BLE001, S112 - the simulator must never stop the server
                continue
