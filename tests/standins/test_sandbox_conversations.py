"""Conversations: STOP/START, archive rules, is_resolved, blocked contacts, ordering, filters."""

import pytest

P1, P2, P3 = "4235550181", "4235550182", "4235550183"


@pytest.fixture
def line(sandbox_account):
    acct = sandbox_account
    return acct, f"/dashboards/{acct.dashboard_id}"


def inbound(acct, phone, body, media=None):
    return acct.control.inbound(acct.api_key, acct.dashboard_id, phone, body, media)


def send(acct, d, phone, body="Hello"):
    return acct.post(f"{d}/contacts/{phone}/messages", json={"body": body})


def contact(acct, d, phone):
    return acct.get(f"{d}/contacts/{phone}").json()


def listed(acct, d, **params):
    r = acct.get(d + "/conversations", **params)
    if r.status_code == 204:
        return []
    assert r.status_code == 200, r.text
    return [c["phone_number"] for c in r.json()["items"]]


@pytest.mark.parametrize(
    "word", ["STOP", "stop", " Stop. ", "STOPALL", "unsubscribe", "Cancel", "END", "quit"]
)
def test_opt_out_words_opt_out_and_archive(line, word):
    acct, d = line
    send(acct, d, P1)
    inbound(acct, P1, word)
    c = contact(acct, d, P1)
    assert c["opted_out_utc"] is not None and c["is_archived"] is True
    r = send(acct, d, P1)
    assert r.status_code == 400 and "opted out" in r.json()["message"]
    assert listed(acct, d) == []
    assert listed(acct, d, include_archived="true") == [P1]


def test_stop_inside_a_sentence_does_not_opt_out(line):
    acct, d = line
    inbound(acct, P1, "please stop by tomorrow")
    assert contact(acct, d, P1)["opted_out_utc"] is None


@pytest.mark.parametrize("word", ["START", "unstop"])
def test_start_opts_back_in_and_unarchives(line, word):
    acct, d = line
    inbound(acct, P1, "STOP")
    inbound(acct, P1, word)
    c = contact(acct, d, P1)
    assert c["opted_out_utc"] is None and c["is_archived"] is False
    assert send(acct, d, P1).status_code == 200


def test_any_new_text_unarchives(line):
    acct, d = line
    send(acct, d, P1)
    assert acct.put(f"{d}/contacts/{P1}/conversations/archive").json() == "Conversation archived."
    assert contact(acct, d, P1)["is_archived"] is True
    assert listed(acct, d) == []
    send(acct, d, P1)
    assert contact(acct, d, P1)["is_archived"] is False
    acct.put(f"{d}/contacts/{P1}/conversations/archive")
    inbound(acct, P1, "hello?")
    assert contact(acct, d, P1)["is_archived"] is False
    acct.put(f"{d}/contacts/{P1}/conversations/archive")
    acct.put(f"{d}/contacts/{P1}/conversations/unarchive")
    acct.put(f"{d}/contacts/{P1}/conversations/unarchive")  # no effect when not archived
    assert listed(acct, d) == [P1]


def test_archiving_an_unknown_conversation_is_400(line):
    acct, d = line
    r = acct.put(f"{d}/contacts/{P3}/conversations/archive")
    assert r.status_code == 400 and r.json()["message"]


def test_a_received_text_clears_is_resolved_but_a_sent_one_does_not(line):
    acct, d = line
    inbound(acct, P1, "hi")
    acct.post(f"{d}/contacts/{P1}", json={"is_resolved": True})
    send(acct, d, P1)
    assert contact(acct, d, P1)["is_resolved"] is True
    inbound(acct, P1, "one more thing")
    assert contact(acct, d, P1)["is_resolved"] is False


def test_blocked_contacts_are_not_texted_and_their_texts_not_stored(line):
    acct, d = line
    inbound(acct, P1, "hi")
    acct.post(f"{d}/contacts/{P1}", json={"is_blocked": True})
    r = send(acct, d, P1)
    assert r.status_code == 400 and "blocked" in r.json()["message"]
    result = inbound(acct, P1, "hello again")
    assert result["stored"] is False
    assert contact(acct, d, P1)["total_msgs_received"] == 1


