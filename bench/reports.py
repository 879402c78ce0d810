"""Benchmarks of Reports (issue 11). Writes bench/results/reports.json.

    .venv/bin/python bench/reports.py                # 100,000 conversations, 1,000,000 messages
    .venv/bin/python bench/reports.py --scale 0.1    # a tenth of that

PostgreSQL only: its own database `textdesk_bench_reports` on the server of DATABASE_URL
(default postgres://postgres@127.0.0.1:5432/textdesk), generated once and kept; a run with
another --scale regenerates it.

The data: 4 lines, 16 agents, the conversations spread evenly over the last 180 days, each a few
rounds of customer texts, replies by agents (minutes to hours later), an automated text now and
then, most rounds ending in a resolve; 1% opt-outs, 5,000 payments.

Measured: the full rebuild of the rollups (`rebuild_reports`); an incremental refresh after
1,000 new texts; server time of the Reports page for 30 days (admin, all lines; admin filtered
to one agent; an agent's own page; the htmx region; the CSV), median and p95 of --runs
requests in-process with Django's test client, and the number of queries of each.
"""

from __future__ import annotations

import argparse
import json
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

FULL_CONVERSATIONS = 100_000
FULL_MESSAGES = 1_000_000
LINES = 4
AGENTS_PER_LINE = 4
DAYS = 180
BATCH = 10_000
TARGET_P95_MS = 100


def bench_database(url: str) -> str:
    import psycopg

    base, _, _ = url.rpartition("/")
    name = recording.database("reports")
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


def generate(conversations: int, messages: int) -> None:
    from django.db import connection

    from tests.conftest import make_user
    from textdesk.contacts.models import ConsentEvent, Contact
    from textdesk.conversations.models import Conversation, Message
    from textdesk.dashboards.models import Connection, Dashboard
    from textdesk.outbox.models import Change
    from textdesk.payments.models import Payment

    rng = random.Random(11)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE dashboards_connection, accounts_user RESTART IDENTITY CASCADE")
    account = Connection(name="Bench account", api_url="http://127.0.0.1:9/api/v3")
    account.set_api_key("bench-key")
    account.save()
    lines = [
        Dashboard.objects.create(
            connection=account, dashboard_id=i + 1, name=f"Line {i + 1}", phone=f"42355500{i:02d}"
        )
        for i in range(LINES)
    ]
    agents = {
        line.pk: [
            make_user(f"agent{line.pk}-{j}", "Agent", lines=[line]) for j in range(AGENTS_PER_LINE)
        ]
        for line in lines
    }
    make_user("bench-admin", "Admin")
    now = datetime.now(tz=UTC)
    first = now - timedelta(days=DAYS)
    per_conversation = messages / conversations
    started = time.perf_counter()
    print(f"generating {conversations:,} conversations, {messages:,} messages…", flush=True)
    made = 0
    for offset in range(0, conversations, BATCH):
        size = min(BATCH, conversations - offset)
        homes = [lines[(offset + i) % LINES] for i in range(size)]
        contacts = Contact.objects.bulk_create(
            Contact(dashboard=home, phone_number=f"{2000000000 + offset + i:010d}")
            for i, home in enumerate(homes)
        )
        convs = Conversation.objects.bulk_create(
            Conversation(dashboard=home, contact=contact, last_message_at=now)
            for home, contact in zip(homes, contacts, strict=True)
        )
        rows, changes, consents = [], [], []
        for conv, contact in zip(convs, contacts, strict=True):
            count = max(int(per_conversation), 2)
            moment = first + timedelta(seconds=rng.randrange(DAYS * 86400 - 86400 * 3))
            people = agents[conv.dashboard_id]
            written = 0
            while written < count:
                for _ in range(rng.choice([1, 1, 2, 3])):
                    moment += timedelta(seconds=rng.randrange(5, 300))
                    rows.append(Message(conversation=conv, direction="R", body="Hi",
                                        sent_at=moment, status="received"))  # fmt: skip
                    written += 1
                if rng.random() < 0.1:
                    moment += timedelta(seconds=30)
                    rows.append(Message(conversation=conv, direction="S", body="Pay here",
                                        sent_at=moment, status="sent"))  # fmt: skip
                    written += 1
                person = rng.choice(people)
                moment += timedelta(seconds=int(rng.lognormvariate(6, 1.5)))
                rows.append(Message(conversation=conv, direction="S", body="Sure",
                                    sent_at=moment, status="sent", sent_by=person,
                                    sender_name=person.display_name))  # fmt: skip
                written += 1
                if rng.random() < 0.6:
                    moment += timedelta(seconds=rng.randrange(60, 7200))
                    changes.append((conv, person, moment))
                moment += timedelta(hours=rng.randrange(1, 72))
            if rng.random() < 0.01:
                consents.append(ConsentEvent(contact=contact, kind="opt_out", source="webhook",
                                             occurred_at=moment))  # fmt: skip
        made += len(rows)
        Message.objects.bulk_create(rows, batch_size=5_000)
        created = Change.objects.bulk_create(
            Change(dashboard_id=c.dashboard_id, target_model="contacts.contact",
                   target_id=c.contact_id, kind="resolve", subject="resolved", status="done",
                   created_by=p)
            for c, p, _ in changes
        )  # fmt: skip
        for change, (_, _, moment) in zip(created, changes, strict=True):
            change.created_at = moment
        Change.objects.bulk_update(created, ["created_at"], batch_size=5_000)
        ConsentEvent.objects.bulk_create(consents)
        print(f"  {offset + size:,} conversations, {made:,} messages", flush=True)
    # 90% resolved, the rest waiting since their last text; a few assigned.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE conversations_conversation SET is_resolved = (id % 10 <> 0),"
            " waiting_since = CASE WHEN id % 10 = 0 THEN now() - (id % 1000) * interval '1 hour'"
            " END"
        )
    payments = []
    for i in range(5_000):
        line = lines[i % LINES]
        payments.append(
            Payment(
                dashboard=line,
                customer_phone=f"{2000000000 + i:010d}",
                amount_requested=Decimal(rng.randrange(1_000, 50_000)) / 100,
                requested_at=first + timedelta(seconds=rng.randrange(DAYS * 86400)),
                textrequest_payment_status=rng.choice(["Paid", "Paid", "Sent", "Canceled"]),
                status="sent",
                created_by=rng.choice(agents[line.pk]),
            )
        )
    Payment.objects.bulk_create(payments)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"generated in {time.perf_counter() - started:.0f}s", flush=True)


