"""A card refund Stripe would not make: staff see what Stripe really said (the refund's admin page,
"Refunds to issue"); the patron sees the patron's wording and never Stripe's."""

import pytest
from django.urls import reverse

from core.roles import FINANCE
from enrollment.links import manage_token
from enrollment.services import registration_cancel
from finance import services
from finance.models import Payment, Refund
from tests.factories import role_client

from .stripe_helpers import confirm_with_card, open_pay_page
from .test_stripe import CARD_OK

pytestmark = pytest.mark.stripe
PATRON_WORDING = "We could not reach the payment service"


def paid(client, browser, order) -> Payment:
    _, payment, _ = open_pay_page(client, order)
    answer = confirm_with_card(client, order, payment, browser.card(CARD_OK))
    client.get(answer["return_url"])
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    return payment


@pytest.fixture
def refused(client, browser, held, django_capture_on_commit_callbacks):
    """A paid seat, cancelled, whose card refund Stripe refuses (it no longer knows the intent)."""
    payment = paid(client, browser, held.order)
    registration_cancel(registration_id=held.held[0].pk)
    Payment.objects.filter(pk=payment.pk).update(reference="pi_vanished0000")
    with django_capture_on_commit_callbacks(execute=True):
        [refund] = services.refunds_settle(registration_id=held.held[0].pk)
    refund.refresh_from_db()
    return refund


def test_the_refund_keeps_stripe_s_own_error_not_the_patron_s_wording(refused):
    assert refused.status == Refund.Status.PENDING and refused.attempts == 1
    assert PATRON_WORDING not in refused.last_error
    assert "InvalidRequestError" in refused.last_error and "HTTP 404" in refused.last_error
    assert refused.last_error.startswith("list refunds:")  # which call Stripe refused
    assert "sk_test" not in refused.last_error


def test_stripe_unreachable_is_recorded_as_such(client, browser, held, settings, django_capture_on_commit_callbacks):
    paid(client, browser, held.order)
    registration_cancel(registration_id=held.held[0].pk)
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    with django_capture_on_commit_callbacks(execute=True):
        [refund] = services.refunds_settle(registration_id=held.held[0].pk)
    refund.refresh_from_db()
    assert "APIConnectionError" in refund.last_error
    assert PATRON_WORDING not in refund.last_error


def test_staff_see_the_real_error(refused, django_user_model):
    Refund.objects.filter(pk=refused.pk).update(status=Refund.Status.FAILED)
    finance = role_client(django_user_model, FINANCE, "fin")
    for url in (reverse("admin:finance_refund_change", args=[refused.pk]), reverse("money:refunds-to-issue")):
        page = finance.get(url)
        assert page.status_code == 200, url
        assert "InvalidRequestError" in page.content.decode(), url


def test_the_patron_sees_patron_wording_only(client, refused, held):
    page = client.get(reverse("enrollment:my-registrations-link", args=[manage_token(held.order.email)]), follow=True)
    assert page.status_code == 200
    body = page.content.decode()
    assert "InvalidRequestError" not in body and "HTTP 404" not in body and "pi_vanished0000" not in body
