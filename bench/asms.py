"""Benchmark of the ASMS sandbox and client: with N cases in a tenant, the latency through
``AsmsClient`` of GetCase, of SearchTickets for one case's marker (how an unknown creation is
settled) and of CreateCase.

Run: ``.venv/bin/python bench/asms.py [--cases N] [--requests N]``. Needs no Django settings.
Writes bench/results/asms.json and prints a summary.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import recording  # noqa: E402
from standins.asms.testing import AsmsSandboxServer  # noqa: E402
from textdesk.asms import AsmsClient, Filter  # noqa: E402

NEW_CASE = {"itemType": 1, "projectId": 1, "serviceId": 11, "categoryId": 111}


def measure(call, n: int) -> dict:
    for _ in range(5):  # warm up
        call(0)
    samples = []
    for i in range(n):
        started = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "requests": n,
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 2),
        "max_ms": round(samples[-1], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiplies --cases and --requests")  # fmt: skip
    args = parser.parse_args()
    args.cases = max(int(args.cases * args.scale), 50)
    args.requests = max(int(args.requests * args.scale), 10)
    with AsmsSandboxServer() as server:
        token = server.control.new_tenant()
        tenant = server.backend.tenants[token]
        started = time.perf_counter()
        for i in range(args.cases):
            server.backend._create(
                tenant, {**NEW_CASE, "subject": f"Case {i}", "description": f"ref textdesk-{i:08d}"}
            )
        seeded = time.perf_counter() - started
        client = AsmsClient(server.url, token, timeout=(3.05, 30))
        codes = [c.code for c in tenant.cases.values()]
        result = {
            "benchmark": "asms",
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cases": args.cases,
            "seed_seconds": round(seeded, 2),
            "get_case": measure(lambda i: client.get_case(codes[i % len(codes)]), args.requests),
            "search_marker": measure(
                lambda i: client.search_cases(
                    [Filter("Description", "Like", f"textdesk-{(i * 37) % args.cases:08d}")]
                ),
                args.requests,
            ),
            "create_case": measure(
                lambda i: client.create_case(
                    item_type=1, project_id=1, service_id=11, category_id=111, subject=f"New {i}"
                ),
                args.requests,
            ),
        }
    result["scale"] = args.scale
    print(json.dumps(result, indent=2))
    recording.write("asms", result)


if __name__ == "__main__":
    main()
