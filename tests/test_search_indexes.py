"""On PostgreSQL, partial search by name or number is an index lookup, not a scan."""

import pytest
from django.db import connection

from textdesk.contacts.models import Contact

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def plan(queryset) -> str:
    """The plan PostgreSQL picks when only bitmap index scans are allowed (test tables are
    tiny, so it would rather scan): an index whose expression does not match the lookup
    can never serve it, so the plan falls back to a (disabled) scan instead."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    return queryset.explain()


def test_number_search_uses_the_trigram_index():
    result = plan(Contact.objects.matching("(555) 01"))
    assert "contact_phone_trgm" in result
    assert "Seq Scan" not in result


def test_name_search_uses_the_trigram_indexes():
    result = plan(Contact.objects.matching("cas"))
    for column in ("first_name", "last_name", "display_name"):
        assert f"contact_{column}_trgm" in result
    assert "Seq Scan" not in result


def test_a_name_and_a_number_together_use_only_indexes():
    result = plan(Contact.objects.matching("cas 55501 b2"))
    assert "_trgm" in result  # the planner may serve one word by index and filter the rest
    assert "Seq Scan" not in result


def test_the_inbox_search_scoped_to_a_line_uses_the_indexes(line):
    result = plan(Contact.objects.filter(dashboard=line).matching("cas"))
    assert "Seq Scan" not in result
