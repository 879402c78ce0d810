"""Benchmark of the Text Request sandbox: seeding 50,000 contacts / 500,000 messages, and the
latency over HTTP of GetContacts (page_size=100; tag/flag, time and custom-field filters) and
GetConversations (plain and with ``search`` by name and by number), each warm (the list
remembered) and cold (the list cache dropped before every request, so the indexes answer).

Run: ``.venv/bin/python bench/sandbox.py [--contacts N] [--messages N] [--requests N]``.
Needs no Django settings. Writes bench/results/sandbox.json and prints a summary.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import recording  # noqa: E402
from standins.textrequest.backend import Backend  # noqa: E402
from standins.textrequest.server import serve_in_thread  # noqa: E402

TARGET_MEDIAN_MS = 20.0


def state_save(backend, session, url: str, headers: dict) -> dict:
    """A save of the whole state (``make run`` saves every 2 s while it changes) while a
    client keeps asking: how long the save held the backend's lock (every request waits for
    it), against the time pickling takes (what a save held it for when it pickled under it)."""
    import tempfile
    import threading

    from standins.core import state

    started = time.perf_counter()
    state.snapshot(backend)
    pickle_ms = (time.perf_counter() - started) * 1000
    longest, done = [0.0], threading.Event()

    def ask():
        while not done.is_set():
            t = time.perf_counter()
            session.get(url, params={"page": 0, "page_size": 1}, headers=headers, timeout=60)
            longest[0] = max(longest[0], (time.perf_counter() - t) * 1000)

    class TimedLock:
        """The backend's lock, timing how long the saving thread holds it."""

        def __init__(self, lock):
            self.lock, self.depth, self.held_ms = lock, 0, 0.0

        def __enter__(self):
            self.lock.__enter__()
            if threading.current_thread() is saver:
                self.depth += 1
                if self.depth == 1:
                    self.since = time.perf_counter()

        def __exit__(self, *exc):
            if threading.current_thread() is saver:
                self.depth -= 1
                if self.depth == 0:
                    held = (time.perf_counter() - self.since) * 1000
                    self.held_ms = max(self.held_ms, held)
            return self.lock.__exit__(*exc)

    saver = threading.current_thread()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sandbox.state"
        asker = threading.Thread(target=ask)
        asker.start()
        time.sleep(0.2)
        real_lock = backend.lock
        backend.lock = timed = TimedLock(real_lock)
        started = time.perf_counter()
        try:
            state.save(backend, path)
        finally:
            backend.lock = real_lock
        save_s = time.perf_counter() - started
        during = longest[0]
        # The same client as long again with no save: what the machine's load alone costs.
        longest[0] = 0.0
        time.sleep(save_s)
        done.set()
        asker.join()
        size = path.stat().st_size
    return {
        "pickle_ms": round(pickle_ms, 1),
        "save_s": round(save_s, 2),
        "file_mb": round(size / 1e6, 1),
        # What the save kept every request waiting for: the time it held the backend's lock.
        "longest_block_ms": round(timed.held_ms, 1),
        # For context: requests slow down by sharing the CPUs with the saving process.
        "longest_request_during_the_save_ms": round(during, 1),
        "longest_request_without_a_save_ms": round(longest[0], 1),
        "target_ms": 50,
    }


def measure(session, url: str, params: dict, headers: dict, n: int, before=None) -> dict:
    """Median/p95 of ``n`` GETs; ``before`` runs ahead of each (e.g. to drop the list cache)."""
    for _ in range(10):  # warm up
        session.get(url, params=params, headers=headers, timeout=30).raise_for_status()
    samples = []
    for _ in range(n):
        if before:
            before()
        started = time.perf_counter()
        r = session.get(url, params=params, headers=headers, timeout=30)
        body = r.content
        samples.append((time.perf_counter() - started) * 1000)
        r.raise_for_status()
    samples.sort()
    return {
        "requests": n,
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 2),
        "max_ms": round(samples[-1], 2),
        "bytes": len(body),
        # Text Request answers 204 with no body when nothing matches (small --scale runs)
        "total_items": json.loads(body)["meta"]["total_items"] if body else 0,
        "target_median_ms": TARGET_MEDIAN_MS,
        "meets_target": statistics.median(samples) <= TARGET_MEDIAN_MS,
    }


