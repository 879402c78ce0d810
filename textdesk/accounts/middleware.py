from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from textdesk.accounts import services

# What a person who must set up two-factor may still open (static files too).
_ENROL_ALLOWED = ("accounts:two_factor_setup", "accounts:logout")


class SessionActivityMiddleware:
    """Keeps the signed-in session's row fresh (at most once a minute, so most requests cost no
    query) and holds a person who must set up two-factor on the set-up page until done."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.static = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request):
        if request.user.is_authenticated:
            if request.session.get(services.ENROL_KEY) and not self._allowed(request):
                setup = reverse("accounts:two_factor_setup")
                if request.headers.get("HX-Request"):  # django-htmx runs later
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = setup
                    return response
                return redirect(setup)
            services.touch_session(request)
        return self.get_response(request)

    def _allowed(self, request) -> bool:
        return request.path.startswith(self.static) or request.path in {
            reverse(name) for name in _ENROL_ALLOWED
        }