def ensure_data(conversations: int, messages: int) -> bool:
    from textdesk.conversations.models import Conversation, Message

    have = Conversation.objects.count()
    if have == conversations and Message.objects.count() >= messages:
        return False
    generate(conversations, messages)
    return True


# --- timings ----------------------------------------------------------------------------------


def time_requests(
    client, url: str, runs: int, stream: bool = False, before=None, **headers
) -> dict:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    def once():
        response = client.get(url, **headers)
        body = b"".join(response.streaming_content) if stream else response.content
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        return body

    for _ in range(3):
        once()
    reset_queries()  # DEBUG keeps at most 9,000 queries: a full log would capture none
    with CaptureQueriesContext(connection) as ctx:
        once()
    samples = []
    for _ in range(runs):
        if before is not None:
            before()
        started = time.perf_counter()
        once()
        samples.append((time.perf_counter() - started) * 1000)
    result = {"url": url, "queries": len(ctx.captured_queries), **summary(samples)}
    result["meets_p95_target"] = result["p95_ms"] <= TARGET_P95_MS
    return result


def page_timings(runs: int) -> dict:
    from django.core.cache import cache
    from django.test import Client
    from django.urls import reverse

    from textdesk.accounts.models import User
    from textdesk.reports.tasks import refresh_reports

    admin = User.objects.get(username="bench-admin")
    agent = User.objects.filter(username__startswith="agent").order_by("pk").first()
    url = reverse("reports:show")
    admin_client, agent_client = Client(), Client()
    admin_client.force_login(admin)
    agent_client.force_login(agent)
    return {
        # A minimal signed-in page in the same run: on a shared, busy machine the ratio to it
        # says more than the milliseconds.
        "baseline_preferences_page": time_requests(
            admin_client, reverse("accounts:preferences"), runs
        ),
        "admin_30_days_all_lines": time_requests(admin_client, f"{url}?period=30", runs),
        # The first view after the rollups changed (once a minute): beat's refresh task runs
        # before every request, as it does in production, and sums the first views' histograms.
        "admin_30_days_all_lines_first_view_after_a_refresh": time_requests(
            admin_client, f"{url}?period=30", runs, before=refresh_reports
        ),
        "agent_30_days_own_first_view_after_a_refresh": time_requests(
            agent_client, f"{url}?period=30", runs, before=refresh_reports
        ),
        # For comparison: nothing cached (what every first view cost before the task warmed it).
        "admin_30_days_all_lines_nothing_cached": time_requests(
            admin_client, f"{url}?period=30", runs, before=cache.clear
        ),
        "admin_30_days_one_agent": time_requests(
            admin_client, f"{url}?period=30&agent={agent.pk}", runs
        ),
        "agent_30_days_own": time_requests(agent_client, f"{url}?period=30", runs),
        "admin_30_days_htmx_region": time_requests(
            admin_client, f"{url}?period=30", runs, HTTP_HX_REQUEST="true"
        ),
        "admin_90_days_all_lines": time_requests(
            admin_client,
            f"{url}?period=custom&start={_days_ago(89)}&end={_days_ago(0)}",
            runs,
        ),
        "csv_30_days": time_requests(
            admin_client, f"{reverse('reports:export')}?period=30", runs, stream=True
        ),
    }