def compare_with_a_scan(backend, dash, queries: dict, n: int) -> dict:
    """Baseline and change in the same run, in process, without HTTP: the filter and the
    first page by a test of every contact (how these filters worked before the indexes)
    against the indexes (the list cache dropped every time)."""
    from standins.textrequest.indexes import contact_names
    from standins.textrequest.records import parse_ts

    def scan(kind: str, q: dict) -> list:
        if kind == "contacts":
            items, tests = list(dash.contacts.values()), []
            if "last_message_timestamp_after_utc" in q:
                cut = parse_ts(q["last_message_timestamp_after_utc"])
                tests.append(lambda c: c.last_contact_at is not None and c.last_contact_at >= cut)
            if "custom_field_id_1" in q:
                f, v = q["custom_field_id_1"], q["custom_field_value_1"].casefold()
                tests.append(lambda c: (c.custom_fields.get(f) or "").casefold() == v)
        else:
            items = [c for c in reversed(dash.conv_order.values()) if not c.is_archived]
            needle = q["search"].casefold()
            tests = [
                (lambda c: needle in c.phone)
                if needle.isdigit()
                else (lambda c: needle in contact_names(c))
            ]
        return [c for c in items if all(t(c) for t in tests)][:100]

    def indexed(kind: str, q: dict) -> list:
        dash.list_cache.clear()
        if kind == "contacts":
            return backend._filter_contacts(dash, q)[0:100]
        digits = q["search"] if q["search"].isdigit() else ""
        found = backend._filter_conversations(dash, set(), False, False, q["search"], digits)
        return found[0:100]

    def median_ms(fn) -> float:
        samples = []
        for _ in range(n):
            started = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - started) * 1000)
        return round(statistics.median(samples), 2)

    out = {}
    for name, (kind, q) in queries.items():
        assert [c.phone for c in scan(kind, q)] == [c.phone for c in indexed(kind, q)], name
        out[name] = {
            "scan_median_ms": median_ms(lambda kind=kind, q=q: scan(kind, q)),
            "index_median_ms": median_ms(lambda kind=kind, q=q: indexed(kind, q)),
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--messages", type=int, default=500_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiplies --contacts, --messages and --requests")  # fmt: skip
    parser.add_argument("--out", help="default bench/results/sandbox.json")
    args = parser.parse_args()
    args.contacts = max(int(args.contacts * args.scale), 50)
    args.messages = max(int(args.messages * args.scale), 500)
    args.requests = max(int(args.requests * args.scale), 20)

    backend = Backend(seed="none", rate_limit=10_000_000)
    started = time.perf_counter()
    account = backend.create_account(
        seed="demo", contacts=args.contacts, messages=args.messages, dashboards=1, seed_value=42
    )
    seed_seconds = time.perf_counter() - started
    key, dashboard_id = account["api_key"], account["dashboards"][0]
    seeded_messages = len(backend.all_messages(key))

    server, _ = serve_in_thread(backend)
    host, port = server.server_address[:2]
    base = f"http://{host}:{port}/api/v3/dashboards/{dashboard_id}"
    headers = {"x-api-key": key}
    session = requests.Session()
    session.trust_env = False
    tags = session.get(f"{base}/tags", params={"page": 0, "page_size": 10}, headers=headers).json()
    vip = tags["items"][0]["id"]

    dash = backend.dashboards[dashboard_id]
    filtered = {"page": 0, "page_size": 100, "tags": vip, "is_archived": "false"}
    # a week of activity: what an incremental sync asks for
    stamps = sorted(c.last_contact_at for c in dash.contacts.values() if c.last_contact_at)
    week = datetime.fromtimestamp(stamps[-1] / 1000 - 7 * 86400, UTC).isoformat()
    timed = {"page": 0, "page_size": 100, "last_message_timestamp_after_utc": week}
    created = {"page": 0, "page_size": 100, "contact_created_before": "2099-01-01"}
    field_id = next(iter(dash.fields))
    # a customer with a conversation and a value in the field: every query below matches
    customer = next(c for c in reversed(dash.conv_order.values()) if field_id in c.custom_fields)
    by_field = {
        "page": 0,
        "page_size": 100,
        "custom_field_id_1": field_id,
        "custom_field_value_1": customer.custom_fields[field_id].lower(),
    }
    by_name = {"page": 0, "page_size": 100, "search": "smith"}
    by_number = {"page": 0, "page_size": 100, "search": customer.phone[3:8]}
    short_name = {"page": 0, "page_size": 100, "search": "an"}
    contacts_url, conversations_url = f"{base}/contacts", f"{base}/conversations"
    cold = dash.list_cache.clear
    results = {
        "benchmark": "sandbox",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "seed": {
            "contacts": args.contacts,
            "messages": seeded_messages,
            "seconds": round(seed_seconds, 2),
        },
        "state_save": state_save(backend, session, f"{base}/tags", headers),
        # A sync pages through one query: the first page builds the filtered list from the
        # line's indexes ("cold": the list cache is dropped before every request), later
        # pages and repeats reuse that list until the data changes ("warm").
        "get_contacts_filtered": measure(
            session, f"{base}/contacts", filtered, headers, args.requests
        ),
        "get_contacts_filtered_cold": measure(
            session, f"{base}/contacts", filtered, headers, args.requests, dash.list_cache.clear
        ),
        "get_contacts_deep_page": measure(
            session, f"{base}/contacts", {"page": 300, "page_size": 100}, headers, args.requests
        ),
        "get_conversations": measure(
            session, f"{base}/conversations", {"page": 0, "page_size": 100}, headers, args.requests
        ),
        "get_conversations_cold": measure(
            session,
            f"{base}/conversations",
            {"page": 0, "page_size": 100},
            headers,
            args.requests,
            dash.list_cache.clear,
        ),
        # the filters that used to test every contact, now indexes (cold: nothing remembered)
        "get_contacts_time_filter_cold": measure(
            session, contacts_url, timed, headers, args.requests, cold
        ),
        "get_contacts_time_filter_all_cold": measure(
            session, contacts_url, created, headers, args.requests, cold
        ),
        "get_contacts_custom_field_cold": measure(
            session, contacts_url, by_field, headers, args.requests, cold
        ),
        "get_conversations_search_name_cold": measure(
            session, conversations_url, by_name, headers, args.requests, cold
        ),
        "get_conversations_search_short_name_cold": measure(
            session, conversations_url, short_name, headers, args.requests, cold
        ),
        "get_conversations_search_number_cold": measure(
            session, conversations_url, by_number, headers, args.requests, cold
        ),
        "filter_only_scan_vs_index": compare_with_a_scan(
            backend,
            dash,
            {
                "time_filter": ("contacts", timed),
                "custom_field": ("contacts", by_field),
                "search_name": ("conversations", by_name),
                "search_short_name": ("conversations", short_name),
                "search_number": ("conversations", by_number),
            },
            max(5, args.requests // 10),
        ),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    # HTTP/1.1 keep-alive: every request above went over the same connection.
    results["tcp_connections"] = server.connections_total
    server.shutdown()
    results["scale"] = args.scale
    out = recording.relative(recording.write("sandbox", results, args.out))

    print(
        f"seeded {args.contacts:,} contacts / {seeded_messages:,} messages in {seed_seconds:.2f} s"
    )
    for name, r in results.items():
        if not isinstance(r, dict) or "median_ms" not in r:
            continue
        verdict = "OK" if r["meets_target"] else "SLOW"
        print(
            f"{name:42} median {r['median_ms']:6.2f} ms  p95 {r['p95_ms']:6.2f} ms  "
            f"({r['total_items']:,} matching, {r['bytes'] / 1024:.0f} KiB)  "
            f"[{verdict} <= {TARGET_MEDIAN_MS:g} ms]"
        )
    for name, r in results["filter_only_scan_vs_index"].items():
        print(
            f"filter only, {name:28} scan {r['scan_median_ms']:7.2f} ms  "
            f"index {r['index_median_ms']:6.2f} ms"
        )
    print(
        f"{results['tcp_connections']} TCP connection(s) for all requests; "
        f"max RSS {results['max_rss_mb']} MB; results in {out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
