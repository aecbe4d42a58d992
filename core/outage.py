"""A database or cache outage answers 503 with ``Retry-After`` and a short page, not a 500.

In production the cache is Redis, which also holds the sessions and the catalog's shared pages
and version keys: Redis out of reach is an outage like the database's (a catalog page or a course
save that cannot reach the cache changes nothing and says so, rather than a 500).

``DatabaseOutageMiddleware`` (first in ``MIDDLEWARE``) turns any request that failed because the
database was unreachable into ``templates/503.html``, rendered with no request and no database (no
context processors: ``core.context_processors.site`` would query). It sees the failure three ways:

- a view (or its template) raised it: ``process_exception``;
- a middleware below raised it: Django's ``got_request_exception`` signal, sent while the exception
  is being handled, marks the request, and the 500 Django made of it is replaced on the way out;
- the session could not be saved (``SessionMiddleware`` below): Django turns that into
  ``SessionInterrupted``, a 400 "Bad Request"; our ``SessionMiddleware`` marks the request instead
  when a database error caused it (a session really deleted meanwhile keeps Django's answer).

The webhook gets the same 503, which makes Stripe retry; the payment return page says the payment
is safe (reloading it records the payment once the database is back).
"""

import logging
import sys

from django.contrib.sessions.exceptions import SessionInterrupted
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10
#: The pages Stripe sends a payer back to (a class payment or a gift, by id or by its old token
#: address): their outage page says the payment is safe.
PAYMENT_RETURNS = {"finance:payment-return", "finance:payment-return-link", "finance:donate-return",
                   "finance:donate-return-link"}
_MARK = "_database_outage"

OUTAGE_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
try:  # psycopg's own errors, in case one escapes Django's wrapping (e.g. while connecting)
    import psycopg

    OUTAGE_ERRORS += (psycopg.OperationalError, psycopg.InterfaceError)
except ImportError:  # pragma: no cover - psycopg is a dependency
    pass
try:  # Redis (cache, sessions) unreachable or not answering
    import redis

    OUTAGE_ERRORS += (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
except ImportError:  # pragma: no cover - redis is a dependency
    pass


def is_outage(exc: BaseException | None) -> bool:
    """True when ``exc`` is, or was caused by, the database or the cache being unreachable."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, OUTAGE_ERRORS):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def outage_response(request=None) -> HttpResponse:
    paying = bool(request is not None and getattr(request, "resolver_match", None)
                  and request.resolver_match.view_name in PAYMENT_RETURNS)
    response = HttpResponse(render_to_string("503.html", {"paying": paying}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _mark(request, exc) -> None:
    if request is not None and is_outage(exc):
        setattr(request, _MARK, True)


def _on_request_exception(sender, request=None, **kwargs):
    _mark(request, sys.exc_info()[1])


got_request_exception.connect(_on_request_exception, dispatch_uid="core.outage")


class DatabaseOutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, _MARK, False):
            match = getattr(request, "resolver_match", None)  # never the path: it may hold a token
            log.warning("database or cache unavailable: %s %s answered 503", request.method,
                        match.view_name if match else "-")
            return outage_response(request)
        return response

    def process_exception(self, request, exception):
        if is_outage(exception):
            setattr(request, _MARK, True)
            return outage_response(request)
        return None


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's, except that a session save that failed because the database is away is the
    outage page (503), not ``SessionInterrupted`` (400)."""

    def process_response(self, request, response):
        try:
            return super().process_response(request, response)
        except SessionInterrupted as exc:
            if not is_outage(exc):
                raise
            setattr(request, _MARK, True)
            return response
