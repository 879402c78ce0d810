"""Benchmarks of the finance workspace (issue 10). Writes bench/results/payments.json.

    .venv/bin/python bench/payments.py                # 100,000 payments
    .venv/bin/python bench/payments.py --scale 0.1    # a tenth of that
    .venv/bin/python bench/payments.py --skip-sync    # server timings only

Two parts:

1. **Server time** on PostgreSQL with 100,000 payments on 4 lines (its own database
   `textdesk_bench_payments` beside DATABASE_URL's, generated once and kept): the list (default,
   filtered, searched, a later keyset page), the summary and the charts, as a Finance user, in
   process with Django's test client; median and p95 of --runs requests, the number of queries
   of each, and a minimal logged-in page in the same run as the baseline. Target: p95 <= 50 ms.
2. **Calls of the payments sync** against the sandbox (2 lines, the demo seed's payments):
   calls per idle incremental cycle with the every-cycle freshness read, the five-minute total
   against what the previous schedule spent (a walk newest first down to the oldest open
   payment every 5 minutes, replayed here with the same client), and the cycle after a
   customer pays in the portal.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "textdesk.settings")

from bench import recording  # noqa: E402

FULL_PAYMENTS = 100_000
LINES = 4
BATCH = 5_000
TARGET_P95_MS = 50  # issue 23 (was 100)


def bench_database(url: str) -> str:
    import psycopg

    base, _, _ = url.rpartition("/")
    name = recording.database("payments")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def summary(samples_ms: list[float]) -> dict:
    return {
        "runs": len(samples_ms),
        "median_ms": round(statistics.median(samples_ms), 2),
        "p95_ms": round(percentile(samples_ms, 95), 2),
        "max_ms": round(max(samples_ms), 2),
    }


# --- data -------------------------------------------------------------------------------------


def generate(payments: int) -> None:
    """4 lines, a contact per 5 payments, 6 requesters (and Text Request itself), two years of
    requests; older ones mostly paid, the newest mostly open."""
    from django.db import connection

    from tests.conftest import make_user
    from textdesk.contacts.models import Contact
    from textdesk.dashboards.models import Connection, Dashboard
    from textdesk.payments.models import Payment

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE dashboards_connection, accounts_user RESTART IDENTITY CASCADE")
    account = Connection(name="Bench account", api_url="http://127.0.0.1:9/api/v3")
    account.set_api_key("bench-key")
    account.save()
    lines = [
        Dashboard.objects.create(
            connection=account, dashboard_id=i + 1, name=name, phone=f"42355500{i:02d}"
        )  # fmt: skip
        for i, name in enumerate(["Front desk", "Billing", "Service", "Parts"][:LINES])
    ]
    people = [make_user(f"staff{i}", "Agent", lines=lines) for i in range(6)]
    make_user("bench-finance", "Finance")
    first = ["Avery", "Jordan", "Casey", "Riley", "Morgan", "Quinn", "Taylor", "Marisol",
             "Priya", "Dmitri", "Nancy", "Carol", "Mark", "David", "Omar", "Lena"]  # fmt: skip
    last = ["Smith", "Lopez", "Clark", "Miller", "Torres", "Nguyen", "Patel", "Schmidt",
            "Brown", "Marsh", "Kim", "Okafor", "Rossi", "Larsen"]  # fmt: skip
    rng = random.Random(10)
    now = datetime.now(tz=UTC)
    started = time.perf_counter()
    contacts_per_line = max(10, payments // 5 // LINES)
    contacts = {}
    for line in lines:
        made = Contact.objects.bulk_create(
            Contact(
                dashboard=line,
                phone_number=f"{3000000000 + line.pk * 1_000_000 + i:010d}",
                first_name=first[i % len(first)],
                last_name=last[i // len(first) % len(last)],
            )
            for i in range(contacts_per_line)
        )
        contacts[line.pk] = made
    print(f"generating {payments:,} payments…", flush=True)
    batch = []
    for n in range(payments):
        line = lines[n % LINES]
        contact = contacts[line.pk][rng.randrange(contacts_per_line)]
        age = timedelta(seconds=rng.uniform(0, 730 * 86400))
        requested = now - age
        days = age.total_seconds() / 86400
        roll = rng.random()
        open_share = 0.9 if days < 3 else 0.35 if days < 30 else 0.08
        if roll < 0.02:
            tr_status, outbox = "", Payment.Status.FAILED
        elif roll < 0.02 + open_share:
            tr_status, outbox = "Sent", Payment.Status.SENT
        elif roll < 0.1 + open_share:
            tr_status, outbox = "Canceled", Payment.Status.SENT
        else:
            tr_status, outbox = "Paid", Payment.Status.SENT
        closed = None
        if tr_status in ("Paid", "Canceled"):
            closed = min(now, requested + timedelta(days=rng.expovariate(1 / 4)))
        requester = people[n % len(people)] if n % 10 < 7 else None
        batch.append(
            Payment(
                dashboard=line,
                contact=contact,
                payment_id=n + 1 if outbox != Payment.Status.FAILED else None,
                customer_phone=contact.phone_number,
                amount_requested=Decimal(rng.randrange(500, 250_000)) / 100,
                message="Your invoice from Blue Ridge Dental",
                description="Cleaning" if n % 3 else "",
                reference_number=f"INV-{n:06d}",
                recipient=f"{contact.first_name} {contact.last_name}",
                requested_at=requested,
                is_past_due=tr_status == "Sent" and days > 7,
                reminder_was_sent=tr_status == "Sent" and n % 4 == 0,
                transaction_status="Approved" if tr_status == "Paid" else "Unknown",
                textrequest_payment_status=tr_status,
                status=outbox,
                created_by=requester,
                closed_at=closed,
                synced_at=now,
            )
        )
        if len(batch) >= BATCH:
            Payment.objects.bulk_create(batch)
            batch = []
    if batch:
        Payment.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"generated in {time.perf_counter() - started:.0f}s", flush=True)


def ensure_data(payments: int) -> None:
    from textdesk.payments.models import Payment

    if Payment.objects.filter(dashboard__connection__name="Bench account").count() != payments:
        generate(payments)


# --- server timings ---------------------------------------------------------------------------


def time_requests(client, url: str, runs: int, **headers) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        client.get(url, **headers)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, **headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, f"{url} answered {response.status_code}"
    with CaptureQueriesContext(connection) as queries:
        client.get(url, **headers)
    return {"url": url, "queries": len(queries.captured_queries), **summary(samples)}


def server_timings(runs: int) -> dict:
    from django.test import Client
    from django.urls import reverse

    from textdesk.accounts.models import User
    from textdesk.dashboards.models import Dashboard
    from textdesk.payments import listing
    from textdesk.payments.models import Payment

    client = Client()
    client.force_login(User.objects.get(username="bench-finance"))
    htmx = {"HTTP_HX_REQUEST": "true"}
    line = Dashboard.objects.order_by("pk").first()
    person = User.objects.get(username="staff2")
    list_url = reverse("payments:list")
    _, cursor = listing.page(Payment.objects.all(), sort="date", direction="desc")
    first_page = f"?after={cursor}"
    filtered = f"?state=open&line={line.pk}&sort=amount&dir=desc"
    results = {
        "baseline (preferences page)": time_requests(client, reverse("accounts:preferences"), runs),
        "list: newest first": time_requests(client, list_url, runs),
        "list: next keyset page": time_requests(client, list_url + first_page, runs, **htmx),
        "list: open on one line by amount": time_requests(client, list_url + filtered, runs),
        "list: requester and date range": time_requests(
            client,
            list_url + f"?requester={person.pk}&requested_from=2026-01-01&requested_to=2026-06-30"
            "&amount_min=100&sort=customer&dir=asc",
            runs,
        ),
        "list: search a name": time_requests(client, list_url + "?q=Marisol+Okafor", runs),
        "list: search a reference": time_requests(client, list_url + "?q=INV-04211", runs),
        "summary: every payment": time_requests(client, reverse("payments:summary"), runs, **htmx),
        "summary: open on one line": time_requests(
            client, reverse("payments:summary") + filtered, runs, **htmx
        ),
        "charts: every payment": time_requests(client, reverse("payments:charts"), runs, **htmx),
        "follow-up queue": time_requests(client, reverse("payments:follow_up"), runs),
    }
    return results


# --- sync calls -------------------------------------------------------------------------------


def sync_calls(contacts: int) -> dict:
    """Calls of the payments sync against the sandbox (lines of the demo seed)."""
    from django.conf import settings
    from django.utils import timezone

    from standins.textrequest.testing import SandboxServer
    from textdesk.dashboards.models import Connection, Dashboard, SyncState
    from textdesk.dashboards.sync import sync_dashboards
    from textdesk.payments.models import Payment
    from textdesk.sync.engine import run_sync

    Connection.objects.filter(name="bench-sync").delete()  # a previous run's
    window = 2.0
    settings.TEXTDESK_RATE_LIMIT_HEADROOM = window / 60.0
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with SandboxServer(rate_limit=100, rate_window=window, delivery_delay=0.0) as sandbox:
        control = sandbox.control
        key, dashboard_ids = control.new_account(
            seed="demo", contacts=contacts, messages=contacts, dashboards=2
        )
        connection = Connection(name="bench-sync", api_url=sandbox.api_url, rate_limit=100,
                                rate_window=window)  # fmt: skip
        connection.set_api_key(key)
        connection.save()
        sync_dashboards(connection)
        lines = list(Dashboard.objects.filter(connection=connection).order_by("dashboard_id"))
        for line in lines:
            run_sync(line, wait=True)

        def counted(fn) -> dict:
            before = control.counters(key)["calls"]
            fn()
            after = control.counters(key)["calls"]
            return {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)}

        def cycle() -> None:
            for line in lines:
                run_sync(line, wait=True)

        per_line = {}
        for line in lines:
            dash = sandbox.backend.dashboards[line.dashboard_id]
            items = sorted(dash.payments.values(), key=lambda p: (p.request_at, p.id), reverse=True)
            open_ranks = [i for i, p in enumerate(items) if p.status == "Sent"]
            per_line[line.dashboard_id] = {
                "payments": len(items),
                "open": len(open_ranks),
                # The previous schedule: newest first until every open payment was passed.
                "previous_walk_pages": (max(open_ranks) // 100 + 1) if open_ranks else 1,
            }
        idle = counted(cycle)
        # Five minutes of idle cycles (10 × 30 s), the newest-first read coming due once.
        SyncState.objects.filter(dashboard__in=lines, resource="payments").update(
            cursor={"new_at": (timezone.now() - timedelta(minutes=6)).isoformat()}
        )
        five_minutes = counted(lambda: [cycle() for _ in range(10)])
        previous = sum(10 + v["previous_walk_pages"] for v in per_line.values())
        # The same five minutes on quiet lines: nothing requested or reminded for 15 minutes
        # (the seed requests some just now; here their request times are moved back, which is
        # what 15 quiet minutes would do), so the open payments wait for the five-minute read.
        Payment.objects.filter(dashboard__in=lines).update(reminder_sent_at=None)
        Payment.objects.filter(
            dashboard__in=lines, requested_at__gt=timezone.now() - timedelta(minutes=16)
        ).update(requested_at=timezone.now() - timedelta(minutes=16))
        SyncState.objects.filter(dashboard__in=lines, resource="payments").update(
            cursor={"new_at": (timezone.now() - timedelta(minutes=6)).isoformat()}
        )
        quiet = counted(lambda: [cycle() for _ in range(10)])
        # A customer pays a payment requested a minute ago in the portal: paid after one cycle?
        oldest = (
            Payment.objects.filter(Payment.OPEN, dashboard=lines[0], payment_id__isnull=False)
            .order_by("requested_at")
            .first()
        )
        Payment.objects.filter(pk=oldest.pk).update(
            requested_at=timezone.now() - timedelta(minutes=1)
        )
        control.pay(key, lines[0].dashboard_id, oldest.payment_id)
        paid_cycle = counted(cycle)
        oldest.refresh_from_db()
        return {
            "lines": per_line,
            "idle_cycle_calls": idle,
            "idle_cycle_calls_total": sum(idle.values()),
            "five_minutes_calls": five_minutes,
            "five_minutes_calls_total": sum(five_minutes.values()),
            "previous_schedule_five_minutes_calls_total": previous,
            "five_minutes_cycles": 10,
            "quiet_five_minutes_calls": quiet,
            "quiet_five_minutes_calls_total": sum(quiet.values()),
            "quiet_note": "no payment requested or reminded in the last 15 minutes: the open "
            "payments are read with the five-minute read of new ones (payments/sync.py)",
            "previous_schedule_note": "10 conversation reads per line + one newest-first walk "
            "per line down to the oldest open payment",
            "portal_payment_cycle_calls": paid_cycle,
            "portal_payment_paid_after_one_cycle": oldest.is_paid,
            "portal_payment_note": "a payment requested a minute before (older ones are read "
            "within five minutes)",
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 100,000 payments")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--sync-contacts", type=int, default=5000)
    parser.add_argument("--skip-sync", action="store_true")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/textdesk"
    if not url.startswith("postgres"):
        sys.exit("bench/payments.py needs PostgreSQL (DATABASE_URL=postgres://…)")
    os.environ["DATABASE_URL"] = bench_database(url)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
    call_command("migrate", verbosity=0)
    payments = max(int(FULL_PAYMENTS * args.scale), 500)
    ensure_data(payments)
    results = {
        "when": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "payments": payments,
        "target_p95_ms": TARGET_P95_MS,
        "server": server_timings(args.runs),
    }
    if not args.skip_sync:
        results["sync"] = sync_calls(args.sync_contacts)
    recording.write("payments", results)
    for name, result in results["server"].items():
        print(f"{name:36} median {result['median_ms']:7.2f} ms  p95 {result['p95_ms']:7.2f} ms"
              f"  {result['queries']} queries")  # fmt: skip
    if "sync" in results:
        sync = results["sync"]
        print(f"idle cycle: {sync['idle_cycle_calls']}")
        previous = sync["previous_schedule_five_minutes_calls_total"]
        print(f"five minutes: {sync['five_minutes_calls_total']} calls (previous {previous}); "
              f"quiet lines {sync['quiet_five_minutes_calls_total']}")  # fmt: skip
        print(f"portal payment cycle: {sync['portal_payment_cycle_calls']}, paid after one "
              f"cycle: {sync['portal_payment_paid_after_one_cycle']}")  # fmt: skip


if __name__ == "__main__":
    main()
