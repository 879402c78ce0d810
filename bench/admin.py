"""Benchmarks of the Admin workspace (issue 9). Writes bench/results/admin.json.

    .venv/bin/python bench/admin.py               # 10,000 in, 50,000 out, 1,000,000 entries
    .venv/bin/python bench/admin.py --scale 0.1     # a tenth of each

PostgreSQL only: its own database `textdesk_bench_admin` on the server of DATABASE_URL.

- **CSV import**: a file of N contacts checked and imported into a sandbox line through the
  outbox (tasks inline). Calls used against the lower bound ceil(N / 1,000), and the wall time
  those calls need at the real limit (100 per 60 s: a burst of up to 100 calls is immediate,
  every further 100 waits a window), beside the measured time (the sandbox answers at once).
  Then the same file is checked again: nothing to write.
- **CSV export**: the export view streaming M contacts (tags, groups, custom fields):
  peak memory growth (tracemalloc) while the whole response is consumed, and the time.
- **Audit log**: the page at 1,000,000 entries, first page, each filter and a deep page:
  median and p95 of server time (Django's test client, in-process), and the queries of each.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "textdesk.settings")

from bench import recording  # noqa: E402

REAL_LIMIT, REAL_WINDOW = 100, 60
TARGET_P95_MS = 50
TARGET_EXPORT_MB = 50


def bench_database(url: str) -> str:
    import psycopg

    base, _, _ = url.rpartition("/")
    name = recording.database("admin")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))]


def summary(samples_ms: list[float]) -> dict:
    return {
        "runs": len(samples_ms),
        "median_ms": round(statistics.median(samples_ms), 2),
        "p95_ms": round(percentile(samples_ms, 95), 2),
        "max_ms": round(max(samples_ms), 2),
    }


def admin_user():
    from django.contrib.auth.models import Group, Permission

    from textdesk.accounts.models import User
    from textdesk.accounts.roles import sync_roles

    sync_roles(Group, Permission)
    user, created = User.objects.get_or_create(
        username="bench-admin", defaults={"first_name": "Bench"}
    )
    if created:
        user.groups.add(Group.objects.get(name="Admin"))
    return user


def seconds_at_limit(calls: int, limit: int = REAL_LIMIT, window: int = REAL_WINDOW) -> int:
    """A moving window allows a burst of ``limit`` calls; each further ``limit`` waits one
    window (background work leaves nothing here: these are a person's calls)."""
    return max(0, math.ceil(calls / limit) - 1) * window


# --- CSV import ---------------------------------------------------------------------------------


def bench_import(rows: int) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from standins.textrequest.testing import SandboxServer
    from textdesk.celery import app
    from textdesk.contacts import imports
    from textdesk.contacts.models import ContactImport
    from textdesk.dashboards.models import Connection
    from textdesk.dashboards.sync import sync_dashboards
    from textdesk.outbox.models import Change

    app.conf.task_always_eager = True
    user = admin_user()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Phone", "First name", "Last name", "Note"])
    for n in range(rows):
        writer.writerow([f"(865) {555 + n // 10000}-{n % 10000:04d}", f"Guest{n}", "Bench", "fair"])
    data = out.getvalue().encode()
    with SandboxServer(rate_limit=10_000, rate_window=60, delivery_delay=0.0) as sandbox:
        key, _ = sandbox.control.new_account(seed="empty")
        connection = Connection(name="bench import", api_url=sandbox.api_url, rate_limit=10_000)
        connection.set_api_key(key)
        connection.save()
        line = sync_dashboards(connection)[0]

        def check(name: str) -> ContactImport:
            text, encoding, header, count = imports.read_file(SimpleUploadedFile(name, data))
            imp = ContactImport.objects.create(
                dashboard=line, created_by=user, filename=name, encoding=encoding, text=text,
                header=header, mapping=imports.guess_mapping(header, line), rows_total=count,
            )  # fmt: skip
            result = imports.check(imp)
            imp.to_write, imp.unchanged, imp.errors = (
                result.to_write,
                result.unchanged,
                result.errors,
            )
            imp.write_count, imp.new_count = len(result.to_write), result.new
            imp.status = ContactImport.Status.CHECKED
            imp.save()
            return imp

        started = time.perf_counter()
        imp = check("bench.csv")
        checked = time.perf_counter() - started
        before = sandbox.control.counters(key)["calls"].get("BulkUpdateContacts", 0)
        started = time.perf_counter()
        changes = imports.start_import(imp=imp, user=user)
        imported = time.perf_counter() - started
        calls = sandbox.control.counters(key)["calls"].get("BulkUpdateContacts", 0) - before
        done = Change.objects.filter(pk__in=[c.pk for c in changes], status="done").count()
        started = time.perf_counter()
        again = check("bench-again.csv")
        rechecked = time.perf_counter() - started
    app.conf.task_always_eager = False
    lower_bound = math.ceil(rows / 1000)
    return {
        "rows": rows,
        "calls": calls,
        "lower_bound_calls": lower_bound,
        "batches_done": done,
        "dry_run_seconds": round(checked, 2),
        "import_seconds_measured": round(imported, 2),
        "seconds_at_real_limit_from_calls": seconds_at_limit(calls),
        "reimport_rows_to_write": again.write_count,
        "reimport_unchanged": again.unchanged,
        "reimport_check_seconds": round(rechecked, 2),
    }


# --- CSV export ---------------------------------------------------------------------------------


def ensure_contacts(count: int):
    from django.db import connection as db

    from textdesk.contacts.models import Contact, CustomField, Group, Tag
    from textdesk.dashboards.models import Connection, Dashboard

    line = Dashboard.objects.filter(name="Bench export line").first()
    if line is not None and Contact.objects.filter(dashboard=line).count() == count:
        return line
    if line is not None:
        line.connection.delete()
    connection = Connection(name="bench export", api_url="http://127.0.0.1:9/api/v3")
    connection.set_api_key("tr_bench_export")
    connection.save()
    line = Dashboard.objects.create(
        connection=connection, dashboard_id=1, name="Bench export line", phone="8655550000"
    )
    tags = [Tag.objects.create(dashboard=line, tag_id=f"t{n}", name=f"Tag {n}") for n in range(5)]
    groups = [Group.objects.create(dashboard=line, group_id=n, name=f"Group {n}") for n in range(5)]
    CustomField.objects.create(dashboard=line, field_id="f-plan", name="Plan")
    batch = 5000
    for start in range(0, count, batch):
        Contact.objects.bulk_create(
            Contact(dashboard=line, phone_number=f"865{n:07d}", first_name=f"=Guest{n}",
                    last_name="Bench", note="a note, with a comma",
                    custom_fields={"f-plan": "Gold"})
            for n in range(start, min(start + batch, count))
        )  # fmt: skip
    with db.cursor() as cursor:
        for model, items, column in (
            (Contact.tags.through, tags, "tag_id"),
            (Contact.groups.through, groups, "group_id"),
        ):
            for n, item in enumerate(items):
                cursor.execute(
                    f"INSERT INTO {model._meta.db_table} (contact_id, {column}) "  # noqa: S608
                    "SELECT id, %s FROM contacts_contact WHERE dashboard_id = %s AND id %% 5 = %s",
                    [item.pk, line.pk, n],
                )
    return line


def bench_export(count: int) -> dict:
    from django.test import Client
    from django.urls import reverse

    line = ensure_contacts(count)
    client = Client()
    client.force_login(admin_user())
    url = f"{reverse('contacts:export')}?line={line.pk}"

    def consume() -> tuple[int, int]:
        response = client.get(url)
        assert response.status_code == 200 and response.streaming
        size = rows = 0
        for chunk in response.streaming_content:
            size += len(chunk)
            rows += chunk.count(b"\n")
        return rows - 1, size

    started = time.perf_counter()
    rows, size = consume()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    consume()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    growth_mb = (peak - base) / 1024 / 1024
    return {
        "contacts": count,
        "rows": rows,
        "bytes": size,
        "seconds": round(seconds, 2),
        "peak_memory_growth_mb": round(growth_mb, 1),
        "target_mb": TARGET_EXPORT_MB,
        "within_target": growth_mb < TARGET_EXPORT_MB,
    }


# --- Audit log ----------------------------------------------------------------------------------


def ensure_entries(count: int) -> dict:
    """``count`` entries over 400 days, spread over 20 people, 10 lines and several kinds."""
    from django.db import connection as db

    from textdesk.accounts.models import User
    from textdesk.audit.models import Entry
    from textdesk.dashboards.models import Connection, Dashboard

    people = [User.objects.get_or_create(username=f"bench-{n}")[0] for n in range(20)]
    connection, _ = Connection.objects.get_or_create(
        name="bench audit",
        defaults={
            "api_url": "http://127.0.0.1:9/api/v3",
            "api_key_encrypted": "x",
            "api_key_last4": "x",
        },
    )
    lines = [
        Dashboard.objects.get_or_create(
            connection=connection,
            dashboard_id=100 + n,
            defaults={"name": f"Audit line {n}", "phone": "1"},
        )[0]
        for n in range(10)
    ]
    if Entry.objects.count() != count:
        Entry.objects.all().delete()
        kinds = [
            "text",
            "set_tags",
            "archive",
            "resolve",
            "sign_in",
            "edit_contact",
            "saved_reply",
            "role_change",
        ]
        with db.cursor() as cursor:
            cursor.execute(
                "INSERT INTO audit_entry "
                "(at, actor_id, actor_name, kind, summary, dashboard_id, dashboard_name, "
                "contact_name, status, reason) "
                "SELECT now() - (g * interval '1 second') * (400 * 86400.0 / %s), "
                "(%s::bigint[])[1 + g %% 20], 'Bench person', (%s::text[])[1 + g %% 8], "
                "'Did something ' || g, (%s::bigint[])[1 + g %% 10], 'Bench line', '', "
                "'done', '' "
                "FROM generate_series(1, %s) AS g",
                [count, [p.pk for p in people], kinds, [line.pk for line in lines], count],
            )
            cursor.execute("ANALYZE audit_entry")
    return {"person": people[3].pk, "line": lines[7].pk}


def bench_audit(count: int, runs: int) -> dict:
    from django.db import connection as db
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from textdesk.audit.models import Entry

    ids = ensure_entries(count)
    client = Client()
    client.force_login(admin_user())
    base = reverse("audit:list")
    middle = Entry.objects.order_by("-at", "-id")[count // 2]
    today = timezone.localdate()
    cases = {
        "first_page": "",
        "by_person": f"person={ids['person']}",
        "by_line": f"line={ids['line']}",
        "by_kind": "kind=role_change",
        "by_date": f"since={today.replace(day=1).isoformat()}&until={today.isoformat()}",
        "person_and_kind": f"person={ids['person']}&kind=role_change",
        "deep_page": "after=" + f"{middle.at.isoformat()}_{middle.pk}".replace("+", "%2B"),
    }
    results, queries = {}, {}
    for name, query in cases.items():
        url = f"{base}?{query}"
        for _ in range(3):
            client.get(url)
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200 and response.context["entries"], name
        with CaptureQueriesContext(db) as captured:
            client.get(url)
        results[name] = summary(samples)
        queries[name] = len(captured)
    minimal = reverse("accounts:preferences")
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(minimal)
        samples.append((time.perf_counter() - started) * 1000)
    worst = max(r["p95_ms"] for r in results.values())
    return {
        "entries": count,
        "target_p95_ms": TARGET_P95_MS,
        "pages": results,
        "minimal_logged_in_page": summary(samples),
        "queries": queries,
        # A filter by person or line adds the one query that checks the id it names.
        "constant_queries": queries["first_page"] == queries["deep_page"] == queries["by_kind"],
        "worst_p95_ms": worst,
        "within_target": worst <= TARGET_P95_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument(
        "--only", nargs="*", choices=["audit_log", "csv_export", "csv_import"],
        help="run these parts again, keeping the others' last results",
    )  # fmt: skip
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/textdesk"
    if not url.startswith("postgres"):
        sys.exit("bench/admin.py needs PostgreSQL (DATABASE_URL=postgres://…)")
    os.environ["DATABASE_URL"] = bench_database(url)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
    setup_test_environment()  # responses carry their context (the rows shown)
    call_command("migrate", verbosity=0)
    out = recording.results_path("admin")
    results = json.loads(out.read_text()) if out.exists() and args.only else {}
    results.pop("run", None)
    results.update(when=datetime.now(tz=UTC).isoformat(timespec="seconds"), scale=args.scale)
    parts = {
        "audit_log": lambda: bench_audit(max(int(1_000_000 * args.scale), 1000), args.runs),
        "csv_export": lambda: bench_export(max(int(50_000 * args.scale), 100)),
        "csv_import": lambda: bench_import(max(int(10_000 * args.scale), 100)),
    }
    for name, run in parts.items():
        if not args.only or name in args.only:
            results[name] = run()
    print(json.dumps(results, indent=2))
    recording.write("admin", results)


if __name__ == "__main__":
    main()
