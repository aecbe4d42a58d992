"""A database outage is a 503 with Retry-After and a short page that needs no database — on every
page, on the payment return (payment safe), on the webhook (Stripe retries) and when only the
session could not be saved (Django alone would say 400 "Bad Request")."""

import os
import re

import pytest
from django.db import OperationalError, connection
from django.urls import reverse, reverse_lazy

from core.outage import outage_response
from tests.factories import course_with_meetings
from tests.finance.stripe_helpers import post_webhook, signed_event

pytestmark = pytest.mark.django_db


def database_down(execute, sql, params, many, context):
    raise OperationalError("server closed the connection unexpectedly")


def assert_outage_page(response, *, paying=False):
    assert response.status_code == 503
    assert response["Retry-After"].isdigit() and int(response["Retry-After"]) > 0
    body = response.content.decode()
    assert "<h1>Back in a moment</h1>" in body
    assert "briefly out of reach" in body
    if paying:
        assert "your payment is safe" in body and "will not charge you again" in body
    else:
        assert "Nothing was charged" in body and "stay held until their hold time runs out" in body
    assert "Traceback" not in body and "OperationalError" not in body
    assert "default-src 'self'" in response["Content-Security-Policy"]  # the security headers still apply
    assert "camera=()" in response["Permissions-Policy"]


@pytest.mark.parametrize("url", ["/", "/cart/", "/my/", "/give/", "/staff/login/"])
def test_every_page_is_a_503_page_when_the_database_is_down(client, url):
    with connection.execute_wrapper(database_down):
        response = client.get(url)
    assert_outage_page(response)


def test_a_post_is_a_503_page_too(client):
    with connection.execute_wrapper(database_down):
        response = client.post("/my/", {"email": "someone@example.org"})
    assert_outage_page(response)


@pytest.mark.parametrize("url", [
    reverse_lazy("finance:payment-return", args=[7]),
    reverse_lazy("finance:payment-return-link", args=["0b0b0b0b-0000-4000-8000-000000000000"]),
    reverse_lazy("finance:donate-return", args=[7]),
])
def test_the_payment_return_says_the_payment_is_safe(client, url):
    with connection.execute_wrapper(database_down):
        response = client.get(f"{url}?payment_intent=pi_1")
    assert_outage_page(response, paying=True)


def test_the_webhook_answers_503_so_stripe_retries(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_outage"
    payload, header = signed_event("whsec_outage", {"id": "pi_outage1", "object": "payment_intent"})
    with connection.execute_wrapper(database_down):
        response = post_webhook(client, payload, header)
    assert response.status_code == 503


def _session_writes_fail(execute, sql, params, many, context):
    if "django_session" in sql and re.match(r"\s*(UPDATE|INSERT)", sql, re.IGNORECASE):
        raise OperationalError("could not write: the database went away")
    return execute(sql, params, many, context)


def test_a_session_that_cannot_be_saved_is_the_503_page_not_a_400(client):
    course = course_with_meetings()
    assert client.post(reverse("enrollment:cart-add"), {"course": course.pk}).status_code == 302  # a session exists
    other = course_with_meetings(title="Chess Club")
    with connection.execute_wrapper(_session_writes_fail):
        response = client.post(reverse("enrollment:cart-add"), {"course": other.pk})
    assert_outage_page(response)


def test_a_new_session_that_cannot_be_created_is_the_503_page(client):
    course = course_with_meetings()
    client.raise_request_exception = False  # raised in a middleware, not the view: as a server sees it
    with connection.execute_wrapper(_session_writes_fail):
        response = client.post(reverse("enrollment:cart-add"), {"course": course.pk})
    assert_outage_page(response)


def test_the_outage_page_renders_without_the_database(django_assert_num_queries):
    with connection.execute_wrapper(database_down), django_assert_num_queries(0):
        response = outage_response()
    assert response.status_code == 503 and "Back in a moment" in response.content.decode()


def test_other_errors_are_not_called_an_outage(client, monkeypatch):
    from classes.views import catalog as views

    def broken(*args, **kwargs):
        raise ValueError("a bug, not an outage")

    monkeypatch.setattr(views.CatalogHomeView, "get", broken)
    client.raise_request_exception = False
    assert client.get("/").status_code == 500


@pytest.mark.django_db(transaction=True)
def test_postgresql_unreachable_for_real_is_the_503_page(client):
    if connection.vendor != "postgresql":
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail("CI runs the outage test on PostgreSQL", pytrace=False)
        pytest.skip("a real PostgreSQL outage needs DATABASE_URL=postgres://…")
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "9"  # nothing listens: connecting fails as when the server is down
    try:
        response = client.get("/")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port
    assert_outage_page(response)
    assert client.get("/").status_code == 200  # back as soon as the database is



_DEAD_REDIS = {"BACKEND": "django.core.cache.backends.redis.RedisCache",
               "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens: as when Redis is down
               "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}
#: The cache and the sessions' cache as production has them (config.settings.base), both away.
REDIS_DOWN = {"default": _DEAD_REDIS, "sessions": _DEAD_REDIS}


@pytest.mark.parametrize("url", ["/", "/cart/"])
def test_the_cache_out_of_reach_is_the_503_page_too(client, settings, url):
    """In production Redis holds the cache, the sessions and the catalog's shared pages: the
    catalog (which reads the cache) and a session kept in the cache answer 503, not 500."""
    course_with_meetings()
    settings.CACHES = REDIS_DOWN  # Django's setting_changed receiver rebuilds the cache handler
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    settings.SESSION_CACHE_ALIAS = "sessions"
    client.raise_request_exception = False
    assert_outage_page(client.get(url))


def test_a_course_save_without_the_cache_changes_nothing(settings):
    """A course saved while the cache is out of reach (its catalog version cannot be bumped) is
    not saved at all: the transaction rolls back, and the page that saved it is the outage page."""
    from django.db import transaction

    from core.outage import is_outage

    course = course_with_meetings()
    title = course.title
    settings.CACHES = REDIS_DOWN
    course.title = "Renamed while Redis is down"
    with pytest.raises(Exception) as caught:
        with transaction.atomic():
            course.save()
    assert is_outage(caught.value)
    course.refresh_from_db()
    assert course.title == title
