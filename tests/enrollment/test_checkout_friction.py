"""Checkout friction (issue 10 §6), as the server renders it — the page without scripts, and
after every reload: the running total follows the scholarships ticked and mentions the waitlist
only when a place is on it; a class with too few seats asks once, by name; the busy page is not
an error of the patron's; the confirmation of a waitlist-only order shows only what applies.
The browser suite checks the same page with its script (tests/browser/test_checkout_friction_browser.py).
"""

from decimal import Decimal

import pytest
from django.urls import reverse

from core.locking import Busy
from enrollment.models import EnrollmentOptions, Order, Registration
from tests.enrollment.test_checkout_views import (  # noqa: F401  (fixtures)
    CHECKOUT,
    _site_options,
    add,
    assert_refused,
    counts,
    email_templates,
    filled,
    place,
    rendered_form,
)
from tests.factories import RegistrationFactory, course_with_meetings

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("email_templates")]

S = Registration.Status


def total_block(body: str) -> str:
    start = body.index('id="checkout-total"')
    return body[start:body.index("</div>", start)]


@pytest.fixture
def bread():
    return course_with_meetings(title="Bread Baking", fee=Decimal("25.00"), capacity=12, minimum=3)


def test_the_total_is_half_price_for_a_scholarship_seat(client, bread):
    EnrollmentOptions.objects.update(scholarship_limit=2)
    add(client, bread)
    data = filled(client, [("Alex", "Reader")], **{"class0-attendees": "2", "action": "update"})
    body = client.post(CHECKOUT, data).content.decode()
    assert "Total: <strong id=\"checkout-total-amount\">$50.00</strong>" in total_block(body)
    assert 'id="checkout-total-half" hidden' in body

    data = rendered_form(client.post(CHECKOUT, data))
    data.update({"class0-attendee1-first_name": "Sam", "class0-attendee1-last_name": "Reader",
                 "class0-attendee1-scholarship": "on", "class0-attendees": "3", "action": "update"})
    body = client.post(CHECKOUT, data).content.decode()
    block = total_block(body)
    assert "$62.50" in block  # $25 + $12.50 + $25
    assert "1 seat</span> at half price with a Pass the Buck scholarship" in block
    assert 'id="checkout-total-half" hidden' not in block


def test_an_odd_fee_leaves_the_odd_cent_with_the_patron(client):
    course = course_with_meetings(title="Watercolor", fee=Decimal("25.05"))
    EnrollmentOptions.objects.update(scholarship_limit=2)
    add(client, course)
    data = filled(client, [("Alex", "Reader")], **{"class0-attendee0-scholarship": "on", "action": "update"})
    assert "$12.53" in total_block(client.post(CHECKOUT, data).content.decode())


def test_the_waitlist_note_only_when_a_waitlist_place_is_in_the_cart(client, bread):
    add(client, bread)
    body = client.get(CHECKOUT).content.decode()
    assert 'id="checkout-total-waitlist" hidden' in body

    pottery = course_with_meetings(title="Pottery", capacity=1, minimum=1, semester=bread.semester)
    RegistrationFactory(course=pottery)
    add(client, pottery)
    body = client.get(CHECKOUT).content.decode()
    assert 'id="checkout-total-waitlist" hidden' not in body
    assert "(waitlist places are not charged)" in total_block(body)
    assert "$25.00" in total_block(body)


def test_too_few_seats_asks_once_and_the_error_names_the_box(client):
    course = course_with_meetings(title="Pottery", capacity=2, minimum=1)
    RegistrationFactory(course=course)  # one seat left
    add(client, course)
    data = filled(client, [("Alex", "Reader"), ("Sam", "Reader")], **{"class0-attendees": "2", "class0-shown": "2"})
    before = counts()
    response = place(client, data)
    assert_refused(response, before, text="“Pottery” has only 1 seat left for your 2 attendees. Tick “Put anyone "
                                          "without a seat on the waitlist” under the class, or choose fewer attendees.")
    body = response.content.decode()
    assert 'type="checkbox" name="class0-waitlist"' in body
    assert body.count("Put anyone without a seat on the waitlist") >= 2  # the error and the box's label

    data["class0-waitlist"] = "on"
    response = place(client, data)
    order = Order.objects.latest("pk")
    assert response["Location"] == reverse("finance:pay", args=[order.pk])
    assert sorted(order.registrations.values_list("attendee_first_name", "status")) == [
        ("Alex", S.HELD), ("Sam", S.WAITLISTED)]


def test_agreeing_to_one_class_s_waitlist_does_not_waitlist_another(client):
    full = course_with_meetings(title="Pottery", capacity=1, minimum=1)
    RegistrationFactory(course=full)
    short = course_with_meetings(title="Weaving", capacity=2, minimum=1, semester=full.semester)
    RegistrationFactory(course=short)
    add(client, full)
    add(client, short)
    data = filled(client, [("Alex", "Reader")], [("Alex", "Reader"), ("Sam", "Reader")],
                  **{"class1-attendees": "2", "class1-shown": "2"})
    assert data["class0-waitlist"] == "on"  # the full class: its button was the ask
    before = counts()
    response = place(client, data)
    assert_refused(response, before, text="“Weaving” has only 1 seat left")


def test_the_busy_page_has_its_own_heading_and_no_stale_notice(client, bread, monkeypatch):
    def busy(**kwargs):
        raise Busy("busy, please try again")

    monkeypatch.setattr("enrollment.views.checkout.checkout_place", busy)
    add(client, bread)
    data = filled(client, [("Alex", "Reader")])
    add(client, bread)  # "… is already in your cart", left unread
    response = place(client, data)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.content.decode()
    assert '<h2 id="busy-heading" class="h5">The class is busy — please try again</h2>' in body
    assert "Please fix" not in body
    assert "in your cart.</div>" not in body and "is already in your cart" not in body
    assert 'value="Alex"' in body  # the form is kept


def test_the_confirmation_of_a_waitlist_only_order_shows_what_applies(client):
    course = course_with_meetings(title="Pottery", capacity=1, minimum=1, fee=Decimal("30.00"))
    RegistrationFactory(course=course)
    add(client, course)
    response = place(client, filled(client, [("Alex", "Reader")]))
    order = Order.objects.latest("pk")
    assert order.registrations.get().status == S.WAITLISTED
    body = client.get(response["Location"]).content.decode()
    assert "You’re on the waitlist" in body
    assert "On the waitlist, number 1 in line" in body
    assert "If a seat opens, we’ll e-mail you an offer; you then have 48 hours to claim" in body
    assert "$30.00" not in body and "Total paid" not in body and "$0.00" not in body
    assert "Full refund" not in body and "full refund" not in body
    assert ">Fee</th>" not in body


def test_a_mixed_order_marks_the_waitlist_place_not_charged(client, bread):
    pottery = course_with_meetings(title="Pottery", capacity=1, minimum=1, semester=bread.semester)
    RegistrationFactory(course=pottery)
    add(client, bread)
    add(client, pottery)
    place(client, filled(client, [("Alex", "Reader")], [("Alex", "Reader")]))
    order = Order.objects.latest("pk")
    body = client.get(reverse("enrollment:order-confirmation", args=[order.pk])).content.decode()
    assert "Not charged (waitlist)" in body
    assert "Total paid" in body
    assert "Pottery: Alex Reader on the waitlist" in body
