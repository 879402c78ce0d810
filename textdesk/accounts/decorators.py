from functools import wraps

from django.core.exceptions import PermissionDenied


def permission_required(codename: str):
    """403 unless the user's role grants accounts.<codename> (login is enforced by middleware)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.has_perm(f"accounts.{codename}"):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
