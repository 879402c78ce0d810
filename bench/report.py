"""Where every speed target stands: one table from bench/results/*.json (`make bench-report`).

Each row is one target of issue 23 (and the targets the benches carry from earlier issues):
the last measured value, when it was measured, at what load (1-minute load average and CPUs;
"?" where an older result did not record it) and at what scale, and pass or miss. A target
whose result is missing says "not measured"; nothing here runs a bench.

    .venv/bin/python bench/report.py                     # bench/results/
    TEXTDESK_BENCH_RESULTS=var/bench-smoke .venv/bin/python bench/report.py
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import recording  # noqa: E402


@dataclass
class Target:
    bench: str  # the results file (without .json)
    name: str
    limit: float
    unit: str
    value: Callable[[dict], float | None]  # the measured value, or None when not recorded
    at_most: bool = True  # False: the value must reach the limit
    scale: Callable[[dict], str] = lambda d: _scale(d)
    # Where the measured value's run context is, when not the file's own (a part run apart).
    run_of: Callable[[dict], dict | None] = lambda d: None


def _scale(d: dict) -> str:
    if "scale" in d:
        return f"scale {d['scale']:g}"
    return ""


def _get(d: dict, *path):
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def _p95(*path) -> Callable[[dict], float | None]:
    return lambda d: _get(d, *path, "p95_ms")


def _worst_p95(*path, skip=("baseline",)) -> Callable[[dict], float | None]:
    """The worst p95 of every timed request under ``path`` (the baseline page excluded)."""

    def value(d: dict):
        found = [
            v["p95_ms"]
            for k, v in (_get(d, *path) or {}).items()
            if isinstance(v, dict) and "p95_ms" in v and not k.startswith(skip)
        ]
        return max(found) if found else None

    return value


def _allowance_used(d: dict, key: str = "bulk") -> float | None:
    """Share of the sync allowance a bulk batch used: calls made / calls the limit allowed
    sync over the batch's duration (the reserve, 10 % unless recorded, is left to people)."""
    bulk = d.get(key)
    if not bulk or not bulk.get("all_written"):
        return None
    calls, per = bulk["limit"].split(" calls per ")
    share = 1 - bulk.get("sync_reserve", 0.1)
    allowed = share * int(calls) * bulk["all_written_s"] / float(per.rstrip(" s"))
    return round(100 * bulk["calls_used"] / allowed, 1) if allowed else None


def _five_minutes_per_line(key: str) -> Callable[[dict], float | None]:
    """Calls per line per 30 s cycle over the bench's five minutes of idle cycles."""

    def value(d: dict):
        sync = d.get("sync") or {}
        if key not in sync or not sync.get("lines"):
            return None
        cycles = sync.get("five_minutes_cycles", 10)
        return round(sync[key] / (len(sync["lines"]) * cycles), 2)

    return value


def _payments_scale(d: dict) -> str:
    return f"{d['payments']:,} payments" if "payments" in d else ""


def _messages_scale(d: dict) -> str:
    if "messages" in d:
        return f"{d.get('conversations', 0):,} conv. / {d['messages']:,} texts"
    return _scale(d)


def _seed_scale(d: dict) -> str:
    seed = d.get("seed") or {}
    return f"{seed.get('contacts', 0):,} contacts / {seed.get('messages', 0):,} texts"


