"""The front desk (/staff/desk/): registrations by phone, walk-in or drop box, paid by cash or check
in full, in part or later, through the same seat service as online checkout; receipts.

Every bad input gets a message on the field it concerns, changes nothing (the row counts of
orders, registrations, audit rows, payments and messages stay put) and is never a 500.
"""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.urls import include, path
from django.utils import timezone

from core import tasks as core_tasks
from core.locking import Busy
from core.models import OutboxMessage, SiteOptions
from core.roles import FINANCE, FRONT_DESK
from enrollment.models import Order, ReferralSource, Registration, RegistrationEvent
from enrollment.selectors import desk as desk_selectors
from enrollment.services import AlreadyRegistered, AttendeeInput, BuyerInput, CourseFull
from enrollment.staff import desk
from finance.balances import order_balance
from finance.errors import NothingToPay
from finance.models import Payment
from finance.services.offline import (
    OfflinePaymentInvalid,
    clean_amount,
    desk_receipt_queue,
    desk_register,
    payment_record_offline,
)
from tests.factories import RegistrationFactory, course_with_meetings

# The desk's pages with the back office and the patron pages their e-mails link to (the same
# lines as config.urls; test_the_project_urls_route_the_desk checks the real URLconf).
urlpatterns = [
    path("staff/desk/", include("enrollment.staff.urls.desk")),
    path("staff/", admin.site.urls),
    path("", include("classes.views.urls")),
    path("", include("enrollment.views.urls")),
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

S = Registration.Status
HOME = "/staff/desk/"
REGISTER = "/staff/desk/register/"
PASSWORD = "a-long-passw0rd"


@pytest.fixture(autouse=True)
def _site(monkeypatch):
    options = SiteOptions.current()
    options.library_name = "Salina Public Library"
    options.program_name = "Lifelong Learning"
    options.street_address = "301 W Elm St"
    options.city_state_zip = "Salina, KS 67401"
    options.phone = "785-555-0199"
    options.save()
    monkeypatch.setattr(core_tasks.outbox_deliver, "delay", lambda *args, **kwargs: None)
    return options


def staff_user(django_user_model, username: str, *groups: str, perms: tuple[str, ...] = ()):
    user = django_user_model.objects.create_user(username, f"{username}@library.example", PASSWORD, is_staff=True,
                                                 first_name=username.title(), last_name="Staff")
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    for perm in perms:
        app, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    return user


@pytest.fixture
def desk_user(django_user_model):
    return staff_user(django_user_model, "frontdesk", FRONT_DESK)


@pytest.fixture
def desk_client(client, desk_user):
    client.force_login(desk_user)
    client.user = desk_user
    return client


@pytest.fixture
def course():
    return course_with_meetings(title="Bread Baking", fee=Decimal("25.00"), capacity=12, minimum=3)


@pytest.fixture
def kids_course():
    return course_with_meetings(title="Lego Robots", fee=Decimal("30.00"), audience="kids", age_min=8, age_max=12)


def counts() -> tuple[int, ...]:
    return (Order.objects.count(), Registration.objects.count(), RegistrationEvent.objects.count(),
            Payment.objects.count(), OutboxMessage.objects.count())


def flashes(response) -> list[str]:
    """The messages this response added (the session may still hold earlier ones)."""
    return [str(m) for m in get_messages(response.wsgi_request)][-1:]


def form_data(course, *attendees, **overrides) -> dict[str, str]:
    """The desk form filled in: a patron, and for each attendee (first, last[, age]) a row in
    ``course`` (or a (course, first, last[, age]) tuple for another class). Cash, amount empty."""
    data = {
        "nonce": "0123456789abcdef0123456789abcdef", "rows": "4",
        "buyer-first_name": "Jordan", "buyer-last_name": "Buyer", "buyer-email": "jordan@example.org",
        "buyer-phone": "785-555-0100", "buyer-street_address": "", "buyer-city_state_zip": "",
        "pay-provider": "cash", "pay-amount": "", "pay-reference": "", "pay-payer": "",
    }
    for i, person in enumerate(attendees or [("Jordan", "Buyer")]):
        if not hasattr(person[0], "pk"):
            person = (course, *person)
        data[f"row{i}-course"] = str(person[0].pk)
        data[f"row{i}-first_name"] = person[1]
        data[f"row{i}-last_name"] = person[2]
        data[f"row{i}-relationship"] = "self" if i == 0 else "family"
        if len(person) > 3:
            data[f"row{i}-age"] = str(person[3])
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def register(client, data):
    return client.post(REGISTER, data)


def placed_order(response) -> Order:
    if response.status_code != 302:
        body = response.content.decode()
        start = body.find('role="alert"')
        raise AssertionError(f"{response.status_code}: {body[start:start + 1500] if start >= 0 else body[-1500:]}")
    location = response["Location"]
    assert location.startswith("/staff/desk/orders/") and location.endswith("/"), location
    return Order.objects.get(pk=int(location.split("/")[-2]))


def assert_refused(response, before, *, text: str, field: str | None = None):
    """The form again (not a 500) with a clear message — on the field when one is named — and
    nothing written."""
    assert response.status_code == 200
    body = response.content.decode()
    assert 'role="alert"' in body
    assert text in body, f"{text!r} not on the page"
    if field is not None:
        html = body[body.index(f'id="id_{field}"') - 2000: body.index(f'id="id_{field}"') + 2000]
        assert text in html, f"{text!r} not next to {field}"
    assert counts() == before


# --- the pages are the back office's -------------------------------------------------------

def test_the_project_urls_route_the_desk():
    from django.urls import resolve

    match = resolve(REGISTER, urlconf="config.urls")
    assert match.namespace == "desk" and match.url_name == "register"
    assert resolve("/staff/desk/orders/7/receipt/", urlconf="config.urls").url_name == "order-receipt"


def test_the_register_page_has_the_admin_look_and_the_classes(desk_client, course, kids_course):
    course_with_meetings(title="Old Draft", status="draft")
    response = desk_client.get(REGISTER)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Library Classes — back office" in body and 'id="nav-sidebar"' in body  # admin header and nav
    assert "Bread Baking" in body and "Lego Robots" in body and "Old Draft" not in body
    assert "$25.00" in body and "12 of 12 seats left" in body
    assert "select2" in body  # the class lists are searchable
    assert 'name="override-reason"' in body  # front desk staff may override


def test_home_finds_patrons_by_name_email_or_phone(desk_client, course):
    registration = RegistrationFactory(course=course, order__first_name="Maria", order__last_name="Lopez",
                                       order__email="maria@example.org", order__phone="(785) 555-0123",
                                       attendee_first_name="Ana", attendee_last_name="Lopez")
    RegistrationFactory(course=course, order__first_name="Sam", order__last_name="Other")
    for q in ("lopez", "Maria Lop", "maria@example", "785 555 0123", "7855550123"):
        response = desk_client.get(HOME, {"q": q})
        body = response.content.decode()
        assert response.status_code == 200
        assert "Maria Lopez" in body and "Ana Lopez" in body and "Bread Baking" in body, q
        assert "Sam Other" not in body, q
        assert f"{REGISTER}?patron={registration.order.pk}" in body
    response = desk_client.get(HOME, {"q": "nobody-here"})
    assert "No previous orders match" in response.content.decode()
    response = desk_client.get(HOME, {"q": "x"})
    assert response.status_code == 200 and "Enter at least 2 characters." in response.content.decode()


def test_patron_search_is_one_query_and_groups_a_patrons_orders(django_assert_num_queries, course):
    other = course_with_meetings(title="Knitting")
    first = RegistrationFactory(course=course, order__first_name="Maria", order__last_name="Lopez",
                                order__email="Maria@Example.org")
    RegistrationFactory(course=other, order__first_name="Maria", order__last_name="Lopez",
                        order__email="maria@example.org")
    RegistrationFactory.create_batch(3, course=course, order__last_name="Lopezz")
    with django_assert_num_queries(1):
        patrons = desk_selectors.patron_search("lopez")
    maria = [p for p in patrons if p.email.lower() == "maria@example.org"]
    assert len(maria) == 1 and len(maria[0].orders) == 2 and len(maria[0].registrations) == 2
    assert maria[0].latest_order != first.order  # the newest order first
    assert len(patrons) == 4


def test_register_prefills_a_patron_from_a_previous_order(desk_client, course):
    previous = RegistrationFactory(course=course, order__first_name="Maria", order__last_name="Lopez",
                                   order__email="maria@example.org", order__street_address="12 Oak St").order
    body = desk_client.get(REGISTER, {"patron": previous.pk}).content.decode()
    assert 'value="Maria"' in body and 'value="maria@example.org"' in body and 'value="12 Oak St"' in body
    assert f"order {previous.reference}" in body


# --- happy paths ----------------------------------------------------------------------------

def test_cash_in_full(desk_client, desk_user, course):
    response = register(desk_client, form_data(course, ("Jordan", "Buyer")))
    order = placed_order(response)
    assert order.channel == Order.Channel.DESK
    registration = order.registrations.get()
    assert registration.status == S.CONFIRMED and registration.price == Decimal("25.00")
    payment = Payment.objects.get()
    assert (payment.provider, payment.amount, payment.status) == ("cash", Decimal("25.00"), "succeeded")
    assert payment.taken_by == desk_user and payment.succeeded_at is not None
    assert list(payment.registrations.all()) == [registration]
    assert order_balance(order).due == 0
    assert "Registered: order" in flashes(response)[0] and "Cash taken: $25.00" in flashes(response)[0]
    # Accountable: the audit row names the staff member.
    event = registration.events.get()
    assert (event.actor, event.actor_label, event.to_status) == (desk_user, "frontdesk", S.CONFIRMED)
    assert event.reason == "front desk"
    # The same confirmation as online checkout.
    assert OutboxMessage.objects.filter(template="registration_confirmed", to="jordan@example.org").count() == 1


def test_check_partial_then_a_later_payment_clears_the_balance(desk_client, desk_user, course):
    data = form_data(course, ("Jordan", "Buyer"), ("Kim", "Buyer"), **{
        "pay-provider": "check", "pay-amount": "20", "pay-reference": " 1234 ", "pay-payer": ""})
    order = placed_order(register(desk_client, data))
    assert order.registrations.filter(status=S.CONFIRMED).count() == 2
    payment = Payment.objects.get()
    assert (payment.provider, payment.amount, payment.reference) == ("check", Decimal("20.00"), "1234")
    assert payment.payer == "Jordan Buyer"  # a check without a payer: the patron wrote it
    balance = order_balance(order)
    assert (balance.charges, balance.paid, balance.due) == (Decimal("50.00"), Decimal("20.00"), Decimal("30.00"))

    page = desk_client.get(f"/staff/desk/orders/{order.pk}/").content.decode()
    assert "Balance due" in page and "$30.00" in page and "Take a payment" in page
    assert 'value="30.00"' in page  # the payment form suggests what is due

    pay = f"/staff/desk/orders/{order.pk}/pay/"
    before = counts()
    response = desk_client.post(pay, {"pay-provider": "cash", "pay-amount": "30.01"})
    assert_refused(response, before, text="Only $30.00 is due on this order", field="pay-amount")

    response = desk_client.post(pay, {"pay-provider": "cash", "pay-amount": "10", "pay-payer": "ignored"})
    assert response.status_code == 302
    assert order_balance(order).due == Decimal("20.00")
    cash = Payment.objects.get(provider="cash")
    assert (cash.amount, cash.payer, cash.reference, cash.taken_by) == (Decimal("10.00"), "", "", desk_user)
    response = desk_client.post(pay, {"pay-provider": "check", "pay-amount": "$20.00", "pay-reference": "1250"})
    assert response.status_code == 302 and "Check payment of $20.00 recorded." in flashes(response)
    assert order_balance(order).due == 0
    assert Payment.objects.filter(order=order, status="succeeded", taken_by=desk_user).count() == 3

    page = desk_client.get(f"/staff/desk/orders/{order.pk}/").content.decode()
    assert "Take a payment" not in page
    for text in ("Jordan Buyer", "Kim Buyer", "Bread Baking", "$50.00", "1234", "1250", "Frontdesk Staff"):
        assert text in page, text

    before = counts()
    response = desk_client.post(pay, {"pay-provider": "cash", "pay-amount": "1"})
    assert_refused(response, before, text="Nothing is due on this order.")


def test_zero_taken_leaves_the_total_as_balance_due(desk_client, course):
    order = placed_order(register(desk_client, form_data(course, **{"pay-amount": "0"})))
    assert not Payment.objects.exists()
    assert order_balance(order).due == Decimal("25.00")
    assert order.registrations.get().status == S.CONFIRMED


def test_a_patron_without_email_needs_a_phone(desk_client, course):
    before = counts()
    response = register(desk_client, form_data(course, **{"buyer-email": "", "buyer-phone": ""}))
    assert_refused(response, before, text="Enter a phone number: the patron has no e-mail address.",
                   field="buyer-phone")
    order = placed_order(register(desk_client, form_data(course, **{"buyer-email": ""})))
    assert order.email == "" and order.phone == "785-555-0100"
    assert order.registrations.get().attendee_key.endswith("|7855550100")
    assert not OutboxMessage.objects.exists()  # no address: nothing queued (the call list has them)
    page = desk_client.get(f"/staff/desk/orders/{order.pk}/").content.decode()
    assert "No e-mail address: print the receipt" in page


def test_ages_for_kids_classes_only(desk_client, course, kids_course):
    before = counts()
    response = register(desk_client, form_data(course, (kids_course, "Lily", "Buyer")))
    assert_refused(response, before, text="Enter the attendee’s age (ages 8–12).", field="row0-age")
    response = register(desk_client, form_data(course, (kids_course, "Lily", "Buyer", 5)))
    assert_refused(response, before, text="“Lego Robots” is for ages 8–12.", field="row0-age")
    order = placed_order(register(desk_client, form_data(course, (kids_course, "Lily", "Buyer", 9),
                                                         ("Jordan", "Buyer", 40))))
    ages = dict(order.registrations.values_list("course__title", "attendee_age"))
    assert ages == {"Lego Robots": 9, "Bread Baking": None}


def test_more_rows_changes_nothing(desk_client, course):
    before = counts()
    response = register(desk_client, form_data(course, action="more"))
    assert response.status_code == 200 and counts() == before
    body = response.content.decode()
    assert 'name="row7-first_name"' in body and 'name="rows" value="8"' in body
    assert 'value="Jordan"' in body and 'role="alert"' not in body


def test_a_double_submission_places_one_order(desk_client, course):
    data = form_data(course)
    first = placed_order(register(desk_client, data))
    response = register(desk_client, data)
    assert response.status_code == 302 and response["Location"] == f"/staff/desk/orders/{first.pk}/"
    assert "it was not saved again" in flashes(response)[0]
    assert Order.objects.count() == 1 and Payment.objects.count() == 1


# --- override -------------------------------------------------------------------------------

def full_course():
    course = course_with_meetings(title="Tiny Class", capacity=1, minimum=1)
    RegistrationFactory(course=course)
    return course


def test_override_over_capacity_and_after_the_cutoff_with_a_reason(desk_client, desk_user):
    full = full_course()
    closed = course_with_meetings(title="Closed Class", first=timezone.now() + dt.timedelta(days=3))
    data = form_data(full, ("Jordan", "Buyer"), (closed, "Jordan", "Buyer"), **{
        "override-override": "on", "override-reason": "Instructor agreed to one more"})
    order = placed_order(register(desk_client, data))
    assert order.registrations.filter(status=S.CONFIRMED).count() == 2
    assert Registration.objects.filter(course=full, status=S.CONFIRMED).count() == 2
    for event in RegistrationEvent.objects.filter(registration__order=order):
        assert event.actor == desk_user
        assert "Instructor agreed to one more" in event.reason and "override" in event.reason


def test_without_override_rules_there_is_no_override(client, django_user_model):
    user = staff_user(django_user_model, "limited", perms=("enrollment.desk_register", "finance.take_offline_payment"))
    client.force_login(user)
    full = full_course()
    assert 'name="override-reason"' not in client.get(REGISTER).content.decode()
    before = counts()
    data = form_data(full, **{"override-override": "on", "override-reason": "please"})
    response = register(client, data)
    assert_refused(response, before, text="“Tiny Class” is full.", field="row0-course")
    assert "Only staff allowed to override" in response.content.decode()


def test_staff_who_may_not_take_money_leave_a_balance(client, django_user_model, course):
    user = staff_user(django_user_model, "helper", perms=("enrollment.desk_register",))
    client.force_login(user)
    body = client.get(REGISTER).content.decode()
    assert 'name="pay-amount"' not in body and "You can't take payments" in body
    order = placed_order(register(client, form_data(course, **{"pay-amount": "25"})))
    assert not Payment.objects.exists() and order_balance(order).due == Decimal("25.00")


# --- bad input ------------------------------------------------------------------------------

BAD_AMOUNTS = [
    ("-5", "The amount cannot be negative."),
    ("abc", "Enter the amount in dollars and cents, like 25 or 25.50."),
    ("NaN", "Enter the amount in dollars and cents, like 25 or 25.50."),
    ("1.005", "Enter the amount with at most 2 decimals (dollars and cents)."),
    ("99999999999999", "That amount is too large."),
    ("1e9", "Enter the amount in dollars and cents, like 25 or 25.50."),
    ("9" * 200, "Enter the amount in dollars and cents"),
]


@pytest.mark.parametrize(("amount", "text"), BAD_AMOUNTS, ids=[a[:12] for a, _ in BAD_AMOUNTS])
def test_bad_amounts_when_registering(desk_client, course, amount, text):
    before = counts()
    response = register(desk_client, form_data(course, **{"pay-amount": amount}))
    assert_refused(response, before, text=text, field="pay-amount")


@pytest.mark.parametrize(("amount", "text"), [*BAD_AMOUNTS, ("0", "Enter an amount greater than zero."),
                                              ("", "Enter the amount taken.")],
                         ids=[*(a[:12] for a, _ in BAD_AMOUNTS), "zero", "empty"])
def test_bad_amounts_for_a_further_payment(desk_client, course, amount, text):
    order = placed_order(register(desk_client, form_data(course, **{"pay-amount": "0"})))
    before = counts()
    response = desk_client.post(f"/staff/desk/orders/{order.pk}/pay/", {"pay-provider": "cash", "pay-amount": amount})
    assert_refused(response, before, text=text, field="pay-amount")


def test_more_than_the_total_is_refused_and_leaves_no_registration(desk_client, course):
    before = counts()
    response = register(desk_client, form_data(course, **{"pay-amount": "25.01"}))
    assert_refused(response, before, text="Only $25.00 is due on this order", field="pay-amount")


def test_a_check_needs_its_number(desk_client, course):
    before = counts()
    response = register(desk_client, form_data(course, **{"pay-provider": "check", "pay-amount": "25"}))
    assert_refused(response, before, text="Enter the check number.", field="pay-reference")
    response = register(desk_client, form_data(course, **{"pay-provider": "check"}))  # the whole total
    assert_refused(response, before, text="Enter the check number.", field="pay-reference")
    order = placed_order(register(desk_client, form_data(course, **{"pay-provider": "check", "pay-amount": "0"})))
    assert order_balance(order).due == Decimal("25.00")  # no money, no check number needed
    before = counts()
    response = desk_client.post(f"/staff/desk/orders/{order.pk}/pay/", {"pay-provider": "check", "pay-amount": "5"})
    assert_refused(response, before, text="Enter the check number.", field="pay-reference")


def test_a_full_class_without_override(desk_client):
    full = full_course()
    before = counts()
    response = register(desk_client, form_data(full))
    assert_refused(response, before, text="“Tiny Class” is full. To register anyway, tick “Override”",
                   field="row0-course")
    assert "waitlist" not in response.content.decode()


def test_after_the_cutoff_without_override(desk_client):
    closed = course_with_meetings(title="Closed Class", first=timezone.now() + dt.timedelta(days=3))
    before = counts()
    response = register(desk_client, form_data(closed))
    assert_refused(response, before, text="Registration for “Closed Class” closed on", field="row0-course")


def test_an_override_needs_a_reason(desk_client):
    full = full_course()
    before = counts()
    response = register(desk_client, form_data(full, **{"override-override": "on", "override-reason": "  "}))
    assert_refused(response, before, text="Give the reason for the override.", field="override-reason")


def test_a_duplicate_attendee(desk_client, course):
    placed_order(register(desk_client, form_data(course, ("Alex", "Reader"))))
    before = counts()
    response = register(desk_client, form_data(course, ("Alex", "Reader"), nonce="f" * 32))
    assert_refused(response, before, text="Alex Reader is already registered for “Bread Baking”.",
                   field="row0-first_name")
    response = register(desk_client, form_data(course, ("Sam", "Reader"), ("Sam", "Reader"), nonce="e" * 32))
    assert_refused(response, before, text="Sam is listed twice for “Bread Baking”.", field="row1-first_name")


def test_a_cancelled_class(desk_client, course):
    cancelled = course_with_meetings(title="Cancelled Class", status="cancelled")
    assert "Cancelled Class" not in desk_client.get(REGISTER).content.decode()
    before = counts()
    response = register(desk_client, form_data(cancelled))
    assert_refused(response, before, text="“Cancelled Class” has been cancelled.", field="row0-course")
    # Cancelled while the form was open, and with an override: still refused.
    response = register(desk_client, form_data(cancelled, **{"override-override": "on", "override-reason": "x"}))
    assert_refused(response, before, text="“Cancelled Class” has been cancelled.", field="row0-course")
    response = register(desk_client, form_data(course, **{"row0-course": "999999"}))
    assert_refused(response, before, text="Choose a class from the list.", field="row0-course")


def test_missing_names_and_no_attendee(desk_client, course):
    before = counts()
    response = register(desk_client, form_data(course, ("", "Buyer")))
    assert_refused(response, before, text="Enter the attendee’s first name.", field="row0-first_name")
    data = form_data(course)
    for name in ("course", "first_name", "last_name"):
        data.pop(f"row0-{name}")
    response = register(desk_client, data)
    assert_refused(response, before, text="Add at least one attendee")


def test_busy_is_a_503_not_a_500(desk_client, course, monkeypatch):
    def busy(**kwargs):
        raise Busy("busy, please try again")

    monkeypatch.setattr(desk, "desk_register", busy)
    before = counts()
    response = register(desk_client, form_data(course))
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert "busy, please try again" in response.content.decode()
    assert counts() == before


def test_busy_on_a_further_payment(desk_client, course, monkeypatch):
    order = placed_order(register(desk_client, form_data(course, **{"pay-amount": "0"})))

    def busy(**kwargs):
        raise Busy("busy, please try again")

    monkeypatch.setattr(desk, "payment_record_offline", busy)
    response = desk_client.post(f"/staff/desk/orders/{order.pk}/pay/", {"pay-provider": "cash", "pay-amount": "5"})
    assert response.status_code == 503 and "busy, please try again" in response.content.decode()


# --- receipts -------------------------------------------------------------------------------

def test_the_printable_receipt(desk_client, course):
    order = placed_order(register(desk_client, form_data(course, **{
        "pay-provider": "check", "pay-amount": "10", "pay-reference": "4321", "pay-payer": "Pat Buyer"})))
    page = desk_client.get(f"/staff/desk/orders/{order.pk}/")
    assert f"/staff/desk/orders/{order.pk}/receipt/" in page.content.decode()
    body = desk_client.get(f"/staff/desk/orders/{order.pk}/receipt/").content.decode()
    for text in ("Salina Public Library", "301 W Elm St", "Salina, KS 67401", "785-555-0199",
                 f"Receipt — order {order.reference}", "Jordan Buyer", "Bread Baking", "Check", "4321",
                 "Pat Buyer", "$25.00", "$10.00", "Balance due", "$15.00", "css/staff/desk_receipt.css",
                 "data-print"):
        assert text in body, text
    # printable from static files (the Content-Security-Policy allows no inline style or script)
    root = Path(__file__).resolve().parents[2] / "static"
    assert "@media print" in (root / "css/staff/desk_receipt.css").read_text()
    assert "window.print()" in (root / "js/staff.js").read_text()


def test_the_receipt_by_email_once_per_payment_count(desk_client, course):
    order = placed_order(register(desk_client, form_data(course, **{"pay-amount": "10"})))
    url = f"/staff/desk/orders/{order.pk}/receipt/email/"
    response = desk_client.post(url)
    assert response.status_code == 302 and "The receipt is on its way to jordan@example.org." in flashes(response)
    message = OutboxMessage.objects.get(template="desk_receipt")
    assert message.dedupe_key == f"desk-receipt:{order.pk}:1" and message.to == "jordan@example.org"
    assert order.reference in message.subject
    for text in ("Bread Baking", "Jordan Buyer", "Cash", "$10.00", "Balance due: $15.00", "Salina Public Library"):
        assert text in message.body_text, text
    assert "Balance due" in message.body_html and "$15.00" in message.body_html
    assert "{{" not in message.body_text + message.body_html and "None" not in message.body_text

    response = desk_client.post(url)
    assert "already e-mailed" in flashes(response)[0]
    assert OutboxMessage.objects.filter(template="desk_receipt").count() == 1

    desk_client.post(f"/staff/desk/orders/{order.pk}/pay/", {"pay-provider": "cash", "pay-amount": "15"})
    desk_client.post(url)
    latest = OutboxMessage.objects.filter(template="desk_receipt").order_by("-pk").first()
    assert latest.dedupe_key == f"desk-receipt:{order.pk}:2"
    assert "paid in full" in latest.body_text


def test_no_email_receipt_without_an_address(desk_client, course):
    order = placed_order(register(desk_client, form_data(course, **{"buyer-email": ""})))
    response = desk_client.post(f"/staff/desk/orders/{order.pk}/receipt/email/")
    assert "This order has no e-mail address. Print the receipt instead." in flashes(response)
    assert not OutboxMessage.objects.filter(template="desk_receipt").exists()
    assert desk_receipt_queue(order=order) is None


# --- permissions ----------------------------------------------------------------------------

def test_anonymous_goes_to_the_back_office_login(client, course):
    order = RegistrationFactory(course=course).order
    for url in (HOME, REGISTER, f"/staff/desk/orders/{order.pk}/", f"/staff/desk/orders/{order.pk}/receipt/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/staff/login/?next="), url
    before = counts()
    response = client.post(REGISTER, form_data(course))
    assert response.status_code == 302 and counts() == before


def test_finance_cannot_register_but_can_take_a_payment(client, desk_client, django_user_model, course):
    order = placed_order(register(desk_client, form_data(course, **{"pay-amount": "0"})))
    finance = staff_user(django_user_model, "money", FINANCE)
    client.force_login(finance)
    assert client.get(REGISTER).status_code == 403
    before = counts()
    assert client.post(REGISTER, form_data(course, nonce="a" * 32)).status_code == 403
    assert counts() == before
    page = client.get(f"/staff/desk/orders/{order.pk}/")
    assert page.status_code == 200 and "Register more" not in page.content.decode()
    response = client.post(f"/staff/desk/orders/{order.pk}/pay/", {"pay-provider": "cash", "pay-amount": "25"})
    assert response.status_code == 302
    assert Payment.objects.get().taken_by == finance


def test_staff_without_desk_permissions_get_403(client, django_user_model, course):
    order = RegistrationFactory(course=course).order
    nobody = staff_user(django_user_model, "nobody")
    client.force_login(nobody)
    for url in (HOME, REGISTER, f"/staff/desk/orders/{order.pk}/", f"/staff/desk/orders/{order.pk}/receipt/"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/staff/desk/orders/{order.pk}/pay/", {"pay-amount": "5"}).status_code == 403


def test_front_desk_without_money_permission_cannot_take_a_further_payment(client, django_user_model, course):
    user = staff_user(django_user_model, "helper", perms=("enrollment.desk_register",))
    client.force_login(user)
    order = placed_order(register(client, form_data(course)))
    assert "Take a payment" not in client.get(f"/staff/desk/orders/{order.pk}/").content.decode()
    response = client.post(f"/staff/desk/orders/{order.pk}/pay/", {"pay-provider": "cash", "pay-amount": "5"})
    assert response.status_code == 403 and not Payment.objects.exists()


# --- the services ----------------------------------------------------------------------------

def buyer_input(email="jordan@example.org") -> BuyerInput:
    return BuyerInput(first_name="Jordan", last_name="Buyer", email=email, phone="785-555-0100",
                      referral_id=ReferralSource.objects.order_by("pk").values_list("pk", flat=True).first())


@pytest.mark.parametrize(("value", "ok"), [
    (Decimal("25"), Decimal("25.00")), ("25.5", Decimal("25.50")), (7, Decimal("7.00")),
    (25.5, None), (Decimal("-1"), None), (Decimal("0"), None), (Decimal("1.001"), None), ("NaN", None),
    (Decimal("Infinity"), None), (Decimal("100000"), None), ("x", None), (None, None), (True, None),
])
def test_clean_amount(value, ok):
    if ok is None:
        with pytest.raises(OfflinePaymentInvalid) as caught:
            clean_amount(value)
        assert caught.value.field == "amount"
    else:
        assert clean_amount(value) == ok
    assert clean_amount(Decimal("0"), allow_zero=True) == Decimal("0.00")


def test_desk_register_rolls_everything_back_when_the_payment_is_refused(desk_user, course):
    before = counts()
    with pytest.raises(OfflinePaymentInvalid) as caught:
        desk_register(buyer=buyer_input(), attendees=[AttendeeInput(course_id=course.pk, first_name="A", last_name="B")],
                      provider="cash", amount=Decimal("30.00"), actor=desk_user)
    assert caught.value.field == "amount"
    with pytest.raises(OfflinePaymentInvalid):
        desk_register(buyer=buyer_input(), attendees=[AttendeeInput(course_id=course.pk, first_name="A", last_name="B")],
                      provider="check", amount=None, actor=desk_user)  # the whole total, no check number
    assert counts() == before


def test_desk_register_raises_the_seat_services_errors(desk_user):
    full = full_course()
    with pytest.raises(CourseFull):
        desk_register(buyer=buyer_input(), attendees=[AttendeeInput(course_id=full.pk, first_name="A", last_name="B")],
                      provider="cash", amount=None, actor=desk_user)
    registration = Registration.objects.get()
    with pytest.raises(AlreadyRegistered):
        desk_register(buyer=buyer_input(registration.order.email),
                      attendees=[AttendeeInput(course_id=full.pk, first_name=registration.attendee_first_name,
                                               last_name=registration.attendee_last_name)],
                      provider="cash", amount=None, actor=desk_user, override_reason="why not")


def test_payment_record_offline_checks_what_it_records(desk_user, course):
    result = desk_register(buyer=buyer_input(), provider="cash", amount=Decimal("0"), actor=desk_user,
                           attendees=[AttendeeInput(course_id=course.pk, first_name="A", last_name="B")])
    order, registrations = result.order, result.registrations
    assert result.payment is None and result.balance.due == Decimal("25.00")
    other = RegistrationFactory(course=course)
    bad = [
        ({"provider": "card"}, "provider"), ({"provider": "check"}, "reference"),
        ({"amount": Decimal("25.01")}, "amount"), ({"amount": 5.0}, "amount"), ({"amount": Decimal("-5")}, "amount"),
        ({"registrations": [other]}, None), ({"registrations": []}, None), ({"payer": "x" * 161}, "payer"),
    ]
    for change, name in bad:
        kwargs = {"order": order, "registrations": registrations, "provider": "cash", "amount": Decimal("5"),
                  "taken_by": desk_user} | change
        with pytest.raises(OfflinePaymentInvalid) as caught:
            payment_record_offline(**kwargs)
        assert caught.value.field == name, change
    assert not Payment.objects.exists()
    now = timezone.now()
    payment = payment_record_offline(order=order, registrations=registrations, provider="check", amount="25",
                                     reference="  77 ", payer=" Pat  Buyer ", taken_by=desk_user, now=now)
    assert (payment.amount, payment.reference, payment.payer, payment.succeeded_at) == (
        Decimal("25.00"), "77", "Pat Buyer", now)
    with pytest.raises(NothingToPay):
        payment_record_offline(order=order, registrations=registrations, provider="cash", amount="1",
                               taken_by=desk_user)