def _days_ago(days: int) -> str:
    from django.utils import timezone

    return (timezone.localdate() - timedelta(days=days)).isoformat()


def refresh_timing(new_texts: int) -> dict:
    """1,000 new texts on recent conversations, then one incremental run."""
    from django.utils import timezone

    from textdesk.conversations.models import Conversation, Message
    from textdesk.reports import rollups

    rollups.refresh(now=timezone.now() + timedelta(hours=1))  # settle the rebuild's tail
    ids = list(Conversation.objects.order_by("-id").values_list("id", flat=True)[:new_texts])
    now = timezone.now()
    Message.objects.bulk_create(
        Message(conversation_id=cid, direction="R", body="New", sent_at=now, status="received")
        for cid in ids
    )
    started = time.perf_counter()
    done = rollups.refresh(now=now + timedelta(hours=1))
    seconds = time.perf_counter() - started
    return {"new_texts": len(ids), "conversations": done["conversations"], "seconds": round(
        seconds, 2)}  # fmt: skip


def vacuum() -> None:
    """What autovacuum does in a running system: a rebuild (and this bench's reruns) leaves
    the rollup tables full of dead rows."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("lineday", "agentday", "conversationday", "reply", "resolution"):
            cursor.execute(f"VACUUM ANALYZE reports_{table}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of 100,000 conversations / 1,000,000 messages")  # fmt: skip
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument(
        "--keep-rollups", action="store_true", help="time the pages on the last run's rollups"
    )
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/textdesk"
    if not url.startswith("postgres"):
        sys.exit("bench/reports.py needs PostgreSQL (DATABASE_URL=postgres://…)")
    os.environ["DATABASE_URL"] = bench_database(url)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from textdesk.conversations.models import Message
    from textdesk.reports import rollups
    from textdesk.reports.models import ConversationDay, LineDay, Reply, Resolution

    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
    call_command("migrate", verbosity=0)
    conversations = max(int(FULL_CONVERSATIONS * args.scale), 200)
    messages = max(int(FULL_MESSAGES * args.scale), 2_000)
    fresh = ensure_data(conversations, messages)
    previous = recording.results_path("reports")
    if args.keep_rollups and not fresh and previous.exists():
        rebuild_seconds = json.loads(previous.read_text())["rebuild"]["seconds"]
    else:
        print("rebuilding the rollups…", flush=True)
        started = time.perf_counter()
        rollups.rebuild()
        rebuild_seconds = time.perf_counter() - started
    vacuum()
    results = {
        "when": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "scale": args.scale,
        "conversations": conversations,
        "messages": Message.objects.count(),
        "days_of_data": DAYS,
        "target_p95_ms": TARGET_P95_MS,
        "rebuild": {
            "seconds": round(rebuild_seconds, 1),
            "conversation_days": ConversationDay.objects.count(),
            "replies": Reply.objects.count(),
            "resolutions": Resolution.objects.count(),
            "line_days": LineDay.objects.count(),
        },
        "refresh_after_new_texts": refresh_timing(1_000),
        "pages": page_timings(args.runs),
    }
    print(f"rebuild: {results['rebuild']['seconds']}s; refresh after 1,000 texts: "
          f"{results['refresh_after_new_texts']['seconds']}s")  # fmt: skip
    baseline = results["pages"]["baseline_preferences_page"]["median_ms"]
    for result in results["pages"].values():
        result["ratio_to_baseline_median"] = round(result["median_ms"] / baseline, 2)
    recording.write("reports", results)
    for name, result in results["pages"].items():
        print(f"{name:28} median {result['median_ms']:7.2f} ms  p95 {result['p95_ms']:7.2f} ms"
              f"  {result['queries']} queries")  # fmt: skip


if __name__ == "__main__":
    main()
