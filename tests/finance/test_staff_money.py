"""Staff refunds in the back office: full or partial, inside and outside the refund policy, never
above what was paid, replay-safe; cash and check refunds to issue closed with a check number;
card refunds through Stripe (localstripe); partial payments and the balance due; the pages'
permissions (Finance yes, Front desk no)."""

import datetime as dt
import threading
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from core.models import OutboxMessage
from core.roles import COORDINATOR, FINANCE, FRONT_DESK
from enrollment.models import Registration
from enrollment.services import registration_cancel, registration_transfer
from finance import selectors
from finance.balances import order_balance
from finance.models import Payment, Refund
from finance.services.staff import DuplicateRefund, RefundRefused, refund_create, refund_limits, transfer_settle
from tests.factories import RegistrationFactory, course_with_meetings

from .conftest import place, require_postgres
from .stripe_helpers import confirm_with_card, open_pay_page

S = Registration.Status
P = Payment.Provider
D = Decimal


# --- helpers --------------------------------------------------------------------------------------

def staff_user(django_user_model, name: str, *roles: str):
    user = django_user_model.objects.create_user(name, f"{name}@library.example.org", "a-long-passw0rd", is_staff=True,
                                                 first_name=name.capitalize())
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def finance_user(django_user_model):
    return staff_user(django_user_model, "fiona", FINANCE)


@pytest.fixture
def desk_user(django_user_model):
    return staff_user(django_user_model, "desmond", FRONT_DESK)


@pytest.fixture
def coordinator(django_user_model):
    return staff_user(django_user_model, "cora", COORDINATOR)


def pay(registration, amount, provider=P.CASH, *, at=None, taken_by=None, reference=None):
    """A succeeded desk (or card) payment for ``registration``."""
    at = at or timezone.now()
    if reference is None:
        reference = {P.CHECK: f"{uuid.uuid4().int % 100000}", P.CARD: f"pi_{uuid.uuid4().hex[:16]}"}.get(provider, "")
    payment = Payment.objects.create(order=registration.order, provider=provider, amount=D(amount), reference=reference,
                                     status=Payment.Status.SUCCEEDED, succeeded_at=at, taken_by=taken_by)
    payment.registrations.set([registration])
    return payment


def key() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def course(db):
    return course_with_meetings(capacity=5, fee=D("25.00"))


def refund_url(registration) -> str:
    return reverse("money:refund-create", args=[registration.pk])


# --- partial payments and the balance due -----------------------------------------------------------

@pytest.mark.django_db
def test_a_partial_payment_leaves_the_rest_due(course, desk_user):
    registration = RegistrationFactory(course=course)
    assert order_balance(registration.order).due == D("25.00")
    pay(registration, "10.00", taken_by=desk_user)
    balance = order_balance(registration.order)
    assert (balance.charges, balance.paid, balance.due) == (D("25.00"), D("10.00"), D("15.00"))
    pay(registration, "15.00", P.CHECK, taken_by=desk_user)
    assert order_balance(registration.order).due == D("0.00")
    assert selectors.registration_paid(registration) == D("25.00")


# --- the service ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_refund_within_policy_needs_no_override(course, finance_user):
    registration = RegistrationFactory(course=course)
    payment = pay(registration, "25.00", P.CHECK)
    registration_cancel(registration_id=registration.pk, actor_label="staff")  # before the cutoff: policy owes $25
    registration.refresh_from_db()
    assert refund_limits(registration).within_policy == D("25.00")
    [refund] = refund_create(registration=registration, amount="25.00", reason="Moved away", actor=finance_user,
                             form_key=(k := key()))
    assert (refund.payment, refund.amount, refund.status) == (payment, D("25.00"), Refund.Status.PENDING)
    assert refund.reason == "Moved away" and refund.issued_by == finance_user
    assert refund.dedupe_key == f"staff:{registration.pk}:{k}"
    assert order_balance(registration.order).due == D("0.00")
    assert refund_limits(registration).available == D("0.00")


