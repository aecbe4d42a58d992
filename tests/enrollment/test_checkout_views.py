"""The patron's way in: the Register buttons, the cart, checkout and the confirmation page.

Every bad input gets a clear message on the field it concerns, changes nothing (the counts of
orders and registrations stay put) and is never a 500. The checkout form is posted back as the
page rendered it (parsed from the HTML, like a browser without JavaScript), then edited.
"""

import datetime as dt
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from core.locking import Busy
from core.models import SiteOptions
from enrollment.models import Order, ReferralSource, Registration
from tests.enrollment.test_seat_service import email_templates  # noqa: F401  (fixture)
from tests.factories import RegistrationFactory, course_with_meetings

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("email_templates")]

S = Registration.Status
CART = reverse("enrollment:cart")
CHECKOUT = reverse("enrollment:checkout")


@pytest.fixture(autouse=True)
def _site_options():
    SiteOptions.current()


@pytest.fixture
def course():
    return course_with_meetings(title="Bread Baking", fee=Decimal("25.00"), capacity=12, minimum=3,
                                what_to_bring="An apron and a large bowl.")


@pytest.fixture
def free_course():
    return course_with_meetings(title="Library Tour", fee=Decimal("0.00"))


def counts() -> tuple[int, int]:
    return Order.objects.count(), Registration.objects.count()


