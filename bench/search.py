"""Benchmark of full-text search (issue 24). Writes bench/results/search.json.

    .venv/bin/python bench/search.py                # 100,000 conversations, 1,000,000 messages
    .venv/bin/python bench/search.py --scale 0.05   # a twentieth (generation is the slow part)

PostgreSQL only, in its own database (TEXTDESK_BENCH_DB, by default
`<TEXTDESK_BENCH_DB_PREFIX>_search`, so a smoke run keeps off the real run's data) beside
DATABASE_URL's, generated once and kept; another --scale regenerates it.

Server time, in process with Django's test client (middleware, queries, templates; no network):
median and p95 of --runs requests for a common word (in every other text), a rare word, a
phrase, a word with a line and a date filter, a deep page ("Load more" 10 pages down) and the
jump-to page (a conversation opened at an old text), each against a minimal signed-in page
timed in the same run; queries per page; the index's size; load average and commit.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "textdesk.settings")
os.environ.setdefault("DEBUG", "1")

from bench import recording  # noqa: E402

os.environ.setdefault("TEXTDESK_BENCH_DB", recording.database("search"))

from bench.inbox import open_bench_database, summary  # noqa: E402

FULL_CONVERSATIONS = 100_000
FULL_MESSAGES = 1_000_000
BATCH = 5_000
TARGET_SEARCH_P95_MS = 100
TARGET_JUMP_P95_MS = 50
WORDS = [
    "fence",
    "gate",
    "deck",
    "paint",
    "stain",
    "quote",
    "invoice",
    "schedule",
    "tuesday",
    "morning",
    "afternoon",
    "crew",
    "estimate",
    "permit",
    "lumber",
    "cedar",
    "railing",
    "post",
    "concrete",
    "warranty",
    "repair",
    "delivery",
    "driveway",
    "window",
    "door",
    "roof",
    "gutter",
    "siding",
    "porch",
    "patio",
    "garden",
    "hedge",
    "mulch",
    "gravel",
]


def generate(conversations: int, messages: int) -> dict:
    """Two lines; every other text says "thanks"; one text in 10,000 names a rare word."""
    from django.db import connection

    from textdesk.contacts.models import Contact
    from textdesk.conversations.models import Conversation, Message, Note
    from textdesk.dashboards.models import Connection, Dashboard

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE dashboards_connection, accounts_user RESTART IDENTITY CASCADE")
    account = Connection(name="Search bench", api_url="http://127.0.0.1:9/api/v3")
    account.set_api_key("bench-key")
    account.save()
    lines = [
        Dashboard.objects.create(
            connection=account, dashboard_id=i + 1, name=name, phone=f"423555000{i}"
        )  # fmt: skip
        for i, name in enumerate(["Front desk", "Service"])
    ]
    rng = random.Random(24)
    now = datetime.now(tz=UTC)
    started = time.perf_counter()
    print(f"generating {conversations:,} conversations…", flush=True)
    for offset in range(0, conversations, BATCH):
        size = min(BATCH, conversations - offset)
        contacts = Contact.objects.bulk_create(
            Contact(dashboard=lines[(offset + i) % 2], phone_number=f"{2000000000 + offset + i}",
                    first_name=rng.choice(["Avery", "Jordan", "Casey", "Riley", "Marisol"]),
                    last_name=rng.choice(["Smith", "Lopez", "Nguyen", "Patel", "Okafor"]))
            for i in range(size)
        )  # fmt: skip
        Conversation.objects.bulk_create(
            Conversation(dashboard_id=c.dashboard_id, contact=c,
                         last_message_at=now - timedelta(minutes=offset + i))
            for i, c in enumerate(contacts)
        )  # fmt: skip
    ids = list(Conversation.objects.order_by("id").values_list("id", flat=True))
    print(f"generating {messages:,} messages…", flush=True)
    batch = []
    for i in range(messages):
        words = rng.sample(WORDS, 8)
        if i % 2 == 0:
            words.append("thanks")
        if i % 10_000 == 7:
            words.append("xylophone")
        batch.append(
            Message(
                conversation_id=ids[i % len(ids)],
                direction="S" if i % 3 == 0 else "R",
                body=" ".join(words).capitalize() + ".",
                sent_at=now - timedelta(minutes=messages - i),
                status="sent" if i % 3 == 0 else "received",
            )
        )
        if len(batch) >= BATCH:
            Message.objects.bulk_create(batch)
            batch = []
    if batch:
        Message.objects.bulk_create(batch)
    Note.objects.bulk_create(
        Note(conversation_id=ids[i * 37 % len(ids)],
             body=f"Gate code {1000 + i}; {rng.choice(WORDS)}")
        for i in range(len(ids) // 10)
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"generated in {time.perf_counter() - started:.0f}s", flush=True)
    return {"lines": [line.pk for line in lines]}


def ensure_data(conversations: int, messages: int) -> dict:
    from textdesk.conversations.models import Conversation, Message
    from textdesk.dashboards.models import Dashboard

    lines = list(Dashboard.objects.filter(connection__name="Search bench").order_by("id"))
    if (
        len(lines) == 2
        and Conversation.objects.count() == conversations
        and Message.objects.count() == messages
    ):
        return {"lines": [line.pk for line in lines]}
    return generate(conversations, messages)


def time_requests(client, url: str, runs: int, **headers) -> dict:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        client.get(url, **headers)
    reset_queries()  # DEBUG keeps at most 9,000 queries: a full log would count none
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(url, **headers)
        samples.append((time.perf_counter() - started) * 1000)
    result = {"url": url, "queries": len(queries), **summary(samples)}
    window = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("WITH ")]
    if window:
        result["window_plan"] = plan_summary(window[0])
    return result


def plan_summary(sql: str) -> dict:
    """What the window query of a search page read, from EXPLAIN ANALYZE: the scans that ran
    and its time (the plan is the evidence: the machine's load moves the times)."""
    import re

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT TEXT) {sql}")
        lines = [row[0] for row in cursor.fetchall()]
    scan = re.compile(
        r"((?:Bitmap )?Index(?: Only)? Scan|Seq Scan)(?: Backward)? (?:using|on) (\w+)"
    )
    ran = {
        " ".join(found.groups())
        for line in lines
        if "never executed" not in line and (found := scan.search(line))
    }
    total = next(line for line in lines if line.startswith("Execution Time"))
    return {"execution_ms": float(total.split()[2]), "scans": sorted(ran)}


