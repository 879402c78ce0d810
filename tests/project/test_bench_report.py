"""`make bench-report`: one row per speed target from a results folder, pass or miss against
the target, with when and at what load it was measured; a missing result says so."""

import json

from bench import report


def test_each_target_reads_its_last_result(tmp_path):
    run = {"when": "2026-12-07T21:00:00+00:00", "load_average": [3.5, 3, 2], "cpus": 2,
           "commit": "0123456789abcdef"}  # fmt: skip
    server = {
        "baseline_logged_in_page": {"p95_ms": 99.0},  # the baseline is no target
        "inbox_page": {"p95_ms": 20.0},
        "inbox_page_with_open_conversation": {"p95_ms": 41.0},
        "thread_500_messages": {"p95_ms": 39.5},
    }
    bulk = {
        "conversations": 1000,
        "limit": "100 calls per 10 s",
        "all_written_s": 110.0,
        "sync_reserve": 0.1,
        "all_written": True,
        "calls_used": 901,
        "agent_text_during_batch_ms": 400.0,
    }
    (tmp_path / "inbox.json").write_text(
        json.dumps(
            {
                "conversations": 100_000,
                "messages": 1_000_000,
                "server": server,
                "bulk": bulk,
                "run": run,
            }
        )  # fmt: skip
    )
    rows = {row[0]: row for row in report.rows(tmp_path)}
    assert rows["Inbox: worst request p95"][2] == "41 ms"
    assert rows["Inbox: worst request p95"][6] == "MISS (01234567)"
    assert rows["Inbox: 500-text thread p95"][6].startswith("pass")
    assert rows["Inbox: open a conversation p95"][3:5] == ("2026-12-07 21:00", "3.5/2 CPU")
    # 901 calls of the 990 the limit leaves sync in 110 s (a 10 % reserve for people)
    assert rows["Bulk: share of the sync allowance"][2] == "91 %"
    assert rows["Bulk: share of the sync allowance"][6].startswith("pass")
    assert rows["Finance: search a name p95"][6] == "not measured"
