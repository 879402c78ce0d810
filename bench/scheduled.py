"""Benchmark of scheduled texts (issue 26's figures).

    .venv/bin/python bench/scheduled.py [--due 1000] [--pending 100000] [--scale 1.0]

1. **A batch due at once**: ``--due`` texts on one account, all due within the same minute,
   released by beat (``release_due``) and sent through the outbox at sync priority while an
   agent replies now and then on the same account. Afterwards: every text sent exactly once
   (``duplicates``: texts the stand-in received more than once), no 429, the calls granted in
   any window never above sync's allowance plus the agent's calls (the reserve kept), and the
   agent's reply latency (p95 target 3 s: the time until Text Request had the text).
2. **Many pending**: the inbox page, a thread and the Scheduled view, timed (server time,
   Django's test client) before and after ``--pending`` texts are scheduled on the line.

Runs on a fresh SQLite database in a temporary state directory with eager tasks and the file
limiter, against the Text Request stand-in. The stand-in's window is shortened (``--window``
seconds, the limiter's headroom and beat's cadence scaled with it) so a run is quick: calls,
429s and duplicates do not depend on the window's length; the time the batch needs at the real
100 calls / 60 s is computed from the sync allowance. Beat is played by a loop that calls
``release_due`` and the outbox sweeper (which re-sends texts the limiter held back) at beat's
cadences scaled the same way. Writes ``bench/results/scheduled.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import recording  # noqa: E402

REAL_WINDOW = 60.0
BEAT_EVERY = 15.0  # send-due-texts and sweep-outbox run every 15 s (textdesk/celery.py)
BATCH = 5000
PAGE = 50  # the Scheduled view's page


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def summary_ms(samples: list[float]) -> dict:
    return {
        "runs": len(samples),
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(percentile(samples, 95), 2),
        "max_ms": round(max(samples), 2),
    }


def make_conversations(line, count: int) -> list[int]:
    """``count`` conversations on ``line``, each with one text from the customer."""
    from django.utils import timezone

    from textdesk.contacts.models import Contact
    from textdesk.conversations.models import Conversation, Message

    now = timezone.now()
    ids: list[int] = []
    for offset in range(0, count, BATCH):
        size = min(BATCH, count - offset)
        contacts = Contact.objects.bulk_create(
            Contact(
                dashboard=line,
                phone_number=f"{6155000000 + offset + i:010d}",
                first_name=f"Customer {offset + i}",
            )
            for i in range(size)
        )
        conversations = Conversation.objects.bulk_create(
            Conversation(
                dashboard=line,
                contact=contact,
                last_message_at=now - timedelta(minutes=offset + i),
                last_message_preview="Can you come on Tuesday?",
                last_message_direction="R",
                history_synced_at=now,
            )
            for i, contact in enumerate(contacts)
        )
        Message.objects.bulk_create(
            Message(
                conversation=conversation,
                direction="R",
                body="Can you come on Tuesday?",
                sent_at=now - timedelta(minutes=offset + i),
                status=Message.Status.RECEIVED,
                message_id=str(uuid.uuid4()),
            )
            for i, conversation in enumerate(conversations)
        )
        ids.extend(c.pk for c in conversations)
    return ids


def schedule_rows(line, conversation_ids: list[int], numbers, due_of, body_of, agent) -> None:
    """The scheduled texts numbered ``numbers`` (text ``i`` goes to conversation ``i mod n``:
    spread evenly), made directly: the service refuses a time in the past, and one row at a
    time would take long."""
    from textdesk.conversations.models import ScheduledText

    n = len(conversation_ids)
    numbers = list(numbers)
    for offset in range(0, len(numbers), BATCH):
        ScheduledText.objects.bulk_create(
            ScheduledText(
                dashboard=line,
                conversation_id=conversation_ids[i % n],
                contact_name=f"Customer {i % n}",
                body=body_of(i),
                due_at=due_of(i),
                time_zone="America/New_York",
                client_key=uuid.uuid4(),
                created_by=agent,
            )
            for i in numbers[offset : offset + BATCH]
        )


def bench_batch(args, sandbox, key, line, agent, conversation_ids) -> dict:
    """Part 1: ``args.due`` texts due in the same minute, sent by a beat loop while an agent
    replies."""
    from django.db.models import Count
    from django.db.models.functions import Now
    from django.utils import timezone

    from textdesk.conversations import outbound, scheduled, services
    from textdesk.conversations.models import Conversation, Message, ScheduledText
    from textdesk.textrequest.limiter import get_limiter

    control = sandbox.control
    limiter = get_limiter()
    connection = line.connection
    minute = timezone.now().replace(second=0, microsecond=0)
    # Due within the current minute, all already due when beat first looks.
    schedule_rows(
        line,
        conversation_ids,
        range(args.due),
        due_of=lambda i: min(minute + timedelta(seconds=i % 60), timezone.now()),
        body_of=lambda i: f"Scheduled bench text {i}: your visit is confirmed.",
        agent=agent,
    )
    due = ScheduledText.objects.filter(status="scheduled", due_at__lte=Now()).count()
    beat_every = BEAT_EVERY * args.window / REAL_WINDOW
    calls_before = control.counters(key)["calls_total"]

    samples: list[int] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append(limiter.usage(connection.bucket, args.window))
            time.sleep(args.window / 10)

    latencies: list[float] = []
    replies: list[str] = []

    def agent_replies() -> None:
        """The agent answers customers now and then while the batch is being sent."""
        targets = Conversation.objects.filter(pk__in=conversation_ids[-args.replies :])
        for i, conversation in enumerate(targets):
            if done.is_set():
                break
            body = f"Agent reply {i} during the batch"
            started = time.monotonic()
            services.send_text(
                conversation=conversation, user=agent, body=body, client_key=uuid.uuid4()
            )
            latencies.append(time.monotonic() - started)
            replies.append(body)
            time.sleep(args.reply_every)

    beats = 0
    outcomes = {"released": 0, "skipped": 0, "lost": 0}
    sampler = threading.Thread(target=sample, daemon=True)
    replier = threading.Thread(target=agent_replies, daemon=True)
    started = time.monotonic()
    sampler.start()
    replier.start()
    deadline = started + args.max_seconds
    while time.monotonic() < deadline:
        beat = time.monotonic()
        for name, value in scheduled.release_due().items():
            outcomes[name] += value
        # The outbox sweeper re-sends the texts the limiter held back (not_before passed).
        outbound.sweep_texts(min_age=timedelta(0))
        beats += 1
        waiting = Message.objects.filter(
            schedule__isnull=False, status__in=["pending", "sending"]
        ).exists()
        left = ScheduledText.objects.filter(status="scheduled", due_at__lte=Now()).exists()
        if not waiting and not left:
            break
        time.sleep(max(0.0, beat_every - (time.monotonic() - beat)))
    seconds = time.monotonic() - started
    finished = time.monotonic() < deadline
    done.set()
    replier.join(timeout=30)
    sampler.join(timeout=5)

    counters = control.counters(key)
    sent_counts = [d["count"] for d in counters["sent"] if d["body"].startswith("Scheduled bench")]
    statuses = dict(
        Message.objects.filter(schedule__isnull=False)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    allowance = limiter.allowance(100, "sync")
    calls = counters["calls_total"] - calls_before
    latencies.sort()
    return {
        "due": due,
        "released": outcomes["released"],
        "skipped": outcomes["skipped"],
        "sent": statuses.get("sent", 0),
        "message_statuses": statuses,
        "received_by_stand_in": len(sent_counts),
        "duplicates": sum(n - 1 for n in sent_counts if n > 1),
        "never_received": due - len(sent_counts),
        "rate_limited_429": counters["rate_limited"],
        "finished": finished,
        "seconds": round(seconds, 1),
        "beats": beats,
        "calls": calls,
        "calls_per_window_max": max(samples) if samples else None,
        "samples_at_or_above_sync_allowance": sum(1 for n in samples if n >= allowance),
        "calls_per_window_median": statistics.median(samples) if samples else None,
        "sync_allowance_per_window": allowance,
        "limit_per_window": 100,
        "window_seconds": args.window,
        "seconds_at_real_limit_lower_bound": round(
            max(0, math.ceil(calls / allowance) - 1) * REAL_WINDOW, 0
        ),
        "agent_replies": len(latencies),
        "agent_replies_received": sum(
            d["count"] for d in counters["sent"] if d["body"] in set(replies)
        ),
        "agent_reply_p50_s": round(latencies[len(latencies) // 2], 3) if latencies else None,
        "agent_reply_p95_s": round(percentile(latencies, 95), 3) if latencies else None,
        "agent_reply_max_s": round(latencies[-1], 3) if latencies else None,
        "target_agent_reply_p95_s": 3,
        "method": "eager tasks; beat played by a loop (release_due, then the outbox sweeper) "
        f"every {beat_every:.2f} s (15 s scaled to the window); the agent's reply latency is "
        "send_text until the stand-in answered the send call; calls per window sampled from "
        "the shared limiter ten times a window",
    }


def time_pages(client, urls: dict, runs: int) -> dict:
    out = {}
    for name, url in urls.items():
        for _ in range(3):
            client.get(url)
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        out[name] = {"url": url, **summary_ms(samples)}
    return out


def bench_pending(args, line, agent, conversation_ids) -> dict:
    """Part 2: the inbox, a thread and the Scheduled view before and after ``args.pending``
    texts are waiting on the line."""
    from django.db import connection as db
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from textdesk.conversations.models import ScheduledText

    client = Client()
    client.force_login(agent)
    thread_pk = conversation_ids[0]
    urls = {
        "inbox": reverse("conversations:line", args=[line.pk]),
        "thread": reverse("conversations:conversation", args=[line.pk, thread_pk]),
        "scheduled_view": reverse("conversations:scheduled", args=[line.pk]),
    }

    def queries() -> dict:
        counts = {}
        for name, url in urls.items():
            with CaptureQueriesContext(db) as captured:
                client.get(url)
            counts[name] = len(captured)
        return counts

    def analyze() -> None:
        # The planner's statistics as a running database would have them, at every step.
        with db.cursor() as cursor:
            cursor.execute("ANALYZE")

    # The pages show the same rows in every state: "base" holds the timed thread's pending
    # texts and the Scheduled view's first pages; the rest are the many that must not matter.
    n = len(conversation_ids)
    base = [i for i in range(args.pending) if i < 2 * PAGE or i % n == 0]
    rest = [i for i in range(args.pending) if not (i < 2 * PAGE or i % n == 0)]
    now = timezone.now()

    def add(numbers) -> None:
        schedule_rows(
            line,
            conversation_ids,
            numbers,
            due_of=lambda i: now + timedelta(days=1, minutes=i),
            body_of=lambda i: f"Pending text {i}",
            agent=agent,
        )

    add(base)
    analyze()
    before = time_pages(client, urls, args.runs)
    queries_before = queries()
    started = time.perf_counter()
    add(rest)
    inserted = time.perf_counter() - started
    analyze()
    pending = ScheduledText.objects.filter(dashboard=line, status="scheduled").count()
    in_thread = ScheduledText.objects.filter(conversation_id=thread_pk, status="scheduled").count()
    after = time_pages(client, urls, args.runs)
    queries_after = queries()
    # The same pages once the pending texts are gone again: how far two runs of identical data
    # differ on this machine now (the noise the ratios are read against).
    ScheduledText.objects.filter(dashboard=line, status="scheduled").exclude(
        body__in=[f"Pending text {i}" for i in base]
    ).delete()
    analyze()
    again = time_pages(client, urls, args.runs)

    def ratio(a: dict, b: dict) -> dict:
        return {
            name: {
                "median": round(a[name]["median_ms"] / b[name]["median_ms"], 3),
                "p95": round(a[name]["p95_ms"] / b[name]["p95_ms"], 3),
            }
            for name in urls
        }

    return {
        "pending": pending,
        "pending_before_and_again": len(base),
        "pending_in_the_timed_thread": in_thread,
        "conversations": len(conversation_ids),
        "seconds_to_insert": round(inserted, 1),
        "before": before,
        "after": after,
        "without_again": again,
        "ratio_after_to_before": ratio(after, before),
        "ratio_after_to_without_again": ratio(after, again),
        "noise_ratio_without_again_to_before": ratio(again, before),
        "queries_before": queries_before,
        "queries_after": queries_after,
        "method": "server time through Django's test client on SQLite, same process, "
        f"{args.runs} runs per page after 3 warm-up requests: with only the pending texts the "
        "pages show (the timed thread's and the Scheduled view's first pages), with all of "
        "them (spread evenly over the line's conversations, due from tomorrow), and again once "
        "the others are deleted (ANALYZE before each); the Scheduled view's Text Request read "
        "is cached a minute, so at most one timed request per minute includes it",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--due", type=int, default=1000, help="texts due in the same minute")
    parser.add_argument("--pending", type=int, default=100_000, help="texts waiting (part 2)")
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--replies", type=int, default=40, help="agent replies measured")
    parser.add_argument("--reply-every", type=float,
                        help="seconds between them; default a fifth of the window (five replies "
                        "per window: half the reserve)")  # fmt: skip
    # 10 s, not shorter: this machine sends about ten texts a second, so a shorter window would
    # never fill and the limiter's pacing would go unmeasured.
    parser.add_argument("--window", type=float, default=10.0, help="stand-in window, seconds")
    parser.add_argument("--reserve", type=float, default=0.10)
    parser.add_argument("--runs", type=int, default=50, help="timed requests per page")
    parser.add_argument("--max-seconds", type=float, default=900, help="give the batch up after")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiplies --due, --pending, --conversations, --replies")  # fmt: skip
    parser.add_argument("--out", help="default bench/results/scheduled.json")
    args = parser.parse_args()
    full = {"due": args.due, "pending": args.pending, "conversations": args.conversations}
    args.due = max(int(args.due * args.scale), 20)
    args.pending = max(int(args.pending * args.scale), 100)
    args.conversations = max(int(args.conversations * args.scale), args.due, 50)
    args.replies = max(int(args.replies * args.scale), 5)
    if args.reply_every is None:
        args.reply_every = args.window / 5
    recording.embedded_django(args.window, args.reserve, without_redis=True)

    from standins.textrequest.testing import SandboxServer
    from tests.conftest import make_user
    from textdesk.dashboards.models import Connection, Dashboard
    from textdesk.dashboards.sync import sync_dashboards

    results: dict = {
        "settings": vars(args) | {"full_scale": full, "out": None},
        "scale_note": "full scale"
        if args.scale == 1.0
        else f"--scale {args.scale} of the "
        "issue's figures (1,000 due, 100,000 pending) on a busy shared 2-core machine",
    }
    with SandboxServer(rate_limit=100, rate_window=args.window, delivery_delay=0.0) as sandbox:
        control = sandbox.control
        key, _ = control.new_account(seed="empty", dashboards=1)
        connection = Connection(name="bench", api_url=sandbox.api_url, rate_limit=100,
                                rate_window=args.window)  # fmt: skip
        connection.set_api_key(key)
        connection.save()
        sync_dashboards(connection)
        line = Dashboard.objects.get(connection=connection)
        agent = make_user("bench-agent", "Agent", lines=[line])
        print(f"making {args.conversations:,} conversations…", flush=True)
        conversation_ids = make_conversations(line, args.conversations)
        print(f"sending {args.due:,} texts due in the same minute…", flush=True)
        batch = bench_batch(args, sandbox, key, line, agent, conversation_ids[: args.due])
        results["batch"] = batch
        print(json.dumps(batch, indent=2, default=str), flush=True)
        print(f"timing pages before and after {args.pending:,} pending texts…", flush=True)
        results["pending"] = bench_pending(args, line, agent, conversation_ids)
        control.wait_idle()
    # The names, at the top.
    results.update(
        due=batch["due"],
        sent=batch["sent"],
        duplicates=batch["duplicates"],
        rate_limited_429=batch["rate_limited_429"],
        agent_reply_p95_s=batch["agent_reply_p95_s"],
    )
    print(json.dumps(results, indent=2, default=str))
    path = Path(args.out) if args.out else recording.results_path("scheduled")
    results["settings"]["out"] = recording.relative(path)
    recording.write("scheduled", results, path)
    os._exit(0)  # the stand-in's delivery threads are not needed any more


if __name__ == "__main__":
    main()