def server_timings(data: dict, runs: int) -> dict:
    import re
    from urllib.parse import urlencode

    from django.test import Client
    from django.urls import reverse

    from tests.conftest import make_user
    from textdesk.accounts.models import User
    from textdesk.conversations.models import Conversation, Message

    user = User.objects.filter(username="bench-admin").first() or make_user("bench-admin", "Admin")
    client = Client()
    client.force_login(user)
    search = reverse("search:results")

    def url(**params) -> str:
        return f"{search}?{urlencode(params)}"

    # "Load more" ten times: the cursor of the tenth page (or the last page, at a tiny scale).
    deep = url(q="thanks")
    pages_deep = 1
    for _ in range(10):
        page = client.get(deep).content.decode()
        more = re.search(r'hx-get="\?([^"]+)"', page)
        if more is None:
            break
        deep = f"{search}?{more.group(1).replace('&amp;', '&')}"
        pages_deep += 1
    old = Message.objects.order_by("sent_at", "id").values_list("conversation_id", "id")[
        Message.objects.count() // 3
    ]
    conversation = Conversation.objects.get(pk=old[0])
    jump = reverse("conversations:conversation", args=[conversation.dashboard_id, conversation.pk])
    since = (datetime.now(tz=UTC) - timedelta(days=30)).date().isoformat()
    common = Message.objects.filter(body__contains="thanks").count()
    results = {
        "baseline_signed_in_page": time_requests(client, reverse("accounts:preferences"), runs),
        "common_word": time_requests(client, url(q="thanks"), runs),
        "rare_word": time_requests(client, url(q="xylophone"), runs),
        "phrase": time_requests(client, url(q='"fence gate"'), runs),
        "word_line_date": time_requests(
            client, url(q=f"cedar line:{data['lines'][0]} from:{since}"), runs
        ),
        "best_match_common_word": time_requests(client, url(q="thanks", sort="best"), runs),
        "deep_page_11": time_requests(
            client, deep, runs, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results-more"
        ),
        # The jump-to page is the conversation page plus two reads: timed beside it.
        "conversation_page": time_requests(client, jump, runs),
        "jump_to_old_text": time_requests(client, f"{jump}?at={old[1]}", runs),
    }
    results["common_word"]["matching_texts"] = common
    results["deep_page_11"]["page"] = pages_deep
    baseline = results["baseline_signed_in_page"]["median_ms"]
    for name, result in results.items():
        result["ratio_to_baseline_median"] = round(result["median_ms"] / baseline, 2)
        if name == "jump_to_old_text":
            result["meets_p95_target"] = result["p95_ms"] <= TARGET_JUMP_P95_MS
        elif name not in ("baseline_signed_in_page", "conversation_page"):
            result["meets_p95_target"] = result["p95_ms"] <= TARGET_SEARCH_P95_MS
    return results