@pytest.mark.django_db
def test_a_refund_outside_policy_needs_an_override_reason(course, finance_user):
    registration = RegistrationFactory(course=course)  # still confirmed: the policy owes nothing
    pay(registration, "25.00")
    assert refund_limits(registration).within_policy == D("0.00")
    with pytest.raises(RefundRefused) as refused:
        refund_create(registration=registration, amount="10.00", reason="Goodwill", actor=finance_user)
    assert refused.value.field == "override_reason"
    assert not Refund.objects.exists()
    [refund] = refund_create(registration=registration, amount="10.00", reason="Goodwill", actor=finance_user,
                             override_reason="Instructor was late twice")
    assert refund.reason == "Goodwill — outside policy: Instructor was late twice"
    assert order_balance(registration.order).due == D("10.00")  # still attending: the charge stays


@pytest.mark.django_db
def test_after_the_cutoff_the_policy_owes_nothing(course, finance_user):
    registration = RegistrationFactory(course=course)
    pay(registration, "25.00")
    late = course.registration_closes_at + dt.timedelta(hours=2)
    registration_cancel(registration_id=registration.pk, now=late)
    registration.refresh_from_db()
    assert refund_limits(registration).within_policy == D("0.00")
    with pytest.raises(RefundRefused):
        refund_create(registration=registration, amount="25.00", reason="Sick", actor=finance_user)


@pytest.mark.django_db
def test_a_partial_refund_then_the_rest_never_goes_above_what_was_paid(course, finance_user):
    registration = RegistrationFactory(course=course)
    pay(registration, "25.00")
    registration_cancel(registration_id=registration.pk)
    registration.refresh_from_db()
    refund_create(registration=registration, amount="10.00", reason="Part now", actor=finance_user)
    assert refund_limits(registration).available == D("15.00")
    with pytest.raises(RefundRefused) as refused:
        refund_create(registration=registration, amount="15.01", reason="Too much", actor=finance_user,
                      override_reason="try")
    assert refused.value.field == "amount" and "$15.00" in refused.value.message
    refund_create(registration=registration, amount="15.00", reason="The rest", actor=finance_user)
    with pytest.raises(RefundRefused) as refused:
        refund_create(registration=registration, amount="0.01", reason="More", actor=finance_user, override_reason="x")
    assert refused.value.field == "amount"
    assert selectors.registration_refunded(registration) == D("25.00") == selectors.registration_paid(registration)
    # the sweep's policy settlement finds nothing more owed
    from finance.services import refunds_settle

    assert refunds_settle(registration_id=registration.pk) == []


@pytest.mark.django_db
def test_the_newest_payment_is_refunded_first(course, finance_user):
    registration = RegistrationFactory(course=course)
    older = pay(registration, "10.00", P.CASH, at=timezone.now() - dt.timedelta(days=2))
    newer = pay(registration, "15.00", P.CHECK, at=timezone.now() - dt.timedelta(days=1))
    registration_cancel(registration_id=registration.pk)
    registration.refresh_from_db()
    k = key()
    first, second = refund_create(registration=registration, amount="20.00", reason="Cancelled", actor=finance_user,
                                  form_key=k)
    assert (first.payment, first.amount, first.dedupe_key) == (newer, D("15.00"), f"staff:{registration.pk}:{k}")
    assert (second.payment, second.amount) == (older, D("5.00"))
    assert second.dedupe_key == f"staff:{registration.pk}:{k}:{older.pk}"
    assert {r.status for r in (first, second)} == {Refund.Status.PENDING}


@pytest.mark.django_db
def test_the_same_form_posted_twice_refunds_once(course, finance_user):
    registration = RegistrationFactory(course=course)
    pay(registration, "25.00")
    registration_cancel(registration_id=registration.pk)
    registration.refresh_from_db()
    k = key()
    made = refund_create(registration=registration, amount="5.00", reason="Once", actor=finance_user, form_key=k)
    with pytest.raises(DuplicateRefund) as duplicate:
        refund_create(registration=registration, amount="5.00", reason="Once", actor=finance_user, form_key=k)
    assert [r.pk for r in duplicate.value.refunds] == [r.pk for r in made]
    assert Refund.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("amount", ["0", "-5", "abc", "1.234", "NaN", None, 2.5])
def test_the_service_refuses_bad_amounts(course, finance_user, amount):
    registration = RegistrationFactory(course=course)
    pay(registration, "25.00")
    with pytest.raises(RefundRefused) as refused:
        refund_create(registration=registration, amount=amount, reason="x", actor=finance_user, override_reason="y")
    assert refused.value.field == "amount"
    assert not Refund.objects.exists()