def test_conversations_newest_first_and_messages_newest_first(line):
    acct, d = line
    send(acct, d, P1, "first")
    send(acct, d, P2, "second")
    inbound(acct, P1, "third")
    assert listed(acct, d) == [P1, P2]
    msgs = acct.get(f"{d}/contacts/{P1}/messages", page=0, page_size=1).json()
    assert msgs["meta"] == {"page": 0, "page_size": 1, "total_items": 2}
    assert msgs["items"][0]["body"] == "third" and msgs["items"][0]["message_direction"] == "R"
    older = acct.get(f"{d}/contacts/{P1}/messages", page=1, page_size=1).json()
    assert older["items"][0]["body"] == "first" and older["items"][0]["message_direction"] == "S"
    past = acct.get(f"{d}/contacts/{P1}/messages", page=5, page_size=1)
    assert past.status_code == 200 and past.json()["items"] == []


def test_conversation_filters(line):
    acct, d = line
    tags = acct.get(d + "/tags", page=0, page_size=10).json()["items"]
    acct.post(
        f"{d}/contacts/{P1}", json={"display_name": "Maria Garcia", "contact_tags": [tags[0]["id"]]}
    )
    acct.post(f"{d}/contacts/{P2}", json={"display_name": "Tom Baker", "is_resolved": True})
    inbound(acct, P1, "hi")
    send(acct, d, P2)
    send(acct, d, P3)
    acct.put(f"{d}/contacts/{P3}/conversations/archive")
    assert listed(acct, d) == [P2, P1]
    assert listed(acct, d, include_archived="true") == [P3, P2, P1]
    assert listed(acct, d, show_unresolved_only="true") == [P1]
    assert listed(acct, d, tags=tags[0]["id"]) == [P1]
    assert listed(acct, d, search="garc") == [P1]
    assert listed(acct, d, search="423-555-0182") == [P2]
    assert listed(acct, d, search="0183", include_archived="true") == [P3]
    assert listed(acct, d, search="nobody") == []
    page = acct.get(d + "/conversations", page=1, page_size=1).json()
    assert page["meta"] == {"page": 1, "page_size": 1, "total_items": 2}


def test_inbound_mms_is_rehosted_on_text_request_urls(line):
    acct, d = line
    msg = inbound(acct, P1, "", ["https://example.com/photos/leak.jpg"])
    assert len(msg["mms_media"]) == 1
    assert msg["mms_media"][0].startswith("https://mms.textrequest.com/")
    r = acct.post(
        f"{d}/contacts/{P1}/messages", json={"body": "Got it", "mms_media": msg["mms_media"]}
    )
    assert r.status_code == 200 and r.json()["mms_media"] == msg["mms_media"]
    r = acct.post(
        f"{d}/contacts/{P1}/messages",
        json={"body": "x", "mms_media": ["https://evil.example/a.png"]},
    )
    assert r.status_code == 400


def test_sending_to_a_new_number_creates_the_contact(line):
    acct, d = line
    assert acct.get(f"{d}/contacts/{P3}").status_code == 204
    sent = send(acct, d, "+1 (423) 555-0183", "Welcome!").json()
    assert sent["response_by_username"] == "API"
    c = contact(acct, d, P3)
    assert c["total_msgs_sent"] == 1 and c["last_message"]["message_id"] == sent["message_id"]


def test_keyword_texts_join_the_keyword_group(sandbox_server):
    from standins.textrequest.pytest_fixtures import make_account

    acct = make_account(sandbox_server, seed="demo", contacts=5, messages=10, dashboards=1)
    d = f"/dashboards/{acct.dashboard_id}"
    keyword = next(
        g for g in acct.get(d + "/groups", page=0, page_size=50).json()["items"] if g["is_keyword"]
    )
    inbound(acct, P1, "winter")
    assert keyword["id"] in contact(acct, d, P1)["groups"]
