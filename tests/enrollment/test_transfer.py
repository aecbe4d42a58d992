"""Transfers in the back office: the seat moves through the seat service, the money follows
(``finance.services.staff.transfer_settle``): a cheaper class refunds the difference, a dearer
one leaves a balance due, a full class needs an override; audit rows for every change."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from core.models import OutboxMessage
from core.roles import COORDINATOR, FINANCE, FRONT_DESK
from enrollment.models import Registration, RegistrationEvent
from enrollment.services import CourseFull, registration_cancel, registration_transfer
from finance import selectors
from finance.balances import order_balance
from finance.models import Payment, Refund
from finance.services import refunds_settle
from finance.services.staff import refund_create, refund_limits, transfer_settle, transfers_sweep
from tests.factories import OrderFactory, RegistrationFactory, course_with_meetings

S = Registration.Status
P = Payment.Provider
D = Decimal


def staff_user(django_user_model, name: str, *roles: str):
    user = django_user_model.objects.create_user(name, f"{name}@library.example.org", "a-long-passw0rd", is_staff=True)
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def coordinator(django_user_model):
    return staff_user(django_user_model, "cora", COORDINATOR)


@pytest.fixture
def course(db):
    return course_with_meetings(capacity=5, fee=D("25.00"), title="Bread baking")


@pytest.fixture
def cheaper(db):
    return course_with_meetings(capacity=5, fee=D("15.00"), title="Knife skills")


@pytest.fixture
def dearer(db):
    return course_with_meetings(capacity=5, fee=D("40.00"), title="Pasta by hand")


def pay(registration, amount, provider=P.CASH, *, at=None):
    payment = Payment.objects.create(
        order=registration.order, provider=provider, amount=D(amount), status=Payment.Status.SUCCEEDED,
        succeeded_at=at or timezone.now(), reference="2040" if provider == P.CHECK else "",
    )
    payment.registrations.set([registration])
    return payment


def transfer_url(registration) -> str:
    return reverse("money:registration-transfer", args=[registration.pk])


# --- the service ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_cheaper_class_refunds_the_difference_once(course, cheaper, coordinator):
    registration = RegistrationFactory(course=course)
    payment = pay(registration, "25.00", P.CHECK)
    old, new = registration_transfer(registration_id=registration.pk, to_course_id=cheaper.pk, actor=coordinator,
                                     actor_label="cora", reason="Schedule clash")
    [refund] = transfer_settle(old=old, new=new, actor=coordinator)
    assert (refund.payment, refund.registration, refund.amount) == (payment, new, D("10.00"))
    assert refund.dedupe_key == f"transfer:{new.pk}" and refund.status == Refund.Status.PENDING
    assert refund.issued_by == coordinator and "Knife skills" in refund.reason and "Bread baking" in refund.reason
    assert transfer_settle(old=old, new=new, actor=coordinator) == []  # twice settles once
    assert Refund.objects.count() == 1
    # the money followed the seat
    assert set(payment.registrations.values_list("pk", flat=True)) == {old.pk, new.pk}
    assert selectors.payment_shares(payment) == {old.pk: D("0.00"), new.pk: D("25.00")}
    assert selectors.registration_paid(new) - selectors.registration_refunded(new) == D("15.00")
    assert order_balance(new.order).due == D("0.00")
    # audit: both status changes, by whom and why
    assert list(old.events.values_list("from_status", "to_status", "actor_label")) == [
        ("confirmed", "transferred", "cora")]
    event = new.events.get()
    assert (event.from_status, event.to_status, event.actor) == ("", "confirmed", coordinator)
    assert "Schedule clash" in event.reason


@pytest.mark.django_db
def test_a_dearer_class_leaves_a_balance_due(course, dearer):
    registration = RegistrationFactory(course=course)
    pay(registration, "25.00")
    old, new = registration_transfer(registration_id=registration.pk, to_course_id=dearer.pk)
    assert transfer_settle(old=old, new=new) == []
    assert not Refund.objects.exists()
    assert selectors.registration_paid(new) == D("25.00")
    balance = order_balance(new.order)
    assert (balance.charges, balance.paid, balance.due) == (D("40.00"), D("25.00"), D("15.00"))
    pay(new, "15.00")
    assert order_balance(new.order).due == D("0.00") and selectors.registration_paid(new) == D("40.00")


@pytest.mark.django_db
def test_a_partly_paid_registration_moved_to_a_cheaper_class(course, cheaper):
    registration = RegistrationFactory(course=course)
    pay(registration, "10.00")  # $15 still due
    old, new = registration_transfer(registration_id=registration.pk, to_course_id=cheaper.pk)
    assert transfer_settle(old=old, new=new) == []
    assert order_balance(new.order).due == D("5.00")


@pytest.mark.django_db
def test_a_refund_made_before_the_transfer_is_not_refunded_again(course, cheaper, coordinator):
    registration = RegistrationFactory(course=course)
    pay(registration, "25.00")
    refund_create(registration=registration, amount="4.00", reason="Missed week one", actor=coordinator,
                  override_reason="Instructor ill")
    old, new = registration_transfer(registration_id=registration.pk, to_course_id=cheaper.pk)
    [refund] = transfer_settle(old=old, new=new)
    assert refund.amount == D("6.00")  # paid 25, refunded 4, the new class costs 15
    assert selectors.registration_paid(new) - selectors.registration_refunded(new) == D("15.00")
    # cancelled in time afterwards: the policy gives back the new price, and no more
    registration_cancel(registration_id=new.pk)
    new.refresh_from_db()
    assert refund_limits(new).within_policy == D("15.00")  # what the settlement gives too
    [back] = refunds_settle(registration_id=new.pk)
    assert back.amount == D("15.00")
    assert Refund.objects.filter(payment__order=new.order).exclude(status=Refund.Status.FAILED).count() == 3
    assert order_balance(new.order).due == D("0.00")


@pytest.mark.django_db
def test_a_two_seat_payment_moves_only_the_transferred_share(course, cheaper):
    order = OrderFactory()
    first = RegistrationFactory(order=order, course=course)
    second = RegistrationFactory(order=order, course=course_with_meetings(fee=D("30.00")), price=D("30.00"))
    payment = Payment.objects.create(order=order, provider=P.CASH, amount=D("55.00"), status=Payment.Status.SUCCEEDED,
                                     succeeded_at=timezone.now())
    payment.registrations.set([first, second])
    old, new = registration_transfer(registration_id=first.pk, to_course_id=cheaper.pk)
    [refund] = transfer_settle(old=old, new=new)
    assert refund.amount == D("10.00")
    assert selectors.payment_shares(payment) == {first.pk: D("0.00"), second.pk: D("30.00"), new.pk: D("25.00")}
    # and again, to a third class: the share follows the chain
    again = course_with_meetings(fee=D("15.00"))
    old2, newer = registration_transfer(registration_id=new.pk, to_course_id=again.pk)
    assert transfer_settle(old=old2, new=newer) == []
    shares = selectors.payment_shares(payment)
    assert shares[newer.pk] == D("25.00") and shares[new.pk] == D("0.00") and shares[second.pk] == D("30.00")
    assert selectors.registration_paid(newer) - selectors.registration_refunded(newer) == D("15.00")
    assert order_balance(order).due == D("0.00")


@pytest.mark.django_db
def test_the_sweep_settles_a_transfer_whose_settlement_did_not_run(course, cheaper):
    registration = RegistrationFactory(course=course)
    pay(registration, "25.00")
    old, new = registration_transfer(registration_id=registration.pk, to_course_id=cheaper.pk)
    assert transfers_sweep() == 1
    assert Refund.objects.get(dedupe_key=f"transfer:{new.pk}").amount == D("10.00")
    assert transfers_sweep() == 0


@pytest.mark.django_db
def test_a_full_class_is_refused_without_an_override(course, cheaper):
    for n in range(cheaper.capacity):
        RegistrationFactory(course=cheaper, attendee_first_name=f"Seat{n}")
    registration = RegistrationFactory(course=course)
    pay(registration, "25.00")
    with pytest.raises(CourseFull):
        registration_transfer(registration_id=registration.pk, to_course_id=cheaper.pk)
    registration.refresh_from_db()
    assert registration.status == S.CONFIRMED and not Registration.objects.filter(transferred_from=registration)


# --- the page ------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_page_shows_the_price_difference_of_each_class(client, course, cheaper, dearer, coordinator):
    registration = RegistrationFactory(course=course)
    pay(registration, "25.00")
    client.force_login(coordinator)
    page = client.get(transfer_url(registration))
    assert page.status_code == 200
    notes = {n["course"].pk: n for n in page.context["notes"]}
    assert notes[cheaper.pk]["money"] == "refund $10.00" and notes[dearer.pk]["money"] == "$15.00 more due"
    assert course.pk not in notes
    html = page.content.decode()
    assert "refund $10.00" in html and "$15.00 more due" in html


@pytest.mark.django_db
def test_transfer_through_the_page_to_a_cheaper_class(client, course, cheaper, coordinator):
    registration = RegistrationFactory(course=course)
    pay(registration, "25.00")
    client.force_login(coordinator)
    response = client.post(transfer_url(registration), {"to_course": cheaper.pk, "reason": "Asked by phone"},
                           follow=True)
    new = Registration.objects.get(transferred_from=registration)
    assert response.redirect_chain[-1][0] == transfer_url(new)
    html = response.content.decode()
    assert "transferred to “Knife skills”" in html and "The difference is refunded: $10.00" in html
    registration.refresh_from_db()
    assert registration.status == S.TRANSFERRED and new.status == S.CONFIRMED and new.price == D("15.00")
    assert Refund.objects.get(dedupe_key=f"transfer:{new.pk}").issued_by == coordinator
    assert RegistrationEvent.objects.filter(registration__in=[registration, new], actor=coordinator).count() == 2
    assert OutboxMessage.objects.filter(template="registration_confirmed").exists()
    # the same post again changes nothing
    again = client.post(transfer_url(registration), {"to_course": cheaper.pk, "reason": "Asked by phone"}, follow=True)
    assert "already transferred" in again.content.decode()
    assert Registration.objects.filter(transferred_from=registration).count() == 1 and Refund.objects.count() == 1


@pytest.mark.django_db
def test_transfer_through_the_page_to_a_dearer_class_shows_the_balance_due(client, course, dearer, coordinator):
    registration = RegistrationFactory(course=course)
    pay(registration, "25.00")
    client.force_login(coordinator)
    response = client.post(transfer_url(registration), {"to_course": dearer.pk, "reason": "Wants pasta"}, follow=True)
    assert "balance due of $15.00" in response.content.decode()
    assert not Refund.objects.exists()


@pytest.mark.django_db
def test_a_full_class_needs_an_override_reason_on_the_page(client, course, cheaper, coordinator):
    for n in range(cheaper.capacity):
        RegistrationFactory(course=cheaper, attendee_first_name=f"Seat{n}")
    registration = RegistrationFactory(course=course)
    pay(registration, "25.00")
    client.force_login(coordinator)
    response = client.post(transfer_url(registration), {"to_course": cheaper.pk, "reason": "Asked"})
    assert response.status_code == 400
    assert "is full" in " ".join(response.context["form"].errors["to_course"])
    assert "override reason" in " ".join(response.context["form"].errors["to_course"])
    registration.refresh_from_db()
    assert registration.status == S.CONFIRMED and not Refund.objects.exists()
    response = client.post(transfer_url(registration), {"to_course": cheaper.pk, "reason": "Asked",
                                                        "override_reason": "Instructor agreed to one more"})
    assert response.status_code == 302
    new = Registration.objects.get(transferred_from=registration)
    assert "override: Instructor agreed to one more" in new.events.get().reason
    assert Refund.objects.get().amount == D("10.00")


@pytest.mark.django_db
def test_a_closed_class_needs_an_override_too(client, course, coordinator):
    closed = course_with_meetings(fee=D("25.00"), first=timezone.now() + dt.timedelta(days=3))  # past its cutoff
    registration = RegistrationFactory(course=course)
    client.force_login(coordinator)
    response = client.post(transfer_url(registration), {"to_course": closed.pk, "reason": "Asked"})
    assert response.status_code == 400 and "closed" in " ".join(response.context["form"].errors["to_course"])
    response = client.post(transfer_url(registration), {"to_course": closed.pk, "reason": "Asked",
                                                        "override_reason": "Coordinator approved"})
    assert response.status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize(("data", "field"), [
    ({"reason": "x"}, "to_course"),
    ({"to_course": "999999", "reason": "x"}, "to_course"),
    ({"to_course": "abc", "reason": "x"}, "to_course"),
    ({"to_course": "CHEAPER"}, "reason"),
])
def test_bad_input_is_a_message_on_its_field_and_changes_nothing(client, course, cheaper, coordinator, data, field):
    registration = RegistrationFactory(course=course)
    pay(registration, "25.00")
    client.force_login(coordinator)
    data = {k: (str(cheaper.pk) if v == "CHEAPER" else v) for k, v in data.items()}
    response = client.post(transfer_url(registration), data)
    assert response.status_code == 400 and field in response.context["form"].errors
    registration.refresh_from_db()
    assert registration.status == S.CONFIRMED and Registration.objects.count() == 1 and not Refund.objects.exists()


@pytest.mark.django_db
def test_only_a_confirmed_registration_can_be_transferred(client, course, cheaper, coordinator):
    registration = RegistrationFactory(course=course)
    registration_cancel(registration_id=registration.pk)
    client.force_login(coordinator)
    page = client.get(transfer_url(registration))
    assert page.status_code == 200 and "Only a confirmed registration" in page.content.decode()
    response = client.post(transfer_url(registration), {"to_course": cheaper.pk, "reason": "x"})
    assert response.status_code == 400 and not Registration.objects.filter(transferred_from=registration).exists()


@pytest.mark.django_db
def test_the_transfer_page_needs_its_permission(client, course, django_user_model, coordinator):
    registration = RegistrationFactory(course=course)
    url = transfer_url(registration)
    response = client.get(url)
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    for role in (FRONT_DESK, FINANCE):
        client.force_login(staff_user(django_user_model, f"user-{uuid.uuid4().hex[:6]}", role))
        assert client.get(url).status_code == 403
        assert client.post(url, {"to_course": course.pk, "reason": "x"}).status_code == 403
    client.force_login(coordinator)
    assert client.get(url).status_code == 200