@pytest.mark.django_db
def test_a_transferred_registration_is_refunded_through_its_new_one(course, finance_user):
    registration = RegistrationFactory(course=course)
    pay(registration, "25.00")
    old, new = registration_transfer(registration_id=registration.pk, to_course_id=course_with_meetings(fee=D("25")).pk)
    transfer_settle(old=old, new=new)
    with pytest.raises(RefundRefused) as refused:
        refund_create(registration=old, amount="5.00", reason="x", actor=finance_user, override_reason="y")
    assert "transferred" in refused.value.message
    assert refund_limits(new).available == D("25.00")


def _at_once(n, work):
    start = threading.Barrier(n)
    results: list = []

    def run(i):
        try:
            start.wait(timeout=30)
            results.append(work(i))
        except Exception as exc:  # noqa: BLE001 (collected and checked by the test)
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_never_add_up_to_more_than_was_paid(settings, django_user_model):
    require_postgres("concurrent staff refunds")
    settings.DB_LOCK_TIMEOUT_MS = 20_000
    actor = staff_user(django_user_model, "racer", FINANCE)
    registration = RegistrationFactory(course=course_with_meetings(fee=D("25.00")))
    pay(registration, "25.00")
    results = _at_once(8, lambda i: refund_create(registration=registration, amount="10.00", reason=f"try {i}",
                                                  actor=actor, override_reason="race", form_key=key()))
    made = [r for r in results if isinstance(r, list)]
    refused = [r for r in results if isinstance(r, RefundRefused)]
    assert len(made) == 2 and len(refused) == 6, results
    assert selectors.registration_refunded(registration) == D("20.00")


@pytest.mark.django_db(transaction=True)
def test_the_same_form_posted_concurrently_refunds_once(settings, django_user_model):
    require_postgres("concurrent replays of one refund form")
    settings.DB_LOCK_TIMEOUT_MS = 20_000
    actor = staff_user(django_user_model, "racer", FINANCE)
    registration = RegistrationFactory(course=course_with_meetings(fee=D("25.00")))
    pay(registration, "25.00")
    k = key()
    results = _at_once(8, lambda i: refund_create(registration=registration, amount="10.00", reason="once",
                                                  actor=actor, override_reason="race", form_key=k))
    assert len([r for r in results if isinstance(r, list)]) == 1
    assert len([r for r in results if isinstance(r, DuplicateRefund)]) == 7, results
    assert Refund.objects.count() == 1


# --- the refund page ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_refund_page_prefills_what_the_policy_allows(client, course, finance_user):
    registration = RegistrationFactory(course=course)
    pay(registration, "25.00", P.CHECK)
    registration_cancel(registration_id=registration.pk)
    client.force_login(finance_user)
    page = client.get(refund_url(registration))
    assert page.status_code == 200
    form = page.context["form"]
    assert form["amount"].value() == D("25.00")
    assert "override_reason" not in form.fields  # Finance may not go outside the policy
    assert len(form["form_key"].value()) == 32


