"""On PostgreSQL, partial search by name or number is an index lookup, not a scan."""

import pytest
from django.db import connection
from django.db.models import Q

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
    query = Contact.objects.filter(phone_number__contains="55501")
    assert "contact_phone_trgm" in plan(query)


def test_name_search_uses_the_trigram_indexes():
    query = Contact.objects.filter(Q(first_name__icontains="cas") | Q(last_name__icontains="cas"))
    result = plan(query)
    assert "contact_first_name_trgm" in result
    assert "contact_last_name_trgm" in result
