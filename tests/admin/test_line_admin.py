"""Admin pages that read Text Request fail fast with a message when it does not answer."""

import pytest
from django.urls import reverse

from tests.conftest import make_user
from tests.textrequest_helpers import connect

pytestmark = pytest.mark.django_db(transaction=True)


def test_free_numbers_give_up_quickly_with_a_message(client, sandbox_server, sandbox_account,
                                                     settings):  # fmt: skip
    """Text Request answers, but only after the admin timeout (well inside the read timeout
    every other call gets): the page says so instead of holding the admin's request."""
    settings.TEXTREQUEST_READ_TIMEOUT = 30
    settings.TEXTDESK_ADMIN_TIMEOUT = 0.5
    connection = connect(sandbox_account)
    client.force_login(make_user("avery", "Admin"))
    url = reverse("dashboards:new")
    sandbox_server.control.set_faults(api_key=sandbox_account.api_key, latency_ms=2500)
    try:
        page = client.get(url, {"connection": connection.pk, "area_code": "865"})
    finally:
        sandbox_server.control.clear_faults(api_key=sandbox_account.api_key)
    assert page.status_code == 200
    assert "Text Request did not answer in time; try again in a minute." in page.content.decode()
    assert page.context["numbers"] == []
    assert 'value="865"' in page.content.decode()  # the search is kept
    # Once Text Request answers again, the same search works.
    again = client.get(url, {"connection": connection.pk, "area_code": "865"})
    assert again.context["numbers"]


def test_free_numbers_with_text_request_down_say_so(client, db):
    from tests.conftest import make_connection

    connection = make_connection(api_url="http://127.0.0.1:9/api/v3")  # nothing listens
    client.force_login(make_user("avery", "Admin"))
    page = client.get(reverse("dashboards:new"), {"connection": connection.pk, "area_code": "865"})
    assert page.status_code == 200
    assert "Text Request did not answer in time" in page.content.decode()
