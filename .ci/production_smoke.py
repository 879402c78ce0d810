"""The browser half of .ci/production-smoke: against the running production processes, an agent
signs in, opens a conversation, sends a text and sees Text Request (the stand-in) deliver it.

    python .ci/production_smoke.py http://127.0.0.1:PORT SCREENSHOT_DIR

Runs with the production environment of the script (DEBUG off), so the agent it creates goes
into the same PostgreSQL database the web processes use.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "textdesk.settings")

PASSWORD = "smoke test passphrase 42"


def make_agent() -> None:
    import django

    django.setup()
    from django.contrib.auth.models import Group

    from textdesk.accounts.models import User
    from textdesk.dashboards.models import Dashboard

    user = User.objects.create_user(username="smoke", password=PASSWORD, first_name="Smoke")
    user.groups.add(Group.objects.get(name="Agent"))
    user.dashboards.set(Dashboard.objects.all())


def main() -> None:
    base, shots = sys.argv[1], Path(sys.argv[2])
    shots.mkdir(parents=True, exist_ok=True)
    make_agent()
    from playwright.sync_api import expect, sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.set_default_timeout(20_000)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base}/accounts/login/")
        page.fill("input[name=username]", "smoke")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/inbox/\d+/"))
        # The first sync runs on the sync worker: wait for the list to fill.
        deadline = time.monotonic() + 90
        while not page.locator("#rows .row").count():
            if time.monotonic() > deadline:
                raise SystemExit("the inbox stayed empty: did the sync worker run?")
            time.sleep(2)
            page.reload()
        page.screenshot(path=str(shots / "01-inbox.png"))
        # A conversation that can be texted (no "Texting is off" notice).
        for row in range(page.locator("#rows .row").count()):
            page.locator("#rows .row .row-link").nth(row).click()
            page.wait_for_url(re.compile(r"/c/\d+/"))
            expect(page.locator("#composer")).to_be_visible()
            if not page.locator("#composer .composer-blocked").count():
                break
        else:
            raise SystemExit("no conversation can be texted")
        body = f"Production smoke {int(time.time())}"
        composer = page.locator("#composer textarea[name=body]")
        composer.fill(body)
        composer.press("Enter")
        sent = page.locator("#thread-log .msg-out", has_text=body)
        expect(sent).to_be_visible()
        # Sent by the interactive worker; delivered by the stand-in's status callback.
        expect(sent.locator(".msg-meta")).to_contain_text("Delivered", timeout=60_000)
        page.screenshot(path=str(shots / "02-delivered.png"))
        browser.close()
    if errors:
        raise SystemExit("page errors:\n" + "\n".join(errors))
    print(f"sent and delivered: {body!r}")


if __name__ == "__main__":
    main()
