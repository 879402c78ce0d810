"""The data admin (/admin/) is for superusers; Admins use the app's own pages."""

from tests.conftest import make_user


def test_the_data_admin_is_for_superusers_only(client, db):
    staff_admin = make_user("stan", "Admin", is_staff=True)
    client.force_login(staff_admin)
    assert client.get("/admin/").status_code == 302  # to the data admin's login
    client.force_login(make_user("root", None, is_staff=True, is_superuser=True))
    assert client.get("/admin/").status_code == 200
