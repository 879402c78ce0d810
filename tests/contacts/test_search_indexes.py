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
    assert "contact_names_trgm" in result
    assert "Seq Scan" not in result


def test_the_inbox_name_search_uses_the_one_names_index():
    """`matching` (the inbox list, the new-conversation picker, the contacts page) matches the
    expression of `contact_names_trgm` exactly, also as a subquery (relabelled columns)."""
    query = Contact.objects.matching("mari")
    assert "contact_names_trgm" in plan(query)
    from textdesk.conversations.models import Conversation

    nested = Conversation.objects.filter(contact__in=Contact.objects.matching("mari smith"))
    assert "contact_names_trgm" in plan(nested)


def test_a_word_matches_any_of_the_names_but_never_across_two():
    from tests.conftest import make_line

    line = make_line()
    Contact.objects.create(dashboard=line, phone_number="6155550101", first_name="Marisol",
                           last_name="Smith")  # fmt: skip
    Contact.objects.create(dashboard=line, phone_number="6155550102", display_name="Dr Mari Lee")
    Contact.objects.create(dashboard=line, phone_number="6155550103", first_name="Ann",
                           last_name="Arbor")  # fmt: skip
    names = lambda q: sorted(c.phone_number for c in Contact.objects.matching(q))  # noqa: E731
    assert names("MARI") == ["6155550101", "6155550102"]
    assert names("mari smi") == ["6155550101"]
    assert names("lee") == ["6155550102"]
    assert names("nar") == []  # "Ann" + "Arbor" joined would be "ann arbor": no "nar"
    assert names("ann arb") == ["6155550103"]


def test_a_name_and_a_number_together_use_only_indexes():
    result = plan(Contact.objects.matching("cas 55501 b2"))
    assert "_trgm" in result  # the planner may serve one word by index and filter the rest
    assert "Seq Scan" not in result


def test_the_inbox_search_scoped_to_a_line_uses_the_indexes(line):
    result = plan(Contact.objects.filter(dashboard=line).matching("cas"))
    assert "Seq Scan" not in result
