"""The client's address for login throttling (django-axes' AXES_CLIENT_IP_CALLABLE).

Behind proxies REMOTE_ADDR is the last proxy, the same for everyone: five bad passwords would
lock that username for the whole world. Each proxy appends the address it was reached from to
X-Forwarded-For, so behind N proxies of ours the client is the N-th entry from the right;
anything further left was written by the client itself and is never trusted.
"""

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TEXTDESK_PROXY_COUNT
    if not count:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if len(hops) < count:
        # Not through every proxy of ours (a direct or misrouted request): the peer is all
        # we know.
        return remote
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return remote
