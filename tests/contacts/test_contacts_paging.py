"""The contacts list: a stable order, a total, Next and Previous pages by keyset, tags by line."""

import re

from django.urls import reverse

from tests.conftest import make_line
from textdesk.contacts.models import Contact, Tag
from textdesk.contacts.views import PAGE_SIZE


def names_on(page) -> list[str]:
    return re.findall(r'href="/contacts/\d+/">([^<]+)</a>', page.content.decode())


def test_pages_go_forward_and_back_with_a_total(client, agent, line):
    Contact.objects.bulk_create(
        Contact(dashboard=line, phone_number=f"6155550{i:03d}", first_name=f"Person {i:03d}")
        for i in range(PAGE_SIZE + 5)
    )
    client.force_login(agent)
    first = client.get(reverse("contacts:list"))
    assert f"{PAGE_SIZE + 5} contacts" in first.content.decode()
    assert names_on(first)[0] == "Person 000"
    assert "Previous page" not in first.content.decode()
    after = re.search(r"after=(\d+)", first.content.decode()).group(1)

    second = client.get(reverse("contacts:list"), {"after": after})
    assert names_on(second) == [f"Person {i:03d}" for i in range(PAGE_SIZE, PAGE_SIZE + 5)]
    assert "Next page" not in second.content.decode()
    before = re.search(r"before=(\d+)", second.content.decode()).group(1)

    back = client.get(reverse("contacts:list"), {"before": before})
    assert names_on(back) == names_on(first)
    assert "Previous page" not in back.content.decode()
    assert "Next page" in back.content.decode()


def test_a_bad_cursor_is_a_400(client, agent):
    client.force_login(agent)
    assert client.get(reverse("contacts:list"), {"before": "x"}).status_code == 400


def test_the_tag_filter_groups_tags_by_line(client, admin_user, line):
    billing = make_line(line.connection, name="Billing")
    for dashboard, tag_id in ((line, 1), (billing, 2)):
        Tag.objects.create(dashboard=dashboard, tag_id=tag_id, name="VIP")
    client.force_login(admin_user)
    body = client.get(reverse("contacts:list")).content.decode()
    select = body[body.index('name="tag"') : body.index("</select>", body.index('name="tag"'))]
    assert '<optgroup label="Billing">' in select
    assert f'<optgroup label="{line.name}">' in select
    assert "VIP (" not in select