@pytest.mark.django_db
def test_finance_refunds_through_the_page_and_a_replayed_post_changes_nothing(client, course, finance_user):
    registration = RegistrationFactory(course=course)
    pay(registration, "25.00", P.CHECK)
    registration_cancel(registration_id=registration.pk)
    client.force_login(finance_user)
    data = {"form_key": key(), "amount": "25", "reason": "Cancelled in time"}
    response = client.post(refund_url(registration), data)
    assert response.status_code == 302 and response["Location"] == refund_url(registration)
    refund = Refund.objects.get()
    assert (refund.amount, refund.status, refund.issued_by, refund.reason) == (
        D("25.00"), Refund.Status.PENDING, finance_user, "Cancelled in time")
    again = client.post(refund_url(registration), data, follow=True)
    assert "already recorded" in again.content.decode()
    assert Refund.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(("amount", "reason", "field", "text"), [
    ("-5", "x", "amount", "greater than zero"),
    ("0", "x", "amount", "greater than zero"),
    ("ten", "x", "amount", "dollars and cents"),
    ("1.005", "x", "amount", "2 decimal places"),
    ("26.00", "x", "amount", "At most $25.00"),
    ("99999999999", "x", "amount", "digits"),
    ("5", "", "reason", "Say why"),
    ("5", "   ", "reason", "Say why"),
])
def test_bad_input_is_a_message_on_its_field_and_changes_nothing(client, course, coordinator, amount, reason, field,
                                                                  text):
    registration = RegistrationFactory(course=course)
    pay(registration, "25.00")
    registration_cancel(registration_id=registration.pk)
    client.force_login(coordinator)
    response = client.post(refund_url(registration), {"form_key": key(), "amount": amount, "reason": reason,
                                                      "override_reason": "approved"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors and text in " ".join(errors[field]), errors
    assert not Refund.objects.exists()


@pytest.mark.django_db
def test_outside_policy_needs_the_permission_and_an_override_reason(client, course, finance_user, coordinator):
    registration = RegistrationFactory(course=course)  # confirmed: policy allows $0
    pay(registration, "25.00")
    client.force_login(finance_user)
    response = client.post(refund_url(registration), {"form_key": key(), "amount": "10", "reason": "Goodwill",
                                                      "override_reason": "I say so"})
    assert response.status_code == 400
    assert "outside policy" in " ".join(response.context["form"].errors["amount"])
    assert not Refund.objects.exists()
    client.force_login(coordinator)
    response = client.post(refund_url(registration), {"form_key": key(), "amount": "10", "reason": "Goodwill"})
    assert response.status_code == 400 and "override_reason" in response.context["form"].errors
    assert not Refund.objects.exists()
    response = client.post(refund_url(registration), {"form_key": key(), "amount": "10", "reason": "Goodwill",
                                                      "override_reason": "Class moved rooms twice"})
    assert response.status_code == 302
    refund = Refund.objects.get()
    assert refund.issued_by == coordinator and "outside policy: Class moved rooms twice" in refund.reason


@pytest.mark.django_db
def test_front_desk_gets_403_and_anonymous_goes_to_the_login(client, course, desk_user, finance_user):
    registration = RegistrationFactory(course=course)
    pay(registration, "25.00")
    urls = [refund_url(registration), reverse("money:refunds-to-issue"), reverse("money:deposit-report")]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    client.force_login(desk_user)
    for url in urls:
        assert client.get(url).status_code == 403
    response = client.post(refund_url(registration), {"form_key": key(), "amount": "5", "reason": "x"})
    assert response.status_code == 403 and not Refund.objects.exists()
    client.force_login(finance_user)
    for url in urls:
        assert client.get(url).status_code == 200


# --- refunds to issue -----------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_check_refund_to_issue_is_closed_with_its_check_number(client, course, finance_user, coordinator):
    registration = RegistrationFactory(course=course)
    pay(registration, "25.00", P.CHECK)
    registration_cancel(registration_id=registration.pk)
    registration.refresh_from_db()
    [refund] = refund_create(registration=registration, amount="25.00", reason="Cancelled", actor=coordinator)
    client.force_login(finance_user)
    page = client.get(reverse("money:refunds-to-issue"))
    assert page.status_code == 200 and f"refund-{refund.pk}" in page.content.decode()
    missing = client.post(reverse("money:refunds-to-issue"),
                          {"refund": refund.pk, f"r{refund.pk}-refund_id": refund.pk, f"r{refund.pk}-reference": " "})
    assert missing.status_code == 400 and "Enter the refund check number" in missing.content.decode()
    refund.refresh_from_db()
    assert refund.status == Refund.Status.PENDING
    done = client.post(reverse("money:refunds-to-issue"),
                       {"refund": refund.pk, f"r{refund.pk}-refund_id": refund.pk, f"r{refund.pk}-reference": "10452"},
                       follow=True)
    assert "closed with refund check 10452" in done.content.decode()
    refund.refresh_from_db()
    assert (refund.status, refund.reference, refund.issued_by) == (Refund.Status.DONE, "10452", finance_user)
    assert refund.done_at is not None
    assert "check number 10452" in OutboxMessage.objects.get(template="refund_issued").body_text
    assert f"refund-{refund.pk}" not in client.get(reverse("money:refunds-to-issue")).content.decode()


@pytest.mark.django_db
def test_the_payment_page_links_to_its_registrations_which_offer_refund_and_transfer(admin_client, course):
    registration = RegistrationFactory(course=course)
    payment = pay(registration, "25.00")
    page = admin_client.get(reverse("admin:finance_payment_change", args=[payment.pk]))
    registration_url = reverse("admin:enrollment_registration_change", args=[registration.pk])
    assert registration_url in page.content.decode()
    html = admin_client.get(registration_url).content.decode()
    assert refund_url(registration) in html
    assert reverse("money:registration-transfer", args=[registration.pk]) in html
    listing = admin_client.get(reverse("admin:finance_refund_changelist")).content.decode()
    assert reverse("money:refunds-to-issue") in listing and reverse("money:deposit-report") in listing


# --- card refunds through Stripe (localstripe) ------------------------------------------------------

def _card_paid(client, browser, order):
    _, payment, _ = open_pay_page(client, order)
    answer = confirm_with_card(client, order, payment, browser.card())
    client.get(answer["return_url"])
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    return payment


@pytest.mark.stripe
def test_a_card_refund_goes_through_stripe_once(client, browser, course, finance_user,
                                                django_capture_on_commit_callbacks):
    held = place(course)
    payment = _card_paid(client, browser, held.order)
    registration = held.held[0]
    registration_cancel(registration_id=registration.pk)
    client.force_login(finance_user)
    data = {"form_key": key(), "amount": "10.00", "reason": "Partial, as agreed"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(refund_url(registration), data, follow=True)
    assert "back to the card" in response.content.decode()
    refund = Refund.objects.get()
    assert refund.status == Refund.Status.DONE and refund.reference.startswith("re_")
    assert refund.issued_by == finance_user and refund.amount == D("10.00")
    assert [(r["id"], r["amount"]) for r in browser.server.refunds(payment.reference)] == [(refund.reference, 1000)]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(refund_url(registration), data)  # the same form again
    assert len(browser.server.refunds(payment.reference)) == 1 and Refund.objects.count() == 1
    assert OutboxMessage.objects.filter(template="refund_issued").count() == 1


@pytest.mark.stripe
def test_card_and_cash_parts_go_their_own_ways(client, browser, course, finance_user, django_capture_on_commit_callbacks):
    """Paid $25 by card, transferred to a $40 class, the $15 difference paid in cash at the desk;
    then cancelled in time: $20 back is $15 cash (the newest payment, to issue) and $5 to the card."""
    held = place(course)
    card = _card_paid(client, browser, held.order)
    dearer = course_with_meetings(fee=D("40.00"))
    old, new = registration_transfer(registration_id=held.held[0].pk, to_course_id=dearer.pk)
    assert transfer_settle(old=old, new=new) == []
    assert order_balance(new.order).due == D("15.00")
    cash = pay(new, "15.00", P.CASH, taken_by=finance_user)
    assert order_balance(new.order).due == D("0.00") and selectors.registration_paid(new) == D("40.00")
    registration_cancel(registration_id=new.pk)
    new.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        made = refund_create(registration=new, amount="20.00", reason="Cancelled", actor=finance_user)
    by_payment = {r.payment_id: Refund.objects.get(pk=r.pk) for r in made}
    assert by_payment[cash.pk].amount == D("15.00") and by_payment[cash.pk].status == Refund.Status.PENDING
    assert by_payment[card.pk].amount == D("5.00") and by_payment[card.pk].status == Refund.Status.DONE
    assert [r["amount"] for r in browser.server.refunds(card.reference)] == [500]


@pytest.mark.stripe
def test_a_card_paid_transfer_to_a_cheaper_class_is_refunded_on_stripe(client, browser, course,
                                                                       django_capture_on_commit_callbacks):
    cheaper = course_with_meetings(fee=D("15.00"))
    held = place(course)
    _, payment, _ = open_pay_page(client, held.order)
    answer = confirm_with_card(client, held.order, payment, browser.card())
    client.get(answer["return_url"])
    old, new = registration_transfer(registration_id=held.held[0].pk, to_course_id=cheaper.pk)
    with django_capture_on_commit_callbacks(execute=True):
        [refund] = transfer_settle(old=old, new=new)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.DONE and refund.amount == D("10.00")
    assert [(r["id"], r["amount"]) for r in browser.server.refunds(payment.reference)] == [(refund.reference, 1000)]
    with django_capture_on_commit_callbacks(execute=True):
        assert transfer_settle(old=old, new=new) == []
    assert len(browser.server.refunds(payment.reference)) == 1