TARGETS = [
    Target("inbox", "Inbox: worst request p95", 40, "ms", _worst_p95("server"),
           scale=_messages_scale),
    Target("inbox", "Inbox: open a conversation p95", 40, "ms",
           _p95("server", "inbox_page_with_open_conversation"), scale=_messages_scale),
    Target("inbox", "Inbox: 500-text thread p95", 40, "ms",
           _p95("server", "thread_500_messages"), scale=_messages_scale),
    Target("inbox", "Bulk: share of the sync allowance", 85, "%", _allowance_used,
           at_most=False, scale=lambda d: f"{_get(d, 'bulk', 'conversations')} resolves, "
           f"{_get(d, 'bulk', 'broker') or 'Redis'}", run_of=lambda d: _get(d, "bulk", "run")),
    Target("inbox", "Bulk, embedded broker: share of the sync allowance", 85, "%",
           lambda d: _allowance_used(d, "bulk_embedded_broker"), at_most=False,
           scale=lambda d: f"{_get(d, 'bulk_embedded_broker', 'conversations')} resolves",
           run_of=lambda d: _get(d, "bulk_embedded_broker", "run")),
    Target("inbox", "Bulk: an agent's text during it", 3000, "ms",
           lambda d: _get(d, "bulk", "agent_text_during_batch_ms"),
           scale=lambda d: f"{_get(d, 'bulk', 'conversations')} resolves",
           run_of=lambda d: _get(d, "bulk", "run")),
    Target("payments", "Finance: worst page p95", 50, "ms", _worst_p95("server"),
           scale=_payments_scale),
    Target("payments", "Finance: search a name p95", 50, "ms",
           _p95("server", "list: search a name"), scale=_payments_scale),
    # "nothing cached" is the comparison the bench keeps (what a first view cost before the
    # refresh task warmed it), not a view anyone gets.
    Target("reports", "Reports: worst view p95", 100, "ms",
           _worst_p95("pages", skip=("baseline", "admin_30_days_all_lines_nothing_cached")),
           scale=_messages_scale),
    Target("reports", "Reports: first view after a refresh p95", 100, "ms",
           _p95("pages", "admin_30_days_all_lines_first_view_after_a_refresh"),
           scale=_messages_scale),
    Target("payments", "Idle sync, webhooks down: calls/line/cycle (5 min)", 1.5, "",
           _five_minutes_per_line("quiet_five_minutes_calls_total"),
           scale=lambda d: "2 quiet demo lines", run_of=lambda d: _get(d, "sync", "run")),
    Target("sync", "Idle sync, webhooks healthy: calls/line/cycle", 1, "",
           lambda d: _get(d, "events", "hooks_healthy", "idle_cycle", "calls_per_line"),
           scale=lambda d: "2 lines"),
    Target("sandbox", "Stand-in: seeding", 3, "s", lambda d: _get(d, "seed", "seconds"),
           scale=_seed_scale),
    Target("sandbox", "Stand-in: longest request blocked by a state save", 50, "ms",
           lambda d: _get(d, "state_save", "longest_block_ms"), scale=_seed_scale),
    Target("admin", "Audit log: worst page p95", 50, "ms",
           lambda d: _get(d, "audit_log", "worst_p95_ms")),
    Target("first_run", "First run: inbox after login (max)", 15, "s",
           lambda d: d.get("inbox_after_login_s_max")),
    Target("search", "Search: worst search p95", 100, "ms",
           _worst_p95("server", skip=("baseline", "jump_to", "conversation_page")),
           scale=_messages_scale),
    Target("search", "Search: jump to a message p95", 50, "ms", _p95("server", "jump_to_old_text"),
           scale=_messages_scale),
    Target("routing", "Routing: arrival to assignment p95", 1000, "ms",
           lambda d: d.get("assign_p95_ms"), scale=lambda d: f"{d.get('arrivals', 0):,} arrivals"),
    Target("routing", "Routing: moments over capacity", 0, "", lambda d: d.get("over_capacity"),
           scale=lambda d: f"{d.get('arrivals', 0):,} arrivals"),
    Target("routing", "Routing: fairness (most/fewest per agent)", 1.2, "",
           lambda d: d.get("fairness"), scale=lambda d: f"{d.get('agents', 0)} agents"),
    Target("scheduled", "Scheduled: texts sent twice", 0, "", lambda d: d.get("duplicates"),
           scale=lambda d: f"{d.get('due', 0):,} due at once"),
    Target("scheduled", "Scheduled: 429s from Text Request", 0, "",
           lambda d: d.get("rate_limited_429"), scale=lambda d: f"{d.get('due', 0):,} due at once"),
    Target("scheduled", "Scheduled: an agent's reply during the batch p95", 3, "s",
           lambda d: d.get("agent_reply_p95_s"),
           scale=lambda d: f"{d.get('due', 0):,} due at once"),
]  # fmt: skip


def context(d: dict) -> tuple[str, str, str]:
    """(when, load, commit) of a result, from ``run`` (recording.write) or older keys."""
    run = d.get("run") or {}
    when = run.get("when") or d.get("when") or _get(d, "events", "when") or "?"
    load = run.get("load_average")
    if load:
        load_text = f"{load[0]:.1f}/{run.get('cpus', '?')} CPU"
    elif "load_average_1m" in d:
        load_text = f"{d['load_average_1m']:.1f}"
    elif _get(d, "events", "load_average_after"):
        load_text = f"{d['events']['load_average_after'][0]:.1f}"
    else:
        load_text = "?"
    return when[:16].replace("T", " "), load_text, (run.get("commit") or "")[:8]


def rows(folder: Path) -> list[tuple[str, ...]]:
    loaded: dict[str, dict | None] = {}
    table = []
    for target in TARGETS:
        if target.bench not in loaded:
            path = folder / f"{target.bench}.json"
            loaded[target.bench] = json.loads(path.read_text()) if path.exists() else None
        d = loaded[target.bench]
        sign = "≤" if target.at_most else "≥"
        goal = f"{sign} {target.limit:g} {target.unit}".rstrip()
        value = target.value(d) if d is not None else None
        if value is None:
            table.append((target.name, goal, "—", "", "", "", "not measured"))
            continue
        when, load, commit = context({"run": target.run_of(d)} if target.run_of(d) else d)
        ok = value <= target.limit if target.at_most else value >= target.limit
        table.append(
            (
                target.name,
                goal,
                f"{value:g} {target.unit}".rstrip(),
                when,
                load,
                target.scale(d),
                ("pass" if ok else "MISS") + (f" ({commit})" if commit else ""),
            )
        )
    return table


def main() -> None:
    folder = recording.results_path("x").parent
    header = ("target", "goal", "last value", "measured (UTC)", "load", "at", "result")
    table = [header, *rows(folder)]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    print(f"bench results in {recording.relative(folder)}/")
    for n, row in enumerate(table):
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())
        if n == 0:
            print("  ".join("-" * width for width in widths))


if __name__ == "__main__":
    main()
