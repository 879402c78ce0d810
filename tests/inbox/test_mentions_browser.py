# ruff: noqa: F811  (the browser fixtures are imported from test_inbox_browser)
"""@mentions in Chromium: type @ in a note, pick a colleague by keyboard and by mouse, the note
is saved with the mentions and shows them marked; another line's people are never offered."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import make_line, make_user
from tests.inbox.test_inbox_browser import SHOTS, browser_page, demo, live_url, log_in  # noqa: F401
from tests.project.test_every_screen_browser import AXE, AXE_RUN
from textdesk.conversations.models import Conversation, Note

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_mention_a_colleague_from_the_note_form(demo, browser_page, live_url):
    page, errors = browser_page
    line = demo["line"]
    jordan = make_user("jordan", "Agent", lines=[line], last_name="Lee")
    jody = make_user("jody", "Agent", lines=[line])
    make_user("joan", "Agent", lines=[make_line(line.connection, name="Billing")])
    conversation = Conversation.objects.filter(dashboard=line).order_by("-last_message_at").first()

    log_in(page, live_url, "sam")
    page.goto(f"{live_url}/inbox/{line.pk}/c/{conversation.pk}/")
    # A thread never read loads its history, and the live updates then redraw the conversation.
    expect(page.locator("#thread-log .history-loading")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    page.get_by_text("Add an internal note").click()
    note = page.locator("#note_note")
    people = page.locator("#mention-people")
    expect(note).to_have_attribute("role", "combobox")
    note.click()
    note.press_sequentially("Please call @jo")
    expect(people).to_be_visible()
    options = people.locator("[role=option]:visible")
    expect(options).to_have_count(2)  # Jody and Jordan; Joan works another line
    expect(options.nth(0)).to_contain_text("@jody")
    expect(options.nth(1)).to_contain_text("Jordan Lee")
    expect(note).to_have_attribute("aria-expanded", "true")
    expect(note).to_have_attribute("aria-activedescendant", f"person-{jody.pk}")

    page.evaluate(AXE.read_text())  # the open picker is a sound combobox (evaluated: the CSP holds)
    assert page.evaluate(AXE_RUN) == []
    page.screenshot(path=str(SHOTS / "mentions-picker.png"))

    note.press("ArrowDown")
    expect(note).to_have_attribute("aria-activedescendant", f"person-{jordan.pk}")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    note.press("Escape")
    expect(people).to_be_hidden()
    expect(note).to_have_attribute("aria-expanded", "false")
    note.press_sequentially("r")  # typing on opens it again, narrowed
    expect(options).to_have_count(1)
    note.press("Enter")
    expect(people).to_be_hidden()
    expect(note).to_have_value("Please call @jordan ")

    note.press_sequentially("and @Jo")  # by mouse this time
    people.get_by_role("option", name=re.compile("Jody")).click()
    expect(note).to_have_value("Please call @jordan and @jody ")
    expect(note).to_be_focused()
    note.press_sequentially("today.")

    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#note-form .notice")).to_contain_text("will see it in Mentions")
    saved = Note.objects.get(conversation=conversation)
    assert saved.body == "Please call @jordan and @jody today."
    assert set(saved.mentions.all()) == {jordan, jody}
    marks = page.locator(f"#n-{saved.pk} mark.mention")
    expect(marks).to_have_text(["@jordan", "@jody"])
    page.screenshot(path=str(SHOTS / "mentions-note.png"))
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=str(SHOTS / "mentions-note-dark.png"))
    assert not errors, errors
