"""First run: how long after `make run` a newcomer waits for the full demo.

Starts from an empty state directory the way `make run` does (Makefile, Procfile.dev):
migrate, then together the Text Request sandbox (seeded with the demo, a simulated customer
every 40 s), the two workers, beat, and the web chain (`demo_setup`, which waits for the
sandbox, connects and creates the demo users, then `runserver`). The ASMS sandbox and
`service_desk connect` are left out: the inbox does not wait for them.

It measures, each from the moment everything was started:

- ``login_page_s``: the login page answers;
- ``inbox_full_s``: signed in as the demo agent, the inbox shows the full demo: no
  "Syncing your lines…", every line's unresolved count in and their sum above zero, rows in
  the list. ``inbox_after_login_s`` is the difference, the figure with a target (≤ 15 s,
  issue 22);
- ``collected_s`` (``--finance``): Finance's summary shows a non-zero "Collected this month"
  (the demo's customers pay in the portal 20–120 s after the sandbox starts).

Also ``seed_s``: seeding the demo in-process (target under 3 s), and ``migrate_s``.

    .venv/bin/python bench/first_run.py                 # the demo as `make run` seeds it
    .venv/bin/python bench/first_run.py --scale 0.2 --no-finance   # make bench-smoke
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import recording  # noqa: E402

ROOT = recording.ROOT
PY = str(ROOT / ".venv" / "bin" / "python")
CELERY = str(ROOT / ".venv" / "bin" / "celery")
DEMO_KEY = "tr_demo_4f1c2a9e7b3d"
COUNT = re.compile(r'<span class="count">(\d+|999\+)<span class="visually-hidden"> unresolved')
COLLECTED = re.compile(r"Collected this month</div><div class=\"stat-value\">\$([\d,]+\.\d\d)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed_seconds(contacts: int, messages: int) -> float:
    from standins.textrequest.backend import Backend

    started = time.perf_counter()
    Backend(seed="demo", contacts=contacts, messages=messages)
    return time.perf_counter() - started


def session() -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # never through a proxy: everything is on this machine
    return s


def sign_in(web: str, username: str, password: str) -> requests.Session:
    s = session()
    page = s.get(f"{web}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = s.post(
        f"{web}/accounts/login/",
        data={"csrfmiddlewaretoken": token, "username": username, "password": password},
        headers={"Referer": f"{web}/accounts/login/"},
        timeout=10,
    )
    if "/accounts/login/" in answer.url:
        raise SystemExit(f"could not sign in as {username}")
    return s


def inbox_full(page: str) -> bool:
    counts = COUNT.findall(page)
    return (
        "Syncing" not in page
        and bool(counts)
        and sum(1000 if c == "999+" else int(c) for c in counts) > 0
        and 'class="rows"' in page
    )


def wait_for(check, deadline: float, step: float = 0.25):
    while time.monotonic() < deadline:
        try:
            value = check()
        except requests.RequestException:
            value = None
        if value:
            return value
        time.sleep(step)
    return None


def one_run(args) -> dict:
    state = Path(tempfile.mkdtemp(prefix="first-run-", dir=ROOT / "var"))
    api, web_port = free_port(), free_port()
    web = f"http://127.0.0.1:{web_port}"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "TEXTREQUEST_API_KEY")
    }
    env.update(
        DEBUG="1",
        TEXTDESK_STATE_DIR=str(state),
        TEXTREQUEST_API_URL=f"http://127.0.0.1:{api}/api/v3",
        # The sandbox's events must reach this run's web server, as they reach :8000.
        TEXTDESK_PUBLIC_URL=web,
        PYTHONUNBUFFERED="1",
    )
    procs: list[subprocess.Popen] = []
    logs = open(state / "processes.log", "wb")  # noqa: SIM115 - closed in finally

    def start(*cmd: str) -> None:
        procs.append(
            subprocess.Popen(  # noqa: S603 - our own commands
                cmd,
                cwd=ROOT,
                env=env,
                stdout=logs,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        )

    result: dict = {}
    try:
        started = time.perf_counter()
        subprocess.run(  # noqa: S603
            [PY, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        result["migrate_s"] = round(time.perf_counter() - started, 2)

        t0 = time.monotonic()
        sandbox = [PY, "manage.py", "sandbox", "serve", "--port", str(api),
                   "--simulate-customers", "40",
                   "--state", str(state / "sandbox.state")]  # fmt: skip
        if args.contacts is not None:
            sandbox += ["--contacts", str(args.contacts), "--messages", str(args.messages)]
        start(*sandbox)
        for queue in ("interactive", "sync"):  # as Procfile.dev
            start(CELERY, "-A", "textdesk", "worker", "-Q", queue, "--prefetch-multiplier", "1",
                  "--concurrency", "1", "-n", f"{queue}@%h", "--loglevel", "WARNING")  # fmt: skip
        start(CELERY, "-A", "textdesk", "beat", "--loglevel", "WARNING")
        start("sh", "-c", f"{PY} manage.py demo_setup && "
              f"exec {PY} manage.py runserver 127.0.0.1:{web_port} --noreload")  # fmt: skip
        deadline = t0 + args.timeout

        login = wait_for(
            lambda: session().get(f"{web}/accounts/login/", timeout=5).status_code == 200,
            deadline,
        )
        if not login:
            raise SystemExit(f"the login page never answered; see {state / 'processes.log'}")
        result["login_page_s"] = round(time.monotonic() - t0, 2)

        agent = sign_in(web, "agent", "textdesk-agent")
        syncing_seen = False

        def full():
            nonlocal syncing_seen
            page = agent.get(f"{web}/inbox/", timeout=10).text
            syncing_seen = syncing_seen or "Syncing your lines" in page
            return inbox_full(page)

        if not wait_for(full, deadline):
            raise SystemExit(f"the inbox never filled; see {state / 'processes.log'}")
        result["inbox_full_s"] = round(time.monotonic() - t0, 2)
        result["inbox_after_login_s"] = round(result["inbox_full_s"] - result["login_page_s"], 2)
        result["saw_syncing_state"] = syncing_seen

        if args.finance:
            finance = sign_in(web, "finance", "textdesk-finance")

            def collected():
                page = finance.get(f"{web}/payments/summary/", timeout=10).text
                found = COLLECTED.search(page)
                return found and float(found.group(1).replace(",", "")) > 0

            if wait_for(collected, t0 + args.timeout + 150, step=1.0):
                result["collected_s"] = round(time.monotonic() - t0, 2)
            else:
                result["collected_s"] = None
    finally:
        for proc in procs:
            with _quiet():
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with _quiet():
                    os.killpg(proc.pid, signal.SIGKILL)
        logs.close()
        if not args.keep:
            shutil.rmtree(state, ignore_errors=True)
    return result


class _quiet:
    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        return kind is not None and issubclass(kind, ProcessLookupError)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="of the demo's 60/600 sizes")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds per run")
    parser.add_argument("--finance", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--keep", action="store_true", help="keep the state directories")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    args.contacts = args.messages = None
    if args.scale != 1.0:
        args.contacts = max(6, round(60 * args.scale))
        args.messages = max(20, round(600 * args.scale))
    (ROOT / "var").mkdir(exist_ok=True)
    seeds = [seed_seconds(args.contacts or 60, args.messages or 600) for _ in range(3)]
    runs = []
    for i in range(args.runs):
        run = one_run(args)
        print(f"run {i + 1}: {run}")
        runs.append(run)
    after = [r["inbox_after_login_s"] for r in runs]
    recording.write(
        "first_run",
        {
            "scale": args.scale,
            "demo_contacts": args.contacts or 60,
            "demo_messages": args.messages or 600,
            "seed_s_median": round(statistics.median(seeds), 4),
            "inbox_after_login_s_median": statistics.median(after),
            "inbox_after_login_s_max": max(after),
            "target_inbox_after_login_s": 15,
            "runs": runs,
        },
        args.out,
    )


if __name__ == "__main__":
    main()
