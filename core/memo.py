"""A per-request memo for the one-row options (``SiteOptions.current()``,
``EnrollmentOptions.current()``): read once per request instead of two or three times.

``RequestMemoMiddleware`` opens a fresh memo around each request and drops it when the request
ends, so nothing carries over from one request to the next; outside a request (Celery tasks,
management commands, the shell, tests calling services directly) there is no memo and every read
goes to the database, as before. The memo lives in a ``contextvars.ContextVar``, so each thread
(and each asyncio task) has its own: two requests served at once never share one. A save or
delete of a memoized model drops its entry at once (``post_save``/``post_delete``), so a request
that changes the options reads the new row afterwards, and the next request reads it anyway.
"""

from contextvars import ContextVar

from django.db.models.signals import post_delete, post_save

_memo: ContextVar[dict | None] = ContextVar("request_memo", default=None)


def memoized(key: str, load):
    """``load()``, once per request under ``key``; outside a request, every time."""
    memo = _memo.get()
    if memo is None:
        return load()
    if key not in memo:
        memo[key] = load()
    return memo[key]


def memo_key(model) -> str:
    return model._meta.label


def _forget(sender, **kwargs) -> None:
    memo = _memo.get()
    if memo:
        memo.pop(memo_key(sender), None)


post_save.connect(_forget, dispatch_uid="core.memo.forget.save")
post_delete.connect(_forget, dispatch_uid="core.memo.forget.delete")


class RequestMemoMiddleware:
    """A fresh memo for each request, dropped when its response is ready."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _memo.set({})
        try:
            return self.get_response(request)
        finally:
            _memo.reset(token)
