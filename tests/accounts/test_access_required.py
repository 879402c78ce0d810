"""Every page needs a signed-in user: walk the URL resolver instead of listing URLs by hand."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# Views that must answer strangers: signing in, the health check, and Text Request's webhook
# receivers (which carry their own secret in the URL and 404 without it).
PUBLIC = {"accounts:login", "healthz"}
PUBLIC_PREFIXES = ("hooks/",)


def walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace or namespace
            if ns == "admin":
                continue  # Django's admin has its own sign-in, tested below
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield name, prefix + str(pattern.pattern)


def concrete(route: str) -> str:
    """Fill every converter with a plausible value: any id, any token."""
    route = re.sub(r"<int:\w+>", "1", route)
    route = re.sub(r"<uuid:\w+>", "00000000-0000-0000-0000-000000000001", route)
    route = re.sub(r"<(?:str|slug|path:)?\w*:?\w+>", "x", route)
    return "/" + route.lstrip("^").rstrip("$")


ROUTES = sorted(set(walk(get_resolver().url_patterns)))
PRIVATE = [
    (name, route)
    for name, route in ROUTES
    if name not in PUBLIC and not route.startswith(PUBLIC_PREFIXES)
]


def test_the_resolver_walk_finds_the_pages():
    names = {name for name, _ in ROUTES}
    assert {"conversations:inbox", "payments:list", "accounts:staff"} <= names


@pytest.mark.parametrize(("name", "route"), PRIVATE, ids=[name or route for name, route in PRIVATE])
def test_anonymous_request_is_sent_to_login(client, db, name, route):
    url = concrete(route)
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code == 302, (method, url, response.status_code)
        assert response["Location"].startswith("/accounts/login/"), response["Location"]


def test_webhook_routes_with_a_wrong_token_are_404(client, db):
    hook_routes = [route for _, route in ROUTES if route.startswith(PUBLIC_PREFIXES)]
    for route in hook_routes:
        response = client.post(concrete(route), data="{}", content_type="application/json")
        assert response.status_code == 404, route


def test_login_and_health_answer_anonymously(client, db):
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/healthz").status_code in (200, 503)


def test_django_admin_needs_its_own_sign_in(client, db):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
