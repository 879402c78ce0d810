"""Where every bench writes its results, and what each result records about the run.

A figure means little without the machine's load and the code it measured: every result file
carries the load average (1, 5, 15 min), the CPU count and the git commit (and whether the tree
had uncommitted changes). Paths in a result are relative to the repository.

``TEXTDESK_BENCH_RESULTS`` sends the files elsewhere (``make bench-smoke`` writes to
var/bench-smoke/, so a smoke run never replaces the real figures in bench/results/), and
``TEXTDESK_BENCH_DB_PREFIX`` names the PostgreSQL databases the benches generate (default
``textdesk_bench``), so a smoke run does not regenerate a real run's data at a tiny scale.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def results_path(name: str) -> Path:
    folder = Path(os.environ.get("TEXTDESK_BENCH_RESULTS") or ROOT / "bench" / "results")
    if not folder.is_absolute():
        folder = ROOT / folder
    return folder / f"{name}.json"


def database(suffix: str = "") -> str:
    prefix = os.environ.get("TEXTDESK_BENCH_DB_PREFIX") or "textdesk_bench"
    return f"{prefix}_{suffix}" if suffix else prefix


def relative(path: str | Path) -> str:
    """``path`` as the repository sees it (unchanged when it lies outside)."""
    resolved = Path(path).resolve()
    try:
        return str(resolved.relative_to(ROOT))
    except ValueError:
        return str(path)


def _git(*args: str) -> str:
    try:
        answer = subprocess.run(  # noqa: S603 (fixed arguments)
            ["git", *args],  # noqa: S607 (git from PATH, as make does)
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return answer.stdout.strip()


def machine() -> dict:
    """The run's context: when, the load average, the CPUs and the commit measured."""
    return {
        "when": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "commit": _git("rev-parse", "HEAD") or None,
        "uncommitted_changes": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def write(name: str, results: dict, out: str | Path | None = None) -> Path:
    """Write ``results`` (with the run's context) as JSON; answer the path written."""
    path = Path(out) if out else results_path(name)
    if not path.is_absolute():
        path = ROOT / path
    path.parent.mkdir(parents=True, exist_ok=True)
    # The load at the end of the run: the 5 and 15 minute figures cover the run itself.
    document = {**results, "run": machine()}
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"results written to {relative(path)}")
    return path


def embedded_django(window: float, reserve: float, *, without_redis: bool = False) -> None:
    """Django on the embedded default for a bench that drives the limiter itself: a fresh
    SQLite in a temporary state dir, tasks run inline, sync leaving ``reserve`` of each
    window to people, and the limiter's headroom scaled to a ``window``-second window (the
    real one is 1 s of 60). ``without_redis``: the limiter on files even when REDIS_URL is set."""
    import tempfile

    os.environ.update(
        DJANGO_SETTINGS_MODULE="textdesk.settings",
        DEBUG=os.environ.get("DEBUG", "1"),  # a developer's run: development settings
        TEXTDESK_STATE_DIR=tempfile.mkdtemp(prefix="textdesk-bench-"),
        CELERY_TASK_ALWAYS_EAGER="1",
        TEXTDESK_RATE_LIMIT_SYNC_RESERVE=str(reserve),
    )
    os.environ.pop("DATABASE_URL", None)
    if without_redis:
        os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.TEXTDESK_RATE_LIMIT_HEADROOM = window / 60.0
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
