"""The client's address, for lockouts and throttles (django-axes' ``AXES_CLIENT_IP_CALLABLE`` and
the "send me my link" throttle).

With no proxy in front (``TRUSTED_PROXY_COUNT=0``, the default) it is ``REMOTE_ADDR``: nothing a
client sends can change it. Behind ``TRUSTED_PROXY_COUNT`` proxies that each append the address
they were reached from to ``X-Forwarded-For`` (nginx's ``$proxy_add_x_forwarded_for``), it is the
entry the outermost trusted proxy wrote, counted from the right: whatever a client put further left
is ignored, so it cannot pose as another address. Gunicorn must then listen where only the proxy
can reach it (README, Deployment), or anyone could send their own header.
"""

import ipaddress

from django.conf import settings


def _valid(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or ""
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < count:  # not through every proxy we expect: the peer is all we know
        return remote
    return _valid(hops[-count]) or remote