def write_overhead(rows: int) -> dict:
    """What the index adds to writing texts: the same INSERT … SELECT of ``rows`` texts into a
    plain copy of the messages table and into one with the generated tsvector and its GIN
    index (what sync's bulk_create pays), best of three."""
    from django.db import connection

    from textdesk.search import index

    table, expression, _ = index.SOURCES["message"]
    timings = {}
    with connection.cursor() as cursor:
        for name, extra in [("plain", ""), ("indexed", expression)]:
            best = None
            for _ in range(3):
                cursor.execute("DROP TABLE IF EXISTS bench_search_copy")
                vector = f", v tsvector GENERATED ALWAYS AS ({extra}) STORED" if extra else ""
                cursor.execute(
                    f"CREATE TEMP TABLE bench_search_copy (id bigint, body text{vector})"
                )
                if extra:
                    cursor.execute("CREATE INDEX ON bench_search_copy USING gin (v)")
                started = time.perf_counter()
                cursor.execute(
                    f"INSERT INTO bench_search_copy (id, body) SELECT id, body FROM {table} "  # noqa: S608
                    "ORDER BY id LIMIT %s",
                    [rows],
                )
                elapsed = (time.perf_counter() - started) * 1000
                best = elapsed if best is None else min(best, elapsed)
            timings[name] = round(best, 1)
        cursor.execute("DROP TABLE IF EXISTS bench_search_copy")
    return {
        "rows": rows,
        "plain_ms": timings["plain"],
        "indexed_ms": timings["indexed"],
        "per_1000_texts_extra_ms": round((timings["indexed"] - timings["plain"]) * 1000 / rows, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of 100,000 conversations / 1,000,000 messages")  # fmt: skip
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    open_bench_database("search.py")

    from textdesk.search import index

    conversations = max(int(FULL_CONVERSATIONS * args.scale), 200)
    messages = max(int(FULL_MESSAGES * args.scale), 1_000)
    data = ensure_data(conversations, messages)
    results = {
        "load_average_1m": round(os.getloadavg()[0], 2),
        "scale": args.scale,
        "conversations": conversations,
        "messages": messages,
        "target_p95_ms": {"search": TARGET_SEARCH_P95_MS, "jump_to": TARGET_JUMP_P95_MS},
        "index_bytes": index.index_size(),
        "server": server_timings(data, args.runs),
        "write_overhead": write_overhead(min(messages, 50_000)),
    }
    results["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    recording.write("search", results)
    print(f"index {results['index_bytes'] / 1e6:.1f} MB; load {results['load_average_1m']}")
    print(f"write overhead: {results['write_overhead']}")
    for name, result in results["server"].items():
        print(f"{name:28} median {result['median_ms']:7.2f} ms  p95 {result['p95_ms']:7.2f} ms"
              f"  {result['queries']} queries")  # fmt: skip


if __name__ == "__main__":
    main()