def flashes(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def add(client, course):
    return client.post(reverse("enrollment:cart-add"), {"course": course.pk})


class _FormFields(HTMLParser):
    """The fields a browser would post from the checkout form, with their rendered values."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, str] = {}
        self._in_form = False
        self._select: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and "checkout-form" in (a.get("class") or ""):
            self._in_form = True
        if not self._in_form or "name" not in a and tag != "option":
            return
        if tag == "input" and a.get("type") not in ("submit", "checkbox"):
            self.data[a["name"]] = a.get("value") or ""
        elif tag == "input" and a.get("type") == "checkbox" and "checked" in a:
            self.data[a["name"]] = a.get("value") or "on"
        elif tag == "select":
            self._select, self._first_option = a["name"], None
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = a.get("value", "")
                self.data.setdefault(self._select, self._first_option)
            if "selected" in a:
                self.data[self._select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        if tag == "form":
            self._in_form = False


def rendered_form(response) -> dict[str, str]:
    parser = _FormFields()
    parser.feed(response.content.decode())
    return parser.data


BUYER = {
    "buyer-first_name": "Jordan", "buyer-last_name": "Buyer", "buyer-email": "jordan@example.org",
    "buyer-phone": "785-555-0100",
}


def filled(client, *attendees_per_class, **overrides) -> dict[str, str]:
    """The checkout form as rendered, filled in: the buyer, a referral, and for class i the
    attendees given as (first, last) or (first, last, age)."""
    data = rendered_form(client.get(CHECKOUT))
    data.update(BUYER)
    data["buyer-referral"] = str(ReferralSource.objects.filter(active=True).first().pk)
    data["action"] = "place"
    for i, attendees in enumerate(attendees_per_class):
        for n, person in enumerate(attendees):
            data[f"class{i}-attendee{n}-first_name"] = person[0]
            data[f"class{i}-attendee{n}-last_name"] = person[1]
            if len(person) > 2:
                data[f"class{i}-attendee{n}-age"] = str(person[2])
    data.update(overrides)
    return data


def place(client, data):
    return client.post(CHECKOUT, data)


def assert_refused(response, before, *, text: str):
    """A clear message, the page again (not a 500), nothing written."""
    assert response.status_code == 200
    body = response.content.decode()
    assert 'role="alert"' in body
    assert text in body, f"{text!r} not on the page"
    assert counts() == before


# --- the Register buttons -------------------------------------------------------------------

def test_the_course_page_has_a_register_button_while_registration_is_open(client, course):
    body = client.get(course.get_absolute_url()).content.decode()
    assert reverse("enrollment:cart-add") in body
    assert ">Register<" in body


def test_a_full_class_offers_the_waitlist_instead(client):
    course = course_with_meetings(capacity=1, minimum=1)
    RegistrationFactory(course=course)
    body = client.get(course.get_absolute_url()).content.decode()
    assert "Join the waitlist" in body


@pytest.mark.parametrize(
    "kwargs",
    # A running class takes registrations until its cutoff (tests/enrollment/test_run_early.py): after it.
    [{"status": "cancelled"}, {"status": "running", "first": timezone.now() + dt.timedelta(days=3)},
     {"first": timezone.now() + dt.timedelta(days=3)},
     {"semester__registration_opens_at": timezone.now() + dt.timedelta(days=2)}],
    ids=["cancelled", "running", "past-the-cutoff", "not-yet-open"],
)
def test_no_register_button_when_registration_is_not_open(client, kwargs):
    course = course_with_meetings(**kwargs)
    body = client.get(course.get_absolute_url()).content.decode()
    assert reverse("enrollment:cart-add") not in body


def test_the_catalog_cards_have_register_buttons(client, course):
    body = client.get(reverse("classes:home")).content.decode()
    assert f'name="course" value="{course.pk}"' in body
    assert "Register<span class=\"visually-hidden\"> for Bread Baking</span>" in body


# --- the cart -------------------------------------------------------------------------------

def test_add_list_and_remove(client, course, free_course):
    response = add(client, course)
    assert response.status_code == 302 and response["Location"] == CART
    add(client, free_course)
    response = add(client, course)
    assert "“Bread Baking” is already in your cart." in flashes(response)

    response = client.get(CART)
    body = response.content.decode()
    assert [c.pk for c in response.context["courses"]] == [course.pk, free_course.pk]
    assert "$25.00" in body and "Free" in body
    assert "12 seats left" in body
    assert "Continue to checkout" in body
    assert 'name="robots" content="noindex' in body

    response = client.post(reverse("enrollment:cart-remove"), {"course": course.pk})
    assert response.status_code == 302
    assert [c.pk for c in client.get(CART).context["courses"]] == [free_course.pk]


def test_the_session_keeps_course_ids_only(client, course):
    add(client, course)
    assert client.session["enrollment.cart"] == [course.pk]


@pytest.mark.parametrize("value", ["", "abc", "-1", "1.5", "99999999", "<script>"])
def test_adding_an_unknown_class_is_refused_with_a_message(client, course, value):
    response = client.post(reverse("enrollment:cart-add"), {"course": value})
    assert response.status_code == 302
    assert flashes(response)
    response = client.get(CART)
    assert response.context["courses"] == []
    assert 'role="alert"' in response.content.decode()


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [({"status": "cancelled"}, "has been cancelled"), ({"status": "draft"}, "not in the catalog"),
     ({"first": timezone.now() + dt.timedelta(days=3)}, "closed on")],
    ids=["cancelled", "draft", "past-the-cutoff"],
)
def test_adding_a_class_not_open_for_registration_is_refused(client, kwargs, words):
    course = course_with_meetings(**kwargs)
    response = add(client, course)
    assert any(words in m for m in flashes(response))
    assert client.session.get("enrollment.cart", []) == []


def test_the_cart_buttons_only_take_posts(client, course):
    assert client.get(reverse("enrollment:cart-add")).status_code == 405
    assert client.get(reverse("enrollment:cart-remove")).status_code == 405


def test_an_empty_cart_sends_checkout_back_to_the_cart(client):
    response = client.get(CHECKOUT)
    assert response.status_code == 302 and response["Location"] == CART
    response = client.post(CHECKOUT, {"nonce": "x"})
    assert response.status_code == 302 and response["Location"] == CART


def test_a_class_cancelled_while_in_the_cart_is_flagged_there(client, course):
    add(client, course)
    course.status = "cancelled"
    course.save()
    body = client.get(CART).content.decode()
    assert "has been cancelled" in body
    assert "Continue to checkout" not in body


# --- checkout: the happy paths ---------------------------------------------------------------

def test_a_paid_class_goes_to_payment(client, course):
    add(client, course)
    page = client.get(CHECKOUT)
    body = page.content.decode()
    assert body.count("<h1") == 1
    assert 'name="robots" content="noindex' in body
    assert "How did you hear about us?" in body
    assert 'name="class0-attendee0-age"' not in body  # adults: no age asked
    for label in ("First name", "Last name", "E-mail", "Phone", "This attendee is", "Attendees for this class"):
        assert label in body

    data = filled(client, [("Alex", "Reader")], **{"buyer-street_address": "1 Main St",
                                                  "buyer-city_state_zip": "Salina, KS 67401",
                                                  "buyer-mail_catalog": "on"})
    response = place(client, data)

    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("finance:pay", args=[order.pk])
    (registration,) = order.registrations.all()
    assert registration.status == S.HELD
    assert registration.price == Decimal("25.00")
    assert (registration.attendee_first_name, registration.relationship) == ("Alex", "self")
    assert (order.first_name, order.email, order.phone) == ("Jordan", "jordan@example.org", "785-555-0100")
    assert order.mail_catalog and order.city_state_zip == "Salina, KS 67401"
    assert order.referral_id == int(data["buyer-referral"])
    assert "enrollment.cart" not in client.session  # the cart is emptied


def test_a_free_class_is_confirmed_at_once(client, free_course):
    add(client, free_course)
    response = place(client, filled(client, [("Alex", "Reader")]))

    order = Order.objects.get()
    assert response["Location"] == reverse("enrollment:order-confirmation", args=[order.pk])
    assert order.registrations.get().status == S.CONFIRMED

    page = client.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    assert "You’re registered" in body
    assert body.count("<h1") == 1
    assert 'name="robots" content="noindex' in body
    assert "Alex Reader" in body and "Library Tour" in body and "Confirmed" in body
    venue = free_course.venue
    assert venue.full_address in body
    assert venue.map_url.replace("&", "&amp;") in body
    assert free_course.what_to_bring in body
    assert reverse("enrollment:manage-link-request") in body


def test_a_full_class_asks_once_its_join_the_waitlist_button_is_the_ask(client):
    # Issue 10 §6: the catalog's "Join the waitlist" button was followed by a second ask (a
    # checkbox the error never named). Now checkout says what happens and asks nothing more.
    course = course_with_meetings(title="Pottery", capacity=1, minimum=1)
    RegistrationFactory(course=course)
    add(client, course)
    body = client.get(CHECKOUT).content.decode()
    assert 'type="checkbox" name="class0-waitlist"' not in body
    assert "Everyone you list here joins the waitlist" in body

    response = place(client, filled(client, [("Alex", "Reader")]))
    order = Order.objects.latest("pk")
    assert response["Location"] == reverse("enrollment:order-confirmation", args=[order.pk])
    assert order.registrations.get().status == S.WAITLISTED
    body = client.get(response["Location"]).content.decode()
    assert "On the waitlist, number 1 in line" in body
    assert "You’re on the waitlist" in body


def test_a_second_attendee_is_added_without_javascript(client, course):
    add(client, course)
    data = filled(client, [("Alex", "Reader")], **{"class0-attendees": "2", "action": "update"})
    response = place(client, data)
    assert response.status_code == 200
    assert len(response.context["checkout"].blocks[0].attendees) == 2
    assert response.context["errors"] == []  # no errors for the attendee not filled in yet
    body = response.content.decode()
    assert 'name="class0-attendee1-first_name"' in body
    assert 'value="Alex"' in body  # what was typed is kept
    assert counts() == (0, 0)

    data = rendered_form(response)
    data.update({"class0-attendee1-first_name": "Sam", "class0-attendee1-last_name": "Reader",
                 "class0-attendee1-relationship": "family", "action": "place"})
    response = place(client, data)
    order = Order.objects.get()
    assert response["Location"] == reverse("finance:pay", args=[order.pk])
    assert sorted(order.registrations.values_list("attendee_first_name", "relationship")) == [
        ("Alex", "self"), ("Sam", "family")]


def test_changing_the_count_then_pressing_continue_shows_the_new_forms_instead_of_placing(client, course):
    add(client, course)
    response = place(client, filled(client, [("Alex", "Reader")], **{"class0-attendees": "3"}))
    assert response.status_code == 200
    assert len(response.context["checkout"].blocks[0].attendees) == 3
    assert counts() == (0, 0)


def test_two_classes_in_one_order(client, course, free_course):
    add(client, course)
    add(client, free_course)
    response = place(client, filled(client, [("Alex", "Reader")], [("Alex", "Reader")]))
    order = Order.objects.get()
    assert response["Location"] == reverse("finance:pay", args=[order.pk])
    assert sorted(order.registrations.values_list("status", flat=True)) == [S.CONFIRMED, S.HELD]


def test_a_kids_class_asks_the_age_and_checks_it(client):
    course = course_with_meetings(title="Lego Robots", audience="kids", age_min=8, age_max=12)
    add(client, course)
    body = client.get(CHECKOUT).content.decode()
    assert 'name="class0-attendee0-age"' in body
    assert "This class is for ages 8–12." in body
    before = counts()

    response = place(client, filled(client, [("Mia", "Reader")]))
    assert_refused(response, before, text="Enter the attendee’s age.")
    response = place(client, filled(client, [("Mia", "Reader", 14)]))
    assert_refused(response, before, text="“Lego Robots” is for ages 8–12.")
    assert response.context["checkout"].blocks[0].attendees[0].errors["age"]

    response = place(client, filled(client, [("Mia", "Reader", 9)]))
    assert response.status_code == 302
    assert Registration.objects.get().attendee_age == 9


@pytest.mark.parametrize("first, last", [("Zoë", "Brontë"), ("José", "Núñez"), ("Nguyễn", "Văn An"), ("李", "小龍"),
                                         ("Seán", "O’Brien"), ("Jean-Luc", "St. Clair"), ("Ана", "Иванова"),
                                         ("محمد", "عبد الله"), ("अनु", "शर्मा")])
def test_names_in_any_script_are_accepted(client, course, first, last):
    add(client, course)
    response = place(client, filled(client, [(first, last)], **{"buyer-first_name": first}))
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    registration = Registration.objects.get()
    assert (registration.attendee_first_name, registration.attendee_last_name) == (first, last)
    assert Order.objects.get().first_name == first


def test_names_are_tidied(client, course):
    add(client, course)
    place(client, filled(client, [("  Alex   ", " van  der Berg ")]))
    assert Registration.objects.get().attendee_last_name == "van der Berg"


# --- checkout: bad input --------------------------------------------------------------------

LONG = "A" * 81


@pytest.mark.parametrize(
    ("field", "value", "text"),
    [
        ("class0-attendee0-first_name", "", "Enter the first name."),
        ("class0-attendee0-last_name", "   ", "Enter the last name."),
        ("buyer-first_name", "", "Enter the first name."),
        ("class0-attendee0-first_name", LONG, "at most 80 characters"),
        ("buyer-last_name", LONG, "at most 80 characters"),
        ("class0-attendee0-first_name", "<b>Alex</b>", "markup"),
        ("class0-attendee0-last_name", "Reader<script>alert(1)</script>", "markup"),
        ("class0-attendee0-first_name", "Al\x07ex", "control characters"),
        ("class0-attendee0-first_name", "Al\x00ex", "control characters"),
        ("class0-attendee0-first_name", "\u202eAlex", "control characters"),
        ("class0-attendee0-first_name", "Alex2", "letters, spaces, hyphens"),
        ("class0-attendee0-first_name", "---", "at least one letter"),
        ("buyer-email", "not-an-address", "Enter a valid email address."),
        ("buyer-email", "jordan@", "Enter a valid email address."),
        ("buyer-email", "", "Enter your e-mail address."),
        ("buyer-phone", "call me", "Enter a phone number"),
        ("buyer-phone", "12", "Enter a phone number"),
        ("buyer-phone", "", "Enter a phone number with its area code."),
        ("buyer-referral", "", "Tell us how you heard about our classes."),
        ("buyer-referral", "999999", "Choose one of the answers in the list."),
        ("buyer-street_address", "<img src=x>", "Remove the"),
        ("class0-attendee0-relationship", "boss", "Choose myself, a family member, or a friend (gift)."),
    ],
)
def test_bad_input_is_answered_on_its_field_and_changes_nothing(client, course, field, value, text):
    add(client, course)
    before = counts()
    response = place(client, filled(client, [("Alex", "Reader")], **{field: value}))
    assert_refused(response, before, text=text)
    body = response.content.decode()
    field_id = f"id_{field}"
    assert f'aria-describedby="{field_id}_error' in body or f'aria-describedby="{field_id}_helptext {field_id}_error' in body
    assert f'href="#{field_id}"' in body  # the summary links to the field


def test_the_printed_catalog_needs_an_address(client, course):
    add(client, course)
    before = counts()
    response = place(client, filled(client, [("Alex", "Reader")], **{"buyer-mail_catalog": "on"}))
    assert_refused(response, before, text="Enter your street address so we can mail you the catalog.")


def test_a_retired_referral_answer_is_not_offered(client, course):
    retired = ReferralSource.objects.create(name="Carrier pigeon", active=False)
    add(client, course)
    assert "Carrier pigeon" not in client.get(CHECKOUT).content.decode()
    before = counts()
    response = place(client, filled(client, [("Alex", "Reader")], **{"buyer-referral": str(retired.pk)}))
    assert_refused(response, before, text="Choose one of the answers in the list.")


@pytest.mark.parametrize(
    ("field", "value", "text"),
    [
        ("class0-course", "99999999", "That class is not in the catalog."),
        ("class0-course", "abc", "That class is not in the catalog."),
        ("class0-course", "", "Your cart changed while you were checking out."),
        ("class0-fee", "0.00", "The fee for this class is $25.00."),
        ("class0-fee", "-25", "The fee for this class is $25.00."),
        ("class0-fee", "lots", "The fee for this class is $25.00."),
        ("class0-attendees", "99", "Choose from 1 to 6 attendees."),
        ("class0-attendees", "0", "Choose from 1 to 6 attendees."),
        ("class0-attendees", "-1", "Choose from 1 to 6 attendees."),
        ("class0-attendees", "two", "Choose from 1 to 6 attendees."),
    ],
)
def test_tampered_hidden_fields_are_refused(client, course, field, value, text):
    add(client, course)
    before = counts()
    response = place(client, filled(client, [("Alex", "Reader")], **{field: value}))
    assert_refused(response, before, text=text)


def test_a_real_class_that_is_not_in_the_cart_is_refused(client, course):
    elsewhere = course_with_meetings(fee=Decimal("1.00"))
    add(client, course)
    before = counts()
    response = place(client, filled(client, [("Alex", "Reader")], **{"class0-course": str(elsewhere.pk),
                                                                      "class0-fee": "1.00"}))
    assert_refused(response, before, text="That class is not in your cart.")


def test_extra_posted_classes_are_ignored_and_the_price_comes_from_the_course(client, course):
    elsewhere = course_with_meetings()
    add(client, course)
    data = filled(client, [("Alex", "Reader")], **{
        "class1-course": str(elsewhere.pk), "class1-fee": "0.00", "class1-attendees": "1",
        "class1-attendee0-first_name": "Sneaky", "class1-attendee0-last_name": "Extra", "price": "0.01",
    })
    response = place(client, data)
    assert response.status_code == 302
    (registration,) = Registration.objects.all()
    assert registration.course_id == course.pk
    assert registration.price == Decimal("25.00")


def test_a_fee_changed_by_staff_while_the_patron_was_checking_out_is_shown_before_charging(client, course):
    add(client, course)
    data = filled(client, [("Alex", "Reader")])
    course.fee = Decimal("30.00")
    course.save()
    before = counts()
    response = place(client, data)
    assert_refused(response, before, text="The fee for this class is $30.00.")
    response = place(client, rendered_form(response) | {"action": "place"})
    assert response.status_code == 302
    assert Registration.objects.get().price == Decimal("30.00")


def test_the_same_attendee_twice_is_refused_on_the_second(client, course):
    add(client, course)
    before = counts()
    data = filled(client, [("Alex", "Reader")], **{"class0-attendees": "2"})
    data = rendered_form(place(client, data))
    data.update(BUYER)
    data.update({"class0-attendee0-first_name": "Alex", "class0-attendee0-last_name": "Reader",
                 "class0-attendee1-first_name": "alex", "class0-attendee1-last_name": "READER",
                 "action": "place"})
    response = place(client, data)
    assert_refused(response, before, text="is listed twice for “Bread Baking”.")
    attendees = response.context["checkout"].blocks[0].attendees
    assert attendees[1].errors["first_name"] and not attendees[0].errors


def test_an_attendee_already_registered_is_refused(client, course):
    add(client, course)
    place(client, filled(client, [("Alex", "Reader")]))
    add(client, course)
    before = counts()
    response = place(client, filled(client, [("Alex", "Reader")]))
    assert_refused(response, before, text="Alex Reader is already registered for “Bread Baking”.")
    assert response.context["checkout"].blocks[0].attendees[0].errors["first_name"]


def test_a_class_closed_while_checking_out_is_refused(client, course, monkeypatch):
    add(client, course)
    data = filled(client, [("Alex", "Reader")])
    later = course.registration_closes_at + dt.timedelta(hours=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    before = counts()
    response = place(client, data)
    assert_refused(response, before, text="Registration for “Bread Baking” closed on")


def test_a_class_cancelled_while_checking_out_is_refused(client, course):
    add(client, course)
    data = filled(client, [("Alex", "Reader")])
    course.status = "cancelled"
    course.save()
    before = counts()
    response = place(client, data)
    assert_refused(response, before, text="“Bread Baking” has been cancelled.")


def test_a_class_filled_while_checking_out_says_how_to_join_its_waitlist(client):
    course = course_with_meetings(title="Pottery", capacity=1, minimum=1)
    add(client, course)
    data = filled(client, [("Alex", "Reader")])
    RegistrationFactory(course=course)
    before = counts()
    response = place(client, data)
    assert_refused(response, before, text="“Pottery” filled up while you were checking out. To join its waitlist "
                                          "instead (nothing is charged for it), press the button at the end of this "
                                          "page again, or remove the class from your cart.")
    # Sending the page again, as it says, is the ask: the attendee joins the waitlist.
    again = rendered_form(response)
    again["action"] = "place"
    response = place(client, again)
    assert Order.objects.latest("pk").registrations.get().status == S.WAITLISTED


def test_a_replayed_post_places_one_order(client, course):
    add(client, course)
    data = filled(client, [("Alex", "Reader")])
    first = place(client, data)
    assert counts() == (1, 1)

    again = place(client, data)  # the back button, a double click
    order = Order.objects.get()
    assert counts() == (1, 1)
    assert again.status_code == 302
    assert again["Location"] == first["Location"] == reverse("finance:pay", args=[order.pk])
    assert f"You already placed this order ({order.reference}); it was not placed again." in flashes(again)


def test_a_replayed_post_after_the_hold_ran_out_goes_to_the_order_page(client, course, monkeypatch):
    add(client, course)
    data = filled(client, [("Alex", "Reader")])
    place(client, data)
    order = Order.objects.get()
    later = order.registrations.get().expires_at + dt.timedelta(minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)

    again = place(client, data)
    assert counts() == (1, 1)
    assert again["Location"] == reverse("enrollment:order-confirmation", args=[order.pk])
    body = client.get(again["Location"]).content.decode()
    assert "The seat hold ran out" in body
    assert "already placed this order" in body


def test_after_a_hold_runs_out_the_patron_can_check_out_again_at_once(client, course, monkeypatch):
    add(client, course)
    place(client, filled(client, [("Alex", "Reader")]))
    expired = Registration.objects.get()
    later = expired.expires_at + dt.timedelta(minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)

    add(client, course)
    response = place(client, filled(client, [("Alex", "Reader")]))  # the periodic job has not run yet
    assert response.status_code == 302
    assert Registration.objects.filter(status=S.HELD).count() == 1
    expired.refresh_from_db()
    assert expired.status == S.EXPIRED
    assert list(expired.events.values_list("to_status", flat=True)) == [S.HELD, S.EXPIRED]


def test_a_seat_freed_by_an_expired_hold_can_be_taken(client, monkeypatch):
    course = course_with_meetings(capacity=1, minimum=1)
    RegistrationFactory(course=course, status=S.HELD, expires_at=timezone.now() + dt.timedelta(minutes=2))
    add(client, course)
    data = filled(client, [("Alex", "Reader")])
    later = timezone.now() + dt.timedelta(minutes=3)
    monkeypatch.setattr(timezone, "now", lambda: later)
    response = place(client, data)
    assert response.status_code == 302
    assert Registration.objects.filter(status=S.HELD, order__email="jordan@example.org").count() == 1


@pytest.mark.parametrize("nonce", ["", "stale-or-forged"])
def test_a_post_without_the_current_nonce_is_refused(client, course, nonce):
    add(client, course)
    before = counts()
    response = place(client, filled(client, [("Alex", "Reader")], nonce=nonce))
    assert_refused(response, before, text="This page was out of date.")
    # the page carries the current nonce, so submitting it again works
    response = place(client, rendered_form(response) | {"action": "place"})
    assert response.status_code == 302


def test_busy_is_a_message_not_a_500(client, course, monkeypatch):
    def busy(**kwargs):
        raise Busy("busy, please try again")

    monkeypatch.setattr("enrollment.views.checkout.checkout_place", busy)
    add(client, course)
    before = counts()
    response = place(client, filled(client, [("Alex", "Reader")]))
    assert response.status_code == 503
    body = response.content.decode()
    # Issue 10 §6: not "Please fix this problem" (the patron did nothing wrong).
    assert "The class is busy — please try again" in body
    assert "Please fix" not in body
    assert counts() == before
    assert client.session["enrollment.cart"] == [course.pk]  # the cart is kept for the retry


def test_all_errors_are_shown_at_once_with_a_summary(client, course):
    add(client, course)
    before = counts()
    response = place(client, filled(client, [("", "")], **{"buyer-email": "x", "buyer-referral": ""}))
    assert_refused(response, before, text="Please fix these")
    assert len(response.context["errors"]) >= 4


# --- the confirmation page ------------------------------------------------------------------

def test_the_confirmation_page_shows_this_order_only(client, free_course):
    other = RegistrationFactory(course=free_course, attendee_first_name="Someone", attendee_last_name="Else")
    add(client, free_course)
    response = place(client, filled(client, [("Alex", "Reader")]))
    body = client.get(response["Location"]).content.decode()
    assert "Alex Reader" in body
    assert other.attendee_name not in body
    assert other.order.email not in body


def test_an_unknown_order_is_a_404(client):
    response = client.get(reverse("enrollment:order-confirmation-link",
                                  args=["00000000-0000-4000-8000-000000000000"]))
    assert response.status_code == 404
    assert client.get("/checkout/not-a-uuid/done/").status_code == 404


def test_the_confirmation_of_an_unpaid_order_links_to_payment(client, course):
    add(client, course)
    place(client, filled(client, [("Alex", "Reader")]))
    order = Order.objects.get()
    body = client.get(reverse("enrollment:order-confirmation", args=[order.pk])).content.decode()
    assert "Waiting for payment" in body
    assert reverse("finance:pay", args=[order.pk]) in body
    assert "Total paid:</strong> $0.00" in body

