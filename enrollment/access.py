"""Links that are credentials, exchanged on arrival for a short-lived grant in the visitor's session.

A "My registrations" link (``enrollment.links``) and an order's token (the key to its payment
and confirmation pages) let whoever holds them in. A URL carrying them would end up in the web
server's access log, the browser's history and the Referer header of the next request, so each is
opened once, the way Django's password reset does it: the view checks it, puts a grant in the
session (with a new session key, as a log-in does) and redirects to a URL with no secret in it.
The pages behind those URLs read the grant; without one (another browser, or it ran out) the
patron follows the link in their e-mail again, or asks for a fresh one.

- "My registrations": the signed link itself is kept in the session and checked again on every
  request (so the link's own age limit, ``EnrollmentOptions.link_days``, still applies), and the
  grant ends ``MANAGE_FOR`` after the link was opened.
- Orders: the session lists the orders it may open (by id, each with an end time); the pages are
  addressed by the order's id, which is not a secret without the grant.
"""

import datetime as dt

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .links import email_from_token

MANAGE_KEY = "my_registrations_grant"
ORDERS_KEY = "order_grants"
#: How long "My registrations" stays open after its link was followed.
MANAGE_FOR = dt.timedelta(hours=1)
#: How long an order's pages stay open in the browser that placed it or opened its link: the
#: payment (a hold lasts minutes, a waitlist offer a day or two: the e-mailed link opens it again)
#: and the confirmation.
ORDER_FOR = dt.timedelta(hours=6)


def _ends(value) -> dt.datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


def _fresh_key(request) -> None:
    """A new session key when a grant is added (no fixation: a key planted before does not get it)."""
    if request.session.session_key is not None:
        request.session.cycle_key()


def manage_grant(request, token: str, *, now: dt.datetime | None = None) -> None:
    """The patron followed a valid "My registrations" link: let this session in for a while."""
    now = now or timezone.now()
    _fresh_key(request)
    request.session[MANAGE_KEY] = {"token": token, "until": (now + MANAGE_FOR).isoformat()}


def manage_email(request, *, max_age_days: int, now: dt.datetime | None = None) -> str | None:
    """The e-mail address this session may see the registrations of, or None."""
    grant = request.session.get(MANAGE_KEY)
    if not isinstance(grant, dict):
        return None
    ends = _ends(grant.get("until"))
    if ends is None or ends <= (now or timezone.now()):
        request.session.pop(MANAGE_KEY, None)
        return None
    return email_from_token(str(grant.get("token", "")), max_age_days=max_age_days)


def object_grant(request, key: str, pk: int, *, lasts: dt.timedelta, now: dt.datetime | None = None) -> None:
    """Let this session open the object ``pk`` of the kind ``key`` (a session key) for ``lasts``."""
    now = now or timezone.now()
    grants = {held: until for held, until in (request.session.get(key) or {}).items()
              if (ends := _ends(until)) is not None and ends > now}
    if str(pk) not in grants:
        _fresh_key(request)
    grants[str(pk)] = (now + lasts).isoformat()
    request.session[key] = grants


def object_granted(request, key: str, pk: int, *, now: dt.datetime | None = None) -> bool:
    ends = _ends((request.session.get(key) or {}).get(str(pk)))
    return ends is not None and ends > (now or timezone.now())


def order_grant(request, order, *, now: dt.datetime | None = None) -> None:
    """This session placed ``order`` or followed its link: let it open the order's pages."""
    object_grant(request, ORDERS_KEY, order.pk, lasts=ORDER_FOR, now=now)


def order_granted(request, order_id: int, *, now: dt.datetime | None = None) -> bool:
    return object_granted(request, ORDERS_KEY, order_id, now=now)


def order_opened(request, order_id: int, *, now: dt.datetime | None = None):
    """The order ``order_id`` if this session may open it — it placed the order or followed its
    link (an order grant), or it is in "My registrations" for the order's e-mail address — else None."""
    from .models import EnrollmentOptions, Order

    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        return None
    if order_granted(request, order.pk, now=now):
        return order
    if order.email and request.session.get(MANAGE_KEY):
        email = manage_email(request, max_age_days=EnrollmentOptions.current().link_days, now=now)
        if email and email.strip().lower() == order.email.strip().lower():
            return order
    return None
