"""Benchmark of automatic assignment (issue 25). Writes bench/results/routing.json.

    .venv/bin/python bench/routing.py                          # 10,000 arrivals, 3 lines, 30 agents
    .venv/bin/python bench/routing.py --scale 0.1 --minutes 1  # 1,000 arrivals in one minute

PostgreSQL only: its own database `textdesk_bench_routing` on the server of DATABASE_URL.

A simulated hour of a busy team, compressed into ``--minutes`` of real time: ``10,000 × scale``
customers text 3 round-robin lines (10 agents each, every one Available, capacity
``--capacity``) at a steady rate. Each text goes through the webhook's own processing
(``inbound.record_webhook_message``: contact, conversation, message, then automatic
assignment on commit) in one of ``--workers`` threads, as the interactive Celery workers do.
Agents resolve what they were given after a simulated 30 s to 2.5 min each (locally, as the
inbox does, and the resolve drains the queue for them; the outbox's write to Text Request is
left out: it is not on the assignment's path), so each agent holds about 8 on average and
capacity binds whenever a line's arrivals bunch up: those wait in the queue and the drain
gives them out as agents free up. At a smaller ``--scale`` the handling time stretches by
1 / scale, so each agent's load, and how often capacity binds, stay those of the full run.

Measured:

- ``assign_p95_ms`` (and the median and max): from a text's arrival (it is handed to a worker)
  to its assignment being committed, in real milliseconds, over every arrival. A
  conversation that waits for room counts its wait too (real time: the simulated wait
  divided by the compression); ``assign_p95_ms_with_room`` over those that found room.
- ``over_capacity``: moments an agent held more unresolved conversations than their capacity,
  from a monitor thread that reads every agent's load (one consistent read) every 50 ms
  while the run lasts; ``monitor_samples`` says how many reads it made.
- ``fairness``: for each line, the most automatic assignments any of its agents received
  divided by the fewest (round-robin among available agents: 1.0 is perfectly even); the
  worst line's. None when some agent got none, which only happens at tiny scales (the smoke
  run: fewer arrivals than agents).
- ``waited_for_room``: arrivals that found every agent of their line full and were given
  out later by the drain.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import os
import queue
import random
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "textdesk.settings")

from bench import recording  # noqa: E402

TARGET_P95_MS = 1000
TARGET_FAIRNESS = 1.2
LINES, AGENTS_PER_LINE = 3, 10
SIMULATED_SECONDS = 3600


def bench_database(url: str) -> str:
    import psycopg

    base, _, _ = url.rpartition("/")
    name = recording.database("routing")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))]


def setup_team(capacity: int):
    from django.contrib.auth.models import Group, Permission

    from textdesk.accounts.models import User
    from textdesk.accounts.roles import sync_roles
    from textdesk.dashboards.models import Connection, Dashboard

    sync_roles(Group, Permission)
    agent_role = Group.objects.get(name="Agent")
    connection = Connection(name="bench routing", api_url="http://127.0.0.1:9/api/v3")
    connection.set_api_key("tr_bench_routing")
    connection.save()
    lines = []
    for n in range(LINES):
        line = Dashboard.objects.create(
            connection=connection,
            dashboard_id=9000 + n,
            name=f"Line {n + 1}",
            phone=f"42355590{n:02d}",
            assignment_rule=Dashboard.Assignment.ROUND_ROBIN,
            assignment_capacity=capacity,
        )
        for a in range(AGENTS_PER_LINE):
            user = User.objects.create_user(
                username=f"agent{n}-{a}", first_name=f"Agent {n}-{a}", is_available=True
            )
            user.groups.add(agent_role)
            user.dashboards.add(line)
        lines.append(line)
    return lines


def event_for(line, phone: str, n: int):
    from django.utils import timezone

    from textdesk.textrequest import types as tr

    return tr.WebhookEvent(
        message_unique_identifier=f"bench-{n}",
        account_id=None,
        dashboard_id=line.dashboard_id,
        dashboard_name=line.name,
        dashboard_phone_number=line.phone,
        conversation_id=None,
        date=timezone.now(),
        consumer_phone_number=phone,
        message_direction=tr.DIRECTION_RECEIVED,
        message="Hi, do you have a table for four tonight?",
        num_segments=1,
        status="delivered",
        claimed_by=None,
        consumer_friendly_name=f"Guest {n}",
    )


def run(
    arrivals: int, minutes: float, workers: int, capacity: int, seed: int, scale: float
) -> dict:
    from django.db import connections, transaction
    from django.db.models import Count

    from textdesk.conversations import routing
    from textdesk.conversations.inbound import record_webhook_message
    from textdesk.conversations.models import Assignment, Conversation

    lines = setup_team(capacity)
    rng = random.Random(seed)
    real_seconds = minutes * 60
    speed = SIMULATED_SECONDS / real_seconds  # simulated seconds per real second
    gap = real_seconds / arrivals
    plan = [(i * gap, lines[rng.randrange(LINES)], f"8655{i:06d}") for i in range(arrivals)]

    inbox: queue.Queue = queue.Queue()
    arrived_at: dict[str, float] = {}
    assigned_now: dict[str, float] = {}
    done = threading.Event()
    errors: list[str] = []

    def worker() -> None:
        try:
            while True:
                item = inbox.get()
                if item is None:
                    return
                n, line, phone = item
                with transaction.atomic():
                    message = record_webhook_message(line, event_for(line, phone, n))
                # On commit the conversation was offered to an agent: taken now or queued.
                taken = Conversation.objects.filter(
                    pk=message.conversation_id, assigned_to__isnull=False
                ).exists()
                if taken:
                    assigned_now[phone] = time.perf_counter()
        except Exception as exc:  # noqa: BLE001 (reported in the results)
            errors.append(repr(exc))
        finally:
            connections.close_all()

    def resolver() -> None:
        """Agents resolve what they were given 1–3 simulated minutes later; the drain gives
        the room to the oldest waiting conversation of their lines."""
        due: list[tuple[float, int, int]] = []
        last_id = 0
        handle = random.Random(seed + 1)
        try:
            while not (done.is_set() and not due):
                now = time.perf_counter()
                for pk, conv, agent in Assignment.objects.filter(pk__gt=last_id).values_list(
                    "pk", "conversation_id", "assignee_id"
                ):
                    last_id = max(last_id, pk)
                    wait = handle.uniform(30, 150) / min(1.0, scale) / speed
                    heapq.heappush(due, (now + wait, conv, agent))
                while due and due[0][0] <= now:
                    _, conv, agent = heapq.heappop(due)
                    with transaction.atomic():
                        Conversation.objects.filter(pk=conv).update(is_resolved=True)
                        routing.drain_for(agent)
                if done.is_set() and due:
                    # Past the hour: resolve the rest at once (the measurement is over).
                    due = [(0.0, c, a) for _, c, a in due]
                time.sleep(0.01)
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))
        finally:
            connections.close_all()

    samples = {"count": 0, "over": 0, "max_held": 0}

    def monitor() -> None:
        try:
            while not done.is_set():
                loads = (
                    Conversation.objects.filter(
                        is_resolved=False, is_archived=False, assigned_to__isnull=False
                    )
                    .order_by()
                    .values("assigned_to")
                    .annotate(n=Count("id"))
                    .values_list("n", flat=True)
                )
                loads = list(loads)
                samples["count"] += 1
                samples["over"] += sum(1 for n in loads if n > capacity)
                samples["max_held"] = max([samples["max_held"], *loads])
                time.sleep(0.05)
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    helpers = [threading.Thread(target=resolver), threading.Thread(target=monitor)]
    for t in threads + helpers:
        t.start()
    start = time.perf_counter()
    for n, (offset, line, phone) in enumerate(plan):
        pause = start + offset - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        arrived_at[phone] = time.perf_counter()
        inbox.put((n, line, phone))
    for _ in threads:
        inbox.put(None)
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    # Let the drain give out what still waits (agents keep resolving), then stop.
    deadline = time.perf_counter() + max(30.0, real_seconds)
    while time.perf_counter() < deadline:
        if not Conversation.objects.filter(
            queued_at__isnull=False, assigned_to__isnull=True
        ).exists():
            break
        routing.drain()
        time.sleep(0.05)
    done.set()
    for t in helpers:
        t.join()

    # Arrival → assignment, per conversation: at once (measured in the worker) or later by
    # the drain (the assignment row's time, converted to the same clock).
    wall_offset = time.time() - time.perf_counter()
    later = {
        phone: at.timestamp() - wall_offset
        for phone, at in Assignment.objects.filter(assigned_by__isnull=True).values_list(
            "conversation__contact__phone_number", "assigned_at"
        )
        if phone not in assigned_now
    }
    waits_ms, with_room_ms = [], []
    never = 0
    for phone, t0 in arrived_at.items():
        t1 = assigned_now.get(phone, later.get(phone))
        if t1 is None:
            never += 1
            continue
        waits_ms.append(max(0.0, (t1 - t0) * 1000))
        if phone in assigned_now:
            with_room_ms.append(waits_ms[-1])
    per_agent = {
        (line_id, agent): count
        for line_id, agent, count in Assignment.objects.filter(assigned_by__isnull=True)
        .order_by()
        .values("dashboard_id", "assignee_id")
        .annotate(n=Count("id"))
        .values_list("dashboard_id", "assignee_id", "n")
    }
    fairness_by_line = {}
    for line in lines:
        counts = [per_agent.get((line.pk, a.pk), 0) for a in line.agents.all()]
        fairness_by_line[line.name] = round(max(counts) / min(counts), 3) if min(counts) else None
    worst = [f for f in fairness_by_line.values() if f is not None]
    twice = (
        Assignment.objects.filter(assigned_by__isnull=True)
        .order_by()
        .values("conversation_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    return {
        "arrivals": arrivals,
        "lines": LINES,
        "agents": LINES * AGENTS_PER_LINE,
        "capacity": capacity,
        "workers": workers,
        "simulated_seconds": SIMULATED_SECONDS,
        "real_seconds": round(elapsed, 1),
        "arrivals_per_second": round(arrivals / elapsed, 1),
        "assign_median_ms": round(statistics.median(waits_ms), 1) if waits_ms else None,
        "assign_p95_ms": round(percentile(waits_ms, 95), 1) if waits_ms else None,
        "assign_max_ms": round(max(waits_ms), 1) if waits_ms else None,
        "assign_p95_ms_with_room": round(percentile(with_room_ms, 95), 1) if with_room_ms else None,
        "assigned_on_arrival": len(assigned_now),
        "waited_for_room": len(later),
        "never_assigned": never,
        "assigned_twice": twice,
        "over_capacity": samples["over"],
        "monitor_samples": samples["count"],
        "max_held": samples["max_held"],
        "fairness": max(worst) if len(worst) == len(fairness_by_line) else None,
        "fairness_by_line": fairness_by_line,
        "errors": errors[:10],
        "targets": {
            "assign_p95_ms": TARGET_P95_MS,
            "fairness": TARGET_FAIRNESS,
            "over_capacity": 0,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="of 10,000 arrivals")
    parser.add_argument("--minutes", type=float, default=5.0, help="real time for the hour")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--capacity", type=int, default=10)
    parser.add_argument("--seed", type=int, default=25)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/textdesk"
    if not url.startswith("postgres"):
        sys.exit("bench/routing.py needs PostgreSQL (DATABASE_URL=postgres://…)")
    os.environ["DATABASE_URL"] = bench_database(url)

    import django

    django.setup()
    from django.core.management import call_command

    from textdesk.celery import app

    app.conf.task_always_eager = True  # nothing here enqueues; never reach for a broker
    call_command("migrate", verbosity=0)
    arrivals = max(int(10_000 * args.scale), 30)
    results = {
        "when": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "scale": args.scale,
        **run(arrivals, args.minutes, args.workers, args.capacity, args.seed, args.scale),
    }
    print(json.dumps(results, indent=2))
    recording.write("routing", results)


if __name__ == "__main__":
    main()
