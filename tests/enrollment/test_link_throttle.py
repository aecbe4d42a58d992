"""The "send me my link" form (/my/) is throttled per e-mail address and per client address, with the
same polite answer whether or not the address is known, and no e-mail beyond the limit."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import OutboxMessage, SiteOptions
from enrollment.link_throttle import LINKS_PER_ADDRESS, REQUESTS_PER_CLIENT
from tests.enrollment.test_seat_service import email_templates  # noqa: F401  (fixture)
from tests.factories import OrderFactory, RegistrationFactory, course_with_meetings

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("email_templates")]

REQUEST = reverse("enrollment:manage-link-request")
NEUTRAL = "If we have registrations for that address, we’ve sent a link to it."
KNOWN = "jordan@example.org"


@pytest.fixture(autouse=True)
def _known():
    SiteOptions.current()
    RegistrationFactory(order=OrderFactory(email=KNOWN), course=course_with_meetings(),
                        status="confirmed")


@pytest.fixture
def clock(monkeypatch):
    """Timezone-aware "now" that the test moves: each ask comes two minutes after the last one
    (past the outbox's one-a-minute dedupe), so only the throttle can hold e-mails back."""
    state = {"now": timezone.now().replace(minute=1, second=0, microsecond=0)}  # early in a window
    monkeypatch.setattr(timezone, "now", lambda: state["now"])

    def tick(minutes=2):
        state["now"] += dt.timedelta(minutes=minutes)
    return tick


def ask(client, email, address="198.51.100.4"):
    return client.post(REQUEST, {"email": email}, REMOTE_ADDR=address, follow=True)


def links_sent() -> int:
    return OutboxMessage.objects.filter(template="manage_link").count()


def test_asking_again_and_again_sends_no_more_than_the_limit(client, clock):
    for _ in range(LINKS_PER_ADDRESS + 6):
        response = ask(client, KNOWN)
        assert response.status_code == 200
        assert NEUTRAL in response.content.decode()  # the same polite answer every time
        clock()
    assert links_sent() == LINKS_PER_ADDRESS


def test_the_limit_counts_the_address_whatever_the_case_and_from_any_client(client, clock):
    for n in range(LINKS_PER_ADDRESS + 3):
        ask(client, KNOWN.upper() if n % 2 else KNOWN, address=f"203.0.113.{n + 1}")
        clock()
    assert links_sent() == LINKS_PER_ADDRESS


def test_an_unknown_address_gets_the_same_answer_within_and_beyond_the_limit(client, clock):
    for _ in range(LINKS_PER_ADDRESS + 2):
        known, unknown = ask(client, KNOWN), ask(client, "nobody@example.org")
        assert known.status_code == unknown.status_code == 200
        assert NEUTRAL in known.content.decode() and NEUTRAL in unknown.content.decode()
        clock()


def test_after_the_window_the_address_may_ask_again(client, clock):
    for _ in range(LINKS_PER_ADDRESS + 1):
        ask(client, KNOWN)
        clock()
    assert links_sent() == LINKS_PER_ADDRESS
    clock(minutes=61)
    ask(client, KNOWN)
    assert links_sent() == LINKS_PER_ADDRESS + 1


def test_one_client_asking_for_many_addresses_is_slowed_down_politely(client, clock):
    for n in range(REQUESTS_PER_CLIENT):
        assert ask(client, f"someone{n}@example.org").status_code == 200
    over = ask(client, KNOWN)
    assert over.status_code == 429
    assert "Please wait" in over.content.decode()
    assert links_sent() == 0  # nothing sent, not even to the known address
    # another client is not held back
    assert ask(client, KNOWN, address="192.0.2.77").status_code == 200
    assert links_sent() == 1
