"""Pass the Buck scholarships (``finance.services.scholarships``): a patron who asks pays half and
the fund pays the other half, in the checkout's one transaction; a fund that cannot cover it, a
free class or the per-semester limit refuses with a clear message and writes nothing; awards go
back to the fund (and only the patron's own part to the patron) when a seat is cancelled, runs
out or its course is cancelled; the ledger ties out with the payment records after every step;
the scholarship waitlist is served oldest first as donations arrive; and the checkout page."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from classes.models import Course
from core.models import OutboxMessage, SiteOptions
from enrollment.models import EnrollmentOptions, Order, Registration, ScholarshipWait
from enrollment.services import BuyerInput, EnrollmentError, holds_expire, registration_cancel
from enrollment.services.weekout import course_decide
from enrollment.tasks import refunds_settle_for
from finance import tasks as finance_tasks
from finance.balances import order_balance
from finance.models import Donation, FundEntry, Payment, Refund
from finance.selectors import payment_shares, registration_due, registration_paid
from finance.services import payment_confirm, payment_start, refund_mark_issued, refunds_settle
from finance.services.checkout import checkout_place
from finance.services.donations import donation_record_offline
from finance.services.fund import (
    FundInsufficient,
    fund_adjust,
    fund_award_return,
    fund_balance,
    fund_returns_sweep,
)
from finance.services.offline import desk_register
from finance.services.scholarship_offers import scholarship_waits_offer
from finance.services.scholarships import (
    FundShort,
    ScholarshipError,
    ScholarshipLimitReached,
    ScholarshipNotNeeded,
    awards_in_semester,
    scholarship_amount,
    scholarship_wait_join,
    scholarships_apply,
)
from tests.enrollment.test_checkout_views import CHECKOUT, add, filled, place, rendered_form
from tests.factories import RegistrationFactory, SemesterFactory, course_with_meetings

from .scholarship_helpers import (
    buyer,
    donate,
    install_fake_stripe,
    rows,
    scholarship_payments,
    seat,
    succeeded_total,
)

pytestmark = pytest.mark.django_db

S = Registration.Status
K = FundEntry.Kind
P = Payment.Provider
R = Refund.Status
W = ScholarshipWait.Status
D = Decimal
ZERO = D("0.00")


@pytest.fixture(autouse=True)
def _site_options():
    SiteOptions.current()


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def fake_stripe(monkeypatch):
    return install_fake_stripe(monkeypatch)


@pytest.fixture
def course():
    return course_with_meetings(title="Bread Baking", fee=D("25.00"), capacity=12, minimum=3)


@pytest.fixture
def desk_user():
    return User.objects.create_user("desk", "desk@library.example", "a-long-passw0rd", is_staff=True)


def entries(kind) -> Decimal:
    return FundEntry.objects.filter(kind=kind).aggregate(s=Sum("amount"))["s"] or ZERO


def set_limit(n: int) -> None:
    EnrollmentOptions.objects.filter(pk=EnrollmentOptions.current().pk).update(scholarship_limit=n)


# --- the award at checkout ------------------------------------------------------------------------

@pytest.mark.parametrize(("fee", "fund_part", "patron_part"), [
    ("25.00", "12.50", "12.50"), ("25.01", "12.50", "12.51"), ("0.03", "0.01", "0.02"), ("99.99", "49.99", "50.00"),
])
def test_a_scholarship_seat_is_held_and_the_fund_pays_half_rounded_down(fee, fund_part, patron_part, now,
                                                                        fake_stripe):
    course = course_with_meetings(fee=D(fee))
    donate("100.00")

    result = checkout_place(buyer=buyer(), attendees=[seat(course)], now=now)

    (registration,) = result.registrations
    assert result.held == [registration]
    assert registration.status == S.HELD and registration.scholarship_requested
    assert registration.price == D(fee)
    (award_payment,) = scholarship_payments(registration)
    assert (award_payment.amount, award_payment.status, award_payment.order_id) == (
        D(fund_part), Payment.Status.SUCCEEDED, result.order.pk)
    award = FundEntry.objects.get(kind=K.AWARD)
    assert (award.amount, award.registration_id, award.payment_id) == (-D(fund_part), registration.pk,
                                                                       award_payment.pk)
    assert fund_balance() == D("100.00") - D(fund_part)
    assert scholarship_amount(D(fee)) == D(fund_part)

    registration.refresh_from_db()
    assert registration.fund_paid == D(fund_part)
    assert registration.patron_price == D(patron_part)
    assert registration_due(registration) == D(patron_part)
    assert payment_shares(award_payment) == {registration.pk: D(fund_part)}

    # The pay page charges the patron their half only; the course's income is whole.
    card = fake_stripe.pay(result.order, now=now)
    assert card.amount == D(patron_part)
    assert fake_stripe.intents[card.reference].amount == int(D(patron_part) * 100)
    registration.refresh_from_db()
    assert registration.status == S.CONFIRMED
    assert registration_due(registration) == ZERO
    assert registration_paid(registration) == D(fee)
    assert succeeded_total(registration) == D(fee)
    confirmation = OutboxMessage.objects.get(template="registration_confirmed")
    assert f"${patron_part}" in confirmation.body_text
    assert "half price with a Pass the Buck scholarship" in confirmation.body_text


def test_a_mixed_order_charges_the_full_fee_for_one_seat_and_half_for_the_other(course, now, fake_stripe):
    donate("50.00")
    result = checkout_place(buyer=buyer(), attendees=[seat(course, "Alex"), seat(course, "Sam", scholarship=False)],
                            now=now)
    helped, plain = result.registrations
    assert helped.scholarship_requested and not plain.scholarship_requested
    assert scholarship_payments(plain) == []
    assert result.amount_due == D("50.00")  # the seat service knows nothing of scholarships

    card = fake_stripe.pay(result.order, now=now)

    assert card.amount == D("37.50")
    assert payment_shares(card) == {helped.pk: D("12.50"), plain.pk: D("25.00")}
    for registration in (helped, plain):
        registration.refresh_from_db()
        assert registration.status == S.CONFIRMED
        assert registration_paid(registration) == D("25.00")
    assert fund_balance() == D("37.50")


def test_at_the_desk_the_patron_pays_their_half_in_cash(course, now, desk_user):
    donate("20.00")
    result = desk_register(buyer=buyer(), attendees=[seat(course)], provider=P.CASH, actor=desk_user, now=now)

    (registration,) = result.registrations
    assert registration.status == S.CONFIRMED
    assert result.payment.provider == P.CASH and result.payment.amount == D("12.50")
    assert result.balance.due == ZERO
    assert succeeded_total(registration) == D("25.00")
    assert scholarship_payments(registration)[0].taken_by == desk_user
    assert FundEntry.objects.get(kind=K.AWARD).created_by == desk_user
    assert fund_balance() == D("7.50")


def test_no_scholarship_asked_is_the_plain_seat_service(course, now):
    result = checkout_place(buyer=buyer(), attendees=[seat(course, scholarship=False)], now=now)
    assert result.held[0].status == S.HELD and not result.held[0].scholarship_requested
    assert not Payment.objects.exists() and not FundEntry.objects.exists()


# --- the fund cannot cover it ---------------------------------------------------------------------

def test_a_fund_short_of_one_half_refuses_kindly_and_writes_nothing(course, now):
    donate("12.49")
    before = rows()

    with pytest.raises(FundShort) as excinfo:
        checkout_place(buyer=buyer(), attendees=[seat(course)], now=now)

    exc = excinfo.value
    assert (exc.index, exc.course_id, exc.field) == (0, course.pk, "scholarship")
    assert "can’t cover a scholarship for “Bread Baking” right now" in exc.message
    assert "register at full price, or join the scholarship waitlist" in exc.message
    assert rows() == before
    assert fund_balance() == D("12.49")


@pytest.mark.parametrize(("fund", "attendees", "index"), [
    ("12.50", [("Alex", True), ("Sam", True)], 1),
    ("12.49", [("Sam", False), ("Alex", True)], 1),
    ("12.50", [("Sam", False), ("Alex", True), ("Kim", True)], 2),
])
def test_the_first_seat_the_fund_cannot_cover_is_named_and_nothing_at_all_is_written(course, now, fund, attendees,
                                                                                      index):
    donate(fund)
    before = rows()

    with pytest.raises(FundShort) as excinfo:
        checkout_place(buyer=buyer(), attendees=[seat(course, name, scholarship=asks) for name, asks in attendees],
                       now=now)

    assert excinfo.value.index == index
    assert rows() == before  # any award made first, the order and every seat were rolled back
    assert fund_balance() == D(fund)
    assert Order.objects.count() == 0


# --- what cannot be asked -------------------------------------------------------------------------

def test_a_free_class_needs_no_scholarship(now):
    free = course_with_meetings(title="Library Tour", fee=ZERO)
    donate("50.00")
    before = rows()
    with pytest.raises(ScholarshipNotNeeded, match="“Library Tour” is free: no scholarship is needed.") as excinfo:
        checkout_place(buyer=buyer(), attendees=[seat(free)], now=now)
    assert (excinfo.value.index, excinfo.value.field) == (0, "scholarship")
    assert rows() == before


def test_a_fee_too_small_to_split_is_refused(now):
    tiny = course_with_meetings(title="Penny Class", fee=D("0.01"))
    donate("50.00")
    before = rows()
    with pytest.raises(ScholarshipNotNeeded, match="too small to split"):
        checkout_place(buyer=buyer(), attendees=[seat(tiny)], now=now)
    assert rows() == before


@pytest.fixture
def semester():
    return SemesterFactory()


def semester_courses(semester, n: int) -> list[Course]:
    return [course_with_meetings(semester=semester, title=f"Class {i}", fee=D("20.00")) for i in range(n)]


def test_the_third_scholarship_in_a_semester_is_refused_by_default(semester, now):
    first, second, third = semester_courses(semester, 3)
    donate("100.00")
    assert EnrollmentOptions.current().scholarship_limit == 2
    checkout_place(buyer=buyer(), attendees=[seat(first)], now=now)
    checkout_place(buyer=buyer(), attendees=[seat(second)], now=now)
    before = rows()

    with pytest.raises(ScholarshipLimitReached) as excinfo:
        checkout_place(buyer=buyer(), attendees=[seat(third)], now=now)

    assert excinfo.value.message == ("Alex has reached the limit of 2 scholarship classes this semester. "
                                     "You can register at full price.")
    assert (excinfo.value.index, excinfo.value.field) == (0, "scholarship")
    assert rows() == before
    assert fund_balance() == D("80.00")
    # Someone else in the family, and the same attendee at full price, are fine.
    checkout_place(buyer=buyer(), attendees=[seat(third, "Sam")], now=now)
    checkout_place(buyer=buyer(), attendees=[seat(third, scholarship=False)], now=now)


def test_the_requests_of_one_order_count_towards_the_limit(semester, now):
    courses = semester_courses(semester, 3)
    donate("100.00")
    before = rows()
    with pytest.raises(ScholarshipLimitReached) as excinfo:
        checkout_place(buyer=buyer(), attendees=[seat(c) for c in courses], now=now)
    assert excinfo.value.index == 2
    assert rows() == before


def test_a_limit_of_one_says_class_not_classes(semester, now):
    first, second = semester_courses(semester, 2)
    donate("100.00")
    set_limit(1)
    checkout_place(buyer=buyer(), attendees=[seat(first)], now=now)
    with pytest.raises(ScholarshipLimitReached, match="the limit of 1 scholarship class this semester"):
        checkout_place(buyer=buyer(), attendees=[seat(second)], now=now)


def test_awards_returned_do_not_count_towards_the_limit(semester, now, fake_stripe):
    first, second, third = semester_courses(semester, 3)
    donate("100.00")
    gone = checkout_place(buyer=buyer(), attendees=[seat(first)], now=now).registrations[0]
    fake_stripe.pay(gone.order, now=now)
    checkout_place(buyer=buyer(), attendees=[seat(second)], now=now)
    registration_cancel(registration_id=gone.pk, now=now)
    refunds_settle(registration_id=gone.pk, now=now)
    assert FundEntry.objects.filter(kind=K.AWARD_RETURNED, registration=gone).exists()
    assert awards_in_semester({gone.attendee_key}, semester.pk) == {gone.attendee_key: 1}

    result = checkout_place(buyer=buyer(), attendees=[seat(third)], now=now)
    assert scholarship_payments(result.registrations[0])


def test_another_semester_counts_separately(semester, now):
    first, second = semester_courses(semester, 2)
    later = course_with_meetings(semester=SemesterFactory(), fee=D("20.00"))
    donate("100.00")
    checkout_place(buyer=buyer(), attendees=[seat(first)], now=now)
    checkout_place(buyer=buyer(), attendees=[seat(second)], now=now)
    result = checkout_place(buyer=buyer(), attendees=[seat(later)], now=now)
    assert scholarship_payments(result.registrations[0])


def test_an_award_whose_hold_ran_out_does_not_count_even_before_the_sweep_returns_it(semester, now):
    first, second = semester_courses(semester, 2)
    donate("30.00")
    checkout_place(buyer=buyer(), attendees=[seat(first)], now=now, confirm_now=True)  # paid at the desk
    lapsed = checkout_place(buyer=buyer(), attendees=[seat(second)], now=now).registrations[0]
    later = lapsed.expires_at + dt.timedelta(minutes=1)  # the hold ran out; no job has run yet

    retry = checkout_place(buyer=buyer(), attendees=[seat(second)], now=later).registrations[0]

    lapsed.refresh_from_db()
    assert lapsed.status == S.EXPIRED and retry.status == S.HELD
    assert [p.amount for p in scholarship_payments(retry)] == [D("10.00")]
    assert awards_in_semester({retry.attendee_key}, semester.pk, now=later) == {retry.attendee_key: 2}
    fund_returns_sweep(now=later)
    assert fund_balance() == D("10.00")


def test_an_award_in_a_cancelled_class_does_not_count(semester, now):
    first, second, third = semester_courses(semester, 3)
    donate("30.00")
    checkout_place(buyer=buyer(), attendees=[seat(first)], now=now)
    checkout_place(buyer=buyer(), attendees=[seat(second)], now=now)
    Course.objects.filter(pk=second.pk).update(status=Course.Status.CANCELLED)  # the sweep has not run yet
    assert scholarship_payments(checkout_place(buyer=buyer(), attendees=[seat(third)], now=now).registrations[0])


def test_a_limit_of_zero_offers_no_scholarship_online_but_the_desk_can_grant_one(course, now, desk_user):
    donate("50.00")
    set_limit(0)
    before = rows()
    with pytest.raises(ScholarshipLimitReached, match="not offered online this semester"):
        checkout_place(buyer=buyer(), attendees=[seat(course)], now=now)
    assert rows() == before

    result = desk_register(buyer=buyer(), attendees=[seat(course)], provider=P.CASH, actor=desk_user, now=now)
    assert result.payment.amount == D("12.50")
    assert fund_balance() == D("37.50")


def test_the_desk_is_not_held_to_the_limit(semester, now, desk_user):
    courses = semester_courses(semester, 3)
    donate("100.00")
    for c in courses[:2]:
        checkout_place(buyer=buyer(), attendees=[seat(c)], now=now)
    result = desk_register(buyer=buyer(), attendees=[seat(courses[2])], provider=P.CASH, actor=desk_user, now=now)
    assert scholarship_payments(result.registrations[0])
    assert fund_balance() == D("70.00")


def test_a_scholarship_error_is_an_enrollment_error_the_pages_already_show():
    assert issubclass(FundShort, ScholarshipError) and issubclass(ScholarshipError, EnrollmentError)


# --- awards go back to the fund -------------------------------------------------------------------

def test_a_card_seat_cancelled_before_the_cutoff_returns_the_award_and_refunds_the_patron_their_half(
        course, now, fake_stripe):
    donate("20.00")
    registration = checkout_place(buyer=buyer(), attendees=[seat(course)], now=now).registrations[0]
    card = fake_stripe.pay(registration.order, now=now)
    award_payment = scholarship_payments(registration)[0]
    assert fund_balance() == D("7.50")

    registration_cancel(registration_id=registration.pk, now=now)
    made = refunds_settle(registration_id=registration.pk, now=now)

    assert [(r.payment_id, r.amount, r.status) for r in made] == [(card.pk, D("12.50"), R.PENDING)]  # Stripe next
    returned = FundEntry.objects.get(kind=K.AWARD_RETURNED)
    assert (returned.amount, returned.registration_id) == (D("12.50"), registration.pk)
    assert returned.reason == "The registration was cancelled."
    assert fund_balance() == D("20.00")
    to_fund = Refund.objects.get(payment=award_payment)
    assert (to_fund.amount, to_fund.status, to_fund.dedupe_key) == (D("12.50"), R.DONE,
                                                                   f"award-return:{registration.pk}")
    assert Refund.objects.filter(registration=registration).aggregate(s=Sum("amount"))["s"] == D("25.00")
    assert order_balance(registration.order).due == ZERO
    # Settling again, and the sweeps, change nothing.
    before = rows()
    assert refunds_settle(registration_id=registration.pk, now=now) == []
    assert fund_returns_sweep(now=now) == []
    assert rows() == before and fund_balance() == D("20.00")


def test_a_cash_seat_cancelled_before_the_cutoff_leaves_the_patrons_half_to_issue(course, now, desk_user):
    donate("12.50")
    result = desk_register(buyer=buyer(), attendees=[seat(course)], provider=P.CASH, actor=desk_user, now=now)
    (registration,) = result.registrations

    registration_cancel(registration_id=registration.pk, now=now, actor=desk_user, actor_label="desk")
    (refund,) = refunds_settle(registration_id=registration.pk, now=now, actor=desk_user)

    assert (refund.payment_id, refund.amount, refund.status) == (result.payment.pk, D("12.50"), R.PENDING)
    assert fund_balance() == D("12.50")
    assert not Refund.objects.filter(payment__provider=P.SCHOLARSHIP, status=R.PENDING).exists()
    refund_mark_issued(refund_id=refund.pk, reference="Refund check 501", actor=desk_user, now=now)
    assert order_balance(result.order).due == ZERO


def test_a_hold_that_runs_out_returns_its_award(course, now):
    donate("12.50")
    registration = checkout_place(buyer=buyer(), attendees=[seat(course)], now=now).registrations[0]
    assert fund_balance() == ZERO
    later = registration.expires_at + dt.timedelta(minutes=1)

    assert holds_expire(now=later) == 1
    (returned,) = fund_returns_sweep(now=later)

    registration.refresh_from_db()
    assert registration.status == S.EXPIRED
    assert (returned.amount, returned.reason) == (D("12.50"), "The seat was not paid for in time.")
    assert fund_balance() == D("12.50")
    award_payment = scholarship_payments(registration)[0]
    assert list(Refund.objects.values_list("payment_id", "amount", "status")) == [(award_payment.pk, D("12.50"),
                                                                                    R.DONE)]
    assert fund_returns_sweep(now=later) == []


def test_the_expiry_task_returns_the_award_at_once(course, now, monkeypatch):
    from enrollment import tasks as enrollment_tasks

    donate("12.50")
    registration = checkout_place(buyer=buyer(), attendees=[seat(course)], now=now).registrations[0]
    later = registration.expires_at + dt.timedelta(minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)

    assert enrollment_tasks.holds_expire() == 1
    assert fund_balance() == D("12.50")
    assert entries(K.AWARD_RETURNED) == D("12.50")


def test_a_course_cancelled_by_staff_returns_every_award(course, now, fake_stripe, desk_user):
    donate("50.00")
    paid = checkout_place(buyer=buyer(), attendees=[seat(course)], now=now).registrations[0]
    card = fake_stripe.pay(paid.order, now=now)
    held = checkout_place(buyer=buyer("kim@example.org"), attendees=[seat(course, "Kim")], now=now).registrations[0]
    assert fund_balance() == D("25.00")

    decision = course_decide(course_id=course.pk, now=now, actor=desk_user, force="cancel", reason="Instructor ill")
    made = refunds_settle_for(decision.settle_ids, reason="Class cancelled", now=now)

    assert decision.settle_ids == [paid.pk]
    assert [(r.payment_id, r.amount) for r in made] == [(card.pk, D("12.50"))]
    returned = FundEntry.objects.filter(kind=K.AWARD_RETURNED)
    assert [(e.registration_id, e.reason) for e in returned] == [(paid.pk, "The course was cancelled.")]
    # The hold had no refund to settle: the sweep returns its award.
    assert [e.registration_id for e in fund_returns_sweep(now=now)] == [held.pk]
    assert fund_balance() == D("50.00")
    assert fund_returns_sweep(now=now) == []
    assert entries(K.AWARD_RETURNED) == D("25.00")


def test_a_course_cancelled_at_the_week_out_run_returns_its_awards(now, desk_user):
    course = course_with_meetings(fee=D("30.00"), minimum=5)
    donate("15.00")
    result = desk_register(buyer=buyer(), attendees=[seat(course)], provider=P.CHECK, reference="2001",
                           actor=desk_user, now=now)
    after_cutoff = course.registration_closes_at + dt.timedelta(minutes=5)

    decision = course_decide(course_id=course.pk, now=after_cutoff)
    (refund,) = refunds_settle_for(decision.settle_ids, reason="Below minimum", now=after_cutoff)

    assert decision.outcome == "cancelled"
    assert (refund.payment_id, refund.amount, refund.status) == (result.payment.pk, D("15.00"), R.PENDING)
    assert fund_balance() == D("15.00")
    assert order_balance(result.order).due == ZERO


def test_returning_twice_books_once(course, now):
    donate("12.50")
    registration = checkout_place(buyer=buyer(), attendees=[seat(course)], now=now).registrations[0]
    registration_cancel(registration_id=registration.pk, now=now)

    first = fund_award_return(registration=registration, now=now)
    again = fund_award_return(registration=registration, now=now)
    refunds_settle(registration_id=registration.pk, now=now)
    refunds_settle(registration_id=registration.pk, now=now)
    fund_returns_sweep(now=now)

    assert again.pk == first.pk
    assert FundEntry.objects.filter(kind=K.AWARD_RETURNED).count() == 1
    assert Refund.objects.count() == 1  # the scholarship payment's, done; the hold was never paid by the patron
    assert fund_balance() == D("12.50")


# --- the ledger ties out, step by step ------------------------------------------------------------

def test_the_ledger_ties_out_with_donations_payments_and_refunds_after_every_step(now, desk_user, fake_stripe):
    bread = course_with_meetings(title="Bread", fee=D("25.00"))
    pottery = course_with_meetings(title="Pottery", fee=D("30.00"))
    woodwork = course_with_meetings(title="Woodwork", fee=D("40.00"))
    direct = ZERO

    def tie_out(expected_balance: str) -> None:
        donations, awards = entries(K.DONATION), entries(K.AWARD)
        returns, adjustments = entries(K.AWARD_RETURNED), entries(K.ADJUSTMENT)
        assert awards <= 0 <= returns and donations >= 0
        assert fund_balance() == donations + awards + returns + adjustments == D(expected_balance)
        scholarship = Payment.objects.filter(provider=P.SCHOLARSHIP)
        assert -awards == (scholarship.filter(status=Payment.Status.SUCCEEDED).aggregate(s=Sum("amount"))["s"]
                           or ZERO)
        assert scholarship.count() == FundEntry.objects.filter(kind=K.AWARD).count()
        assert returns == (Refund.objects.filter(payment__provider=P.SCHOLARSHIP, status=R.DONE)
                           .aggregate(s=Sum("amount"))["s"] or ZERO)
        assert not Refund.objects.filter(payment__provider=P.SCHOLARSHIP).exclude(status=R.DONE).exists()
        gifts = Donation.objects.filter(status=Donation.Status.SUCCEEDED).aggregate(s=Sum("amount"))["s"] or ZERO
        assert donations == gifts + direct
        booked = FundEntry.objects.filter(kind=K.DONATION, dedupe_key__in=[
            f"donation:{pk}" for pk in Donation.objects.values_list("pk", flat=True)])
        assert (booked.aggregate(s=Sum("amount"))["s"] or ZERO) == gifts

    tie_out("0.00")
    donation_record_offline(first_name="Grace", last_name="Hopper", amount=D("30.00"), method="cash",
                            taken_by=desk_user, now=now)
    tie_out("30.00")
    donation_record_offline(first_name="Ada", last_name="Lovelace", amount=D("20.00"), method="check",
                            reference="1234", taken_by=desk_user, now=now)
    tie_out("50.00")
    donate("5.00")
    direct += D("5.00")
    tie_out("55.00")

    online = checkout_place(buyer=buyer(), attendees=[seat(bread)], now=now).registrations[0]
    tie_out("42.50")
    desk = desk_register(buyer=buyer("sam@example.org", first="Sam"), attendees=[seat(bread, "Sam")],
                         provider=P.CASH, actor=desk_user, now=now).registrations[0]
    tie_out("30.00")
    unpaid = checkout_place(buyer=buyer("kim@example.org", first="Kim"), attendees=[seat(pottery, "Kim")],
                            now=now).registrations[0]
    tie_out("15.00")
    with pytest.raises(FundShort):
        checkout_place(buyer=buyer("lee@example.org", first="Lee"), attendees=[seat(woodwork, "Lee")], now=now)
    tie_out("15.00")

    fake_stripe.pay(online.order, now=now)
    registration_cancel(registration_id=online.pk, now=now)
    refunds_settle(registration_id=online.pk, now=now)
    tie_out("27.50")

    later = unpaid.expires_at + dt.timedelta(minutes=1)
    holds_expire(now=later)
    fund_returns_sweep(now=later)
    tie_out("42.50")
    fund_returns_sweep(now=later)
    tie_out("42.50")

    fund_adjust(amount=D("-3.00"), reason="Bank fee on a donated check", by=desk_user, now=later)
    tie_out("39.50")
    fund_adjust(amount=D("1.25"), reason="Correction", by=desk_user, now=later)
    tie_out("40.75")
    with pytest.raises(FundInsufficient):
        fund_adjust(amount=D("-40.76"), reason="Too much", by=desk_user, now=later)
    tie_out("40.75")

    # The desk seat still stands, and every seat's income is whole or given back.
    desk.refresh_from_db()
    assert desk.status == S.CONFIRMED and succeeded_total(desk) == D("25.00")


# --- the seat waitlist: a scholarship asked for while waiting -----------------------------------

def test_a_waitlisted_attendee_keeps_the_request_and_gets_the_award_at_the_pay_page(now, fake_stripe):
    course = course_with_meetings(fee=D("25.00"), capacity=1, minimum=1)
    taken = RegistrationFactory(course=course)
    donate("12.50")

    result = checkout_place(buyer=buyer(), attendees=[seat(course)], now=now, join_waitlist=True)
    (waiting,) = result.waitlisted
    assert waiting.scholarship_requested
    assert not scholarship_payments(waiting) and fund_balance() == D("12.50")

    registration_cancel(registration_id=taken.pk, now=now, actor_label="staff")
    waiting.refresh_from_db()
    assert waiting.status == S.OFFERED
    assert scholarships_apply(order=result.order, now=now) == []
    assert scholarships_apply(order=result.order, now=now) == []  # once
    assert [p.amount for p in scholarship_payments(waiting)] == [D("12.50")]
    assert fund_balance() == ZERO
    card = fake_stripe.pay(result.order, now=now)
    assert card.amount == D("12.50")
    waiting.refresh_from_db()
    assert waiting.status == S.CONFIRMED and succeeded_total(waiting) == D("25.00")


def test_an_offer_the_fund_cannot_cover_is_paid_at_full_price(now, fake_stripe):
    course = course_with_meetings(fee=D("25.00"), capacity=1, minimum=1)
    taken = RegistrationFactory(course=course)
    result = checkout_place(buyer=buyer(), attendees=[seat(course)], now=now, join_waitlist=True)
    registration_cancel(registration_id=taken.pk, now=now, actor_label="staff")

    short = scholarships_apply(order=result.order, now=now)

    assert [r.pk for r in short] == [result.registrations[0].pk]
    assert not Payment.objects.filter(provider=P.SCHOLARSHIP).exists()
    assert fake_stripe.pay(result.order, now=now).amount == D("25.00")


# --- the scholarship waitlist ---------------------------------------------------------------------

def join(course, first="Alex", email="jordan@example.org", now=None):
    return scholarship_wait_join(buyer=buyer(email), attendee=seat(course, first), now=now)




def test_joining_the_scholarship_waitlist_holds_nothing_and_sends_an_email(course, now):
    wait = join(course, now=now)  # a new patron: no order under the address yet

    assert (wait.status, wait.attendee_first_name, wait.email) == (W.WAITING, "Alex", "jordan@example.org")
    assert not Order.objects.exists() and not Registration.objects.exists() and not Payment.objects.exists()
    message = OutboxMessage.objects.get(template="scholarship_wait_joined")
    assert message.to == "jordan@example.org" and "Bread Baking" in message.body_text
    assert join(course, now=now).pk == wait.pk  # asking again: the same entry, one e-mail
    assert OutboxMessage.objects.filter(template="scholarship_wait_joined").count() == 1


def test_the_scholarship_waitlist_refuses_free_closed_and_already_registered(course, now):
    free = course_with_meetings(fee=ZERO)
    with pytest.raises(ScholarshipNotNeeded):
        join(free, now=now)
    RegistrationFactory(course=course, attendee_first_name="Alex", attendee_last_name="Reader",
                        order__email="jordan@example.org")
    with pytest.raises(ScholarshipError, match="already registered"):
        join(course, now=now)
    closed = course_with_meetings(first=now + dt.timedelta(days=3))
    with pytest.raises(EnrollmentError, match="closed on"):
        join(closed, now=now)
    assert not ScholarshipWait.objects.exists()


def test_a_waiting_request_stays_while_the_fund_is_short_and_is_offered_when_a_donation_arrives(course, now):
    wait = join(course, now=now)
    donate("12.49")

    assert scholarship_waits_offer(now=now) == []
    wait.refresh_from_db()
    assert wait.status == W.WAITING and not Registration.objects.exists()

    donate("0.01")
    (offered,) = scholarship_waits_offer(now=now)

    wait.refresh_from_db()
    assert offered.pk == wait.pk and wait.status == W.OFFERED and wait.order is not None
    (registration,) = wait.order.registrations.all()
    hours = EnrollmentOptions.current().offer_hours
    assert registration.status == S.HELD
    assert registration.expires_at == min(now + dt.timedelta(hours=hours), course.registration_closes_at)
    assert [p.amount for p in scholarship_payments(registration)] == [D("12.50")]
    assert fund_balance() == ZERO
    message = OutboxMessage.objects.get(template="scholarship_offer")
    assert message.to == "jordan@example.org"
    assert reverse("finance:pay-link", args=[wait.order.token]) in message.body_text
    assert "$12.50" in message.body_text
    assert scholarship_waits_offer(now=now) == []  # once


def test_the_offer_is_capped_at_the_cutoff(now):
    course = course_with_meetings(fee=D("25.00"), first=now + dt.timedelta(days=9))  # closes in under 48 h
    assert course.registration_closes_at < now + dt.timedelta(hours=EnrollmentOptions.current().offer_hours)
    join(course, now=now)
    donate("12.50")
    (wait,) = scholarship_waits_offer(now=now)
    assert wait.order.registrations.get().expires_at == course.registration_closes_at


def test_after_an_unpaid_offer_ran_out_the_patron_can_join_the_scholarship_waitlist_again(course, now):
    first = join(course, now=now)
    donate("12.50")
    scholarship_waits_offer(now=now)
    first.refresh_from_db()
    later = first.order.registrations.get().expires_at + dt.timedelta(minutes=1)
    holds_expire(now=later)
    fund_returns_sweep(now=later)

    again = join(course, now=later)

    first.refresh_from_db()
    assert again.pk != first.pk and again.status == W.WAITING
    assert first.status == W.CLOSED and "not paid" in first.closed_reason
    (offered,) = scholarship_waits_offer(now=later)
    assert offered.pk == again.pk


def test_while_the_offer_stands_joining_again_is_the_same_entry(course, now):
    first = join(course, now=now)
    donate("12.50")
    scholarship_waits_offer(now=now)
    assert join(course, now=now).pk == first.pk
    assert ScholarshipWait.objects.get().status == W.OFFERED


def test_the_oldest_request_is_served_first_and_nobody_jumps_the_line(now):
    dear = course_with_meetings(title="Dear", fee=D("25.00"))
    cheap = course_with_meetings(title="Cheap", fee=D("10.00"))
    first = join(dear, "Alex", now=now)
    second = join(cheap, "Sam", "sam@example.org", now=now)
    donate("10.00")  # enough for the second's half ($5), not the first's ($12.50)

    assert scholarship_waits_offer(now=now) == []
    assert set(ScholarshipWait.objects.values_list("status", flat=True)) == {W.WAITING}

    donate("7.50")
    assert [w.pk for w in scholarship_waits_offer(now=now)] == [first.pk, second.pk]
    assert fund_balance() == ZERO

    third = join(dear, "Kim", "kim@example.org", now=now)
    fourth = join(cheap, "Lee", "lee@example.org", now=now)
    donate("12.50")
    assert [w.pk for w in scholarship_waits_offer(now=now)] == [third.pk]
    fourth.refresh_from_db()
    assert fourth.status == W.WAITING


@pytest.mark.parametrize("how", ["cancelled", "full", "closed"])
def test_a_request_whose_class_closed_is_closed_and_the_next_one_is_served(now, how):
    course = course_with_meetings(title="Pottery", fee=D("25.00"), capacity=1, minimum=1,
                                  first=now + dt.timedelta(days=9))
    other = course_with_meetings(title="Bread", fee=D("25.00"))  # closes two weeks later
    gone = join(course, now=now)
    next_in_line = join(other, "Sam", "sam@example.org", now=now)
    donate("12.50")
    when = now
    if how == "cancelled":
        Course.objects.filter(pk=course.pk).update(status=Course.Status.CANCELLED)
    elif how == "full":
        RegistrationFactory(course=course)
    else:
        when = course.registration_closes_at + dt.timedelta(minutes=1)

    offered = scholarship_waits_offer(now=when)

    gone.refresh_from_db()
    assert gone.status == W.CLOSED and gone.closed_reason
    assert OutboxMessage.objects.filter(template="scholarship_wait_closed", to=gone.email).count() == 1
    assert not Registration.objects.filter(order__email=gone.email).exists()
    assert [w.pk for w in offered] == [next_in_line.pk]
    assert fund_balance() == ZERO


def test_an_unpaid_offer_runs_out_and_the_fund_goes_to_the_next_request(course, now, monkeypatch):
    first = join(course, "Alex", now=now)
    second = join(course, "Sam", "sam@example.org", now=now)
    donate("12.50")
    scholarship_waits_offer(now=now)
    first.refresh_from_db()
    held = first.order.registrations.get()
    later = held.expires_at + dt.timedelta(minutes=1)

    holds_expire(now=later)
    monkeypatch.setattr(timezone, "now", lambda: later)
    finance_tasks.fund_returns_sweep()  # the periodic task: return, then offer

    second.refresh_from_db()
    assert second.status == W.OFFERED
    assert fund_balance() == ZERO
    assert entries(K.AWARD_RETURNED) == D("12.50")


def test_an_offered_seat_is_paid_at_half_price(course, now, fake_stripe):
    join(course, now=now)
    donate("12.50")
    (wait,) = scholarship_waits_offer(now=now)
    card = fake_stripe.pay(wait.order, now=now)
    registration = wait.order.registrations.get()
    registration.refresh_from_db()
    assert card.amount == D("12.50")
    assert registration.status == S.CONFIRMED and succeeded_total(registration) == D("25.00")


# --- the checkout page ----------------------------------------------------------------------------

CHECKBOX = 'name="class{}-attendee0-scholarship"'


def test_the_checkbox_is_offered_for_paid_classes_only(client, course):
    free = course_with_meetings(title="Library Tour", fee=ZERO)
    add(client, course)
    add(client, free)
    body = client.get(CHECKOUT).content.decode()
    assert CHECKBOX.format(0) in body
    assert CHECKBOX.format(1) not in body
    assert "Ask for a Pass the Buck scholarship: pay half ($12.50)" in body


def test_no_checkbox_when_scholarships_are_not_offered_online(client, course):
    set_limit(0)
    add(client, course)
    assert CHECKBOX.format(0) not in client.get(CHECKOUT).content.decode()


def test_checking_out_with_a_scholarship_goes_to_the_pay_page_with_the_award_made(client, course):
    donate("20.00")
    add(client, course)
    response = place(client, filled(client, [("Alex", "Reader")], **{"class0-attendee0-scholarship": "on"}))

    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("finance:pay", args=[order.pk])
    registration = order.registrations.get()
    assert registration.status == S.HELD and registration.scholarship_requested
    assert [p.amount for p in scholarship_payments(registration)] == [D("12.50")]
    assert fund_balance() == D("7.50")
    confirmation = client.get(reverse("enrollment:order-confirmation", args=[order.pk])).content.decode()
    assert "half price with a Pass the Buck scholarship" in confirmation


def test_a_fund_short_checkout_shows_the_kind_panel_and_writes_nothing(client, course):
    donate("5.00")
    add(client, course)
    before = rows()
    response = place(client, filled(client, [("Alex", "Reader")], **{"class0-attendee0-scholarship": "on"}))

    assert response.status_code == 200
    body = response.content.decode()
    assert "can’t cover a scholarship for “Bread Baking” right now" in body
    assert 'name="action" value="full_price"' in body and "Register at full price" in body
    assert 'name="action" value="scholarship_wait"' in body and "Join the scholarship waitlist" in body
    assert response.context["checkout"].blocks[0].attendees[0].errors["scholarship"]
    assert rows() == before
    assert client.session["enrollment.cart"] == [course.pk]


def test_from_the_panel_register_at_full_price(client, course, fake_stripe):
    add(client, course)
    response = place(client, filled(client, [("Alex", "Reader")], **{"class0-attendee0-scholarship": "on"}))
    data = rendered_form(response) | {"action": "full_price", "class0-attendee0-scholarship": "on"}

    response = place(client, data)

    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("finance:pay", args=[order.pk])
    registration = order.registrations.get()
    assert registration.status == S.HELD and not registration.scholarship_requested
    assert not Payment.objects.filter(provider=P.SCHOLARSHIP).exists() and not FundEntry.objects.exists()
    assert registration_due(registration) == D("25.00")


def panel_join(client, course):
    add(client, course)
    response = place(client, filled(client, [("Alex", "Reader")], **{"class0-attendee0-scholarship": "on"}))
    assert "Join the scholarship waitlist" in response.content.decode()
    data = rendered_form(response) | {"action": "scholarship_wait", "class0-attendee0-scholarship": "on"}
    return place(client, data)


def test_from_the_panel_join_the_scholarship_waitlist(client, course):
    response = panel_join(client, course)

    assert response.status_code == 302
    wait = ScholarshipWait.objects.get()
    assert (wait.course_id, wait.attendee_first_name, wait.status) == (course.pk, "Alex", W.WAITING)
    assert not Order.objects.exists() and not Registration.objects.exists()
    assert OutboxMessage.objects.filter(template="scholarship_wait_joined").count() == 1
    assert "on the Pass the Buck scholarship waitlist" in " ".join(
        str(m) for m in client.get(response["Location"]).context["messages"])


def test_from_the_panel_the_others_in_the_order_are_placed_as_usual(client, course):
    add(client, course)
    response = place(client, filled(client, [("Alex", "Reader")], **{"class0-attendees": "2", "action": "update"}))
    data = rendered_form(response)
    data.update({"class0-attendee1-first_name": "Sam", "class0-attendee1-last_name": "Reader",
                 "class0-attendee1-relationship": "family", "class0-attendee0-scholarship": "on", "action": "place"})
    response = place(client, data)
    assert response.status_code == 200 and "Join the scholarship waitlist" in response.content.decode()

    response = place(client, rendered_form(response) | {"action": "scholarship_wait",
                                                        "class0-attendee0-scholarship": "on"})

    order = Order.objects.get()
    assert response["Location"] == reverse("finance:pay", args=[order.pk])
    assert list(order.registrations.values_list("attendee_first_name", "status")) == [("Sam", S.HELD)]
    assert ScholarshipWait.objects.get().attendee_first_name == "Alex"


# --- the patron's share and the fund's half never mix: late payments, staff refunds, cancellation
# messages, the balance due, transfers (each was a bug once; each test now pins the fix) ---------------

def net_paid(registration) -> Decimal:
    refunded = Refund.objects.filter(registration=registration).exclude(status=R.FAILED)
    return succeeded_total(registration) - (refunded.aggregate(s=Sum("amount"))["s"] or ZERO)


def test_a_late_payment_after_the_award_went_back_never_confirms_a_half_paid_seat(course, now, fake_stripe):
    donate("12.50")
    registration = checkout_place(buyer=buyer(), attendees=[seat(course)], now=now).registrations[0]
    payment, _ = payment_start(order=registration.order, now=now)  # the patron opened the pay page in time
    later = registration.expires_at + dt.timedelta(minutes=1)
    holds_expire(now=later)
    fund_returns_sweep(now=later)  # the award is back in the fund
    assert fund_balance() == D("12.50")

    fake_stripe.intents[payment.reference].status = "succeeded"
    payment_confirm(payment_intent_id=payment.reference, now=later)  # a seat was still free: confirmed late

    registration.refresh_from_db()
    # Not a half-paid confirmed seat: the seat stays lapsed, the late card payment goes back to
    # the card in full, and the fund keeps the half it got back.
    assert registration.status == S.EXPIRED
    card = Payment.objects.get(pk=payment.pk)
    assert card.status == Payment.Status.SUCCEEDED and card.amount == D("12.50")
    (refund,) = Refund.objects.filter(payment=card)
    assert refund.amount == D("12.50") and refund.status != R.FAILED
    assert net_paid(registration) == ZERO
    assert fund_balance() == D("12.50")


def test_a_staff_refund_never_pays_the_funds_half_to_the_patron(course, now, desk_user):
    from finance.services.staff import refund_create, refund_limits

    donate("12.50")
    registration = desk_register(buyer=buyer(), attendees=[seat(course)], provider=P.CASH, actor=desk_user,
                                 now=now).registrations[0]
    assert refund_limits(registration).available == D("12.50")  # the patron's half, never the fund's
    made = refund_create(registration=registration, amount=D("12.50"), reason="Goodwill", override_reason="Manager",
                         actor=desk_user, now=now)
    assert all(r.payment.provider != P.SCHOLARSHIP for r in made)


def test_the_cancellation_email_states_the_refund_the_patron_gets(course, now, desk_user):
    donate("12.50")
    registration = desk_register(buyer=buyer(), attendees=[seat(course)], provider=P.CASH, actor=desk_user,
                                 now=now).registrations[0]
    registration_cancel(registration_id=registration.pk, now=now)
    (refund,) = refunds_settle(registration_id=registration.pk, now=now)
    body = OutboxMessage.objects.get(template="registration_cancelled").body_text
    assert refund.amount == D("12.50")
    assert "$12.50" in body and "$25.00" not in body  # the patron's half, not the whole fee


def test_the_course_cancelled_email_and_call_script_state_the_refund_the_patron_gets(course, now, desk_user):
    from enrollment.models import CallListEntry

    donate("25.00")
    desk_register(buyer=buyer(), attendees=[seat(course)], provider=P.CASH, actor=desk_user, now=now)
    desk_register(buyer=buyer("", first="Pat"), attendees=[seat(course, "Pat")], provider=P.CASH, actor=desk_user,
                  now=now)
    decision = course_decide(course_id=course.pk, now=now, actor=desk_user, force="cancel", reason="Instructor ill")
    refunds_settle_for(decision.settle_ids, reason="x", now=now)  # finance tells them how the refund comes back
    body = OutboxMessage.objects.get(template="course_cancelled").body_text
    script = CallListEntry.objects.get().script
    assert "$12.50" in body and "$25.00" not in body
    # The call list is read by the front desk: the refund of a scholarship seat names no amount.
    assert "full refund of everything they paid" in script and "$12.50" not in script and "$25.00" not in script


def test_a_cancellation_after_the_cutoff_leaves_nothing_due(course, now, desk_user):
    donate("12.50")
    result = desk_register(buyer=buyer(), attendees=[seat(course)], provider=P.CASH, actor=desk_user, now=now)
    after = course.registration_closes_at + dt.timedelta(hours=1)
    registration_cancel(registration_id=result.registrations[0].pk, now=after, actor=desk_user, actor_label="desk")
    assert refunds_settle(registration_id=result.registrations[0].pk, now=after) == []  # no refund: past the cutoff
    assert order_balance(result.order).due == ZERO  # not the fund's $12.50 "due"


def test_a_transferred_scholarship_seat_cancelled_before_the_cutoff_returns_its_award(course, now, desk_user):
    from enrollment.services import registration_transfer
    from finance.services.staff import transfer_settle

    other = course_with_meetings(title="Pottery", fee=D("25.00"))
    donate("12.50")
    result = desk_register(buyer=buyer(), attendees=[seat(course)], provider=P.CASH, actor=desk_user, now=now)
    old, new = registration_transfer(registration_id=result.registrations[0].pk, to_course_id=other.pk, now=now,
                                     actor=desk_user)
    transfer_settle(old=old, new=new, now=now)

    registration_cancel(registration_id=new.pk, now=now)
    refunds_settle(registration_id=new.pk, now=now)  # the patron gets their $12.50 back
    assert fund_balance() == D("12.50")  # the award moved with the seat and came back from where it was
    assert order_balance(result.order).due == ZERO
    assert Registration.objects.get(pk=new.pk).patron_price == D("12.50")
    assert FundEntry.objects.filter(kind=FundEntry.Kind.AWARD_RETURNED).count() == 1
    finance_tasks.fund_returns_sweep()  # the sweep books nothing more
    assert FundEntry.objects.filter(kind=FundEntry.Kind.AWARD_RETURNED).count() == 1


def test_a_transferred_scholarship_seat_keeps_its_award_when_the_old_class_is_cancelled(course, now, desk_user):
    from enrollment.services import registration_transfer
    from finance.services.fund import fund_returns_sweep
    from finance.services.staff import transfer_settle

    other = course_with_meetings(title="Pottery", fee=D("20.00"))
    donate("12.50")
    result = desk_register(buyer=buyer(), attendees=[seat(course)], provider=P.CASH, actor=desk_user, now=now)
    old, new = registration_transfer(registration_id=result.registrations[0].pk, to_course_id=other.pk, now=now,
                                     actor=desk_user)
    refunds = transfer_settle(old=old, new=new, now=now)
    # The patron paid $12.50 of a $25 seat; the new seat costs $20, of which the fund's $12.50 is
    # paid: the patron's share is $7.50, so $5.00 comes back to them.
    assert [r.amount for r in refunds] == [D("5.00")]
    course_decide(course_id=course.pk, now=now, actor=desk_user, force="cancel", reason="Instructor ill")
    assert fund_returns_sweep(now=now) == []  # the seat moved: its award is still in use
    assert fund_balance() == ZERO
    assert order_balance(result.order).due == ZERO


def test_a_patron_retrying_right_after_their_hold_ran_out_finds_the_award_again(course, now):
    """The fund holds one half-fee; the patron's first hold (with its award) runs out unpaid. A
    retry at once — before any periodic sweep — returns that award under the course's lock and
    awards it again, instead of telling them the fund is short."""
    donate("12.50")
    first = checkout_place(buyer=buyer(), attendees=[seat(course)], now=now)
    assert fund_balance() == D("0.00")
    later = now + dt.timedelta(minutes=16)
    again = checkout_place(buyer=buyer(), attendees=[seat(course)], now=later)
    assert first.registrations[0].pk != again.registrations[0].pk
    assert Registration.objects.get(pk=first.registrations[0].pk).status == Registration.Status.EXPIRED
    assert FundEntry.objects.filter(kind=FundEntry.Kind.AWARD_RETURNED).count() == 1
    assert FundEntry.objects.filter(kind=FundEntry.Kind.AWARD).count() == 2
    assert fund_balance() == D("0.00")


# --- found in review --------------------------------------------------------------------------------

def test_pressing_enter_on_the_fund_short_page_still_places_the_order_as_asked(client, course):
    """The first submit button of the form is what Enter presses: it must be "place", never the
    panel's "Register at full price" (which would silently drop the scholarship request)."""
    import re

    donate("5.00")
    add(client, course)
    body = place(client, filled(client, [("Alex", "Reader")], **{"class0-attendee0-scholarship": "on"})).content.decode()
    form = body[body.index('class="checkout-form"'):]
    first = re.search(r'<button type="submit" name="action" value="([a-z_]+)"', form).group(1)
    assert first == "place"


def test_an_offered_seat_whose_full_price_payment_was_started_gets_no_award_later(now, fake_stripe):
    """The pay page opened while the fund was short (a full-price payment started); a donation
    arrives and the page is opened again: no award now, or the patron could pay 150%."""
    course = course_with_meetings(fee=D("25.00"), capacity=1, minimum=1)
    taken = RegistrationFactory(course=course)
    result = checkout_place(buyer=buyer(), attendees=[seat(course)], now=now, join_waitlist=True)
    registration_cancel(registration_id=taken.pk, now=now, actor_label="staff")
    assert [r.short_reason for r in scholarships_apply(order=result.order, now=now)] == ["fund"]
    started, _secret = payment_start(order=result.order, now=now)
    assert started.amount == D("25.00")
    donate("12.50")
    assert [r.short_reason for r in scholarships_apply(order=result.order, now=now)] == ["started"]
    assert not Payment.objects.filter(provider=P.SCHOLARSHIP).exists() and fund_balance() == D("12.50")


def test_the_semester_limit_also_holds_for_a_seat_offered_from_the_waitlist(now, fake_stripe):
    semester = SemesterFactory()
    full = course_with_meetings(fee=D("25.00"), capacity=1, minimum=1, semester=semester)
    taken = RegistrationFactory(course=full)
    donate("100.00")
    waiting = checkout_place(buyer=buyer(), attendees=[seat(full)], now=now, join_waitlist=True)
    for title in ("Pottery", "Knitting"):  # two scholarships in other classes meanwhile: the limit
        other = course_with_meetings(title=title, fee=D("25.00"), semester=semester)
        checkout_place(buyer=buyer(), attendees=[seat(other)], now=now)
    registration_cancel(registration_id=taken.pk, now=now, actor_label="staff")
    assert [r.short_reason for r in scholarships_apply(order=waiting.order, now=now)] == ["limit"]
    assert Payment.objects.filter(provider=P.SCHOLARSHIP).count() == 2


def test_a_gift_paid_twice_is_given_once_and_the_second_refunded(now, fake_stripe):
    """Two tabs, two cards: both payments carried the gift; the fund books one donation and the
    second payment's gift goes back to the card with its duplicate seat share."""
    course = course_with_meetings(fee=D("25.00"))
    placed = checkout_place(buyer=BuyerInput(first_name="Jordan", last_name="Patron", email="jordan@example.org",
                                             gift_amount=D("10.00")),
                            attendees=[seat(course, scholarship=False)], now=now)
    first, _ = payment_start(order=placed.order, now=now)
    fake_stripe.intents[first.reference].status = "succeeded"
    # The second tab: the first payment is not confirmed yet, so it starts another one for the same.
    first.status = Payment.Status.FAILED
    first.save(update_fields=["status"])
    second, _ = payment_start(order=placed.order, now=now)
    Payment.objects.filter(pk=first.pk).update(status=Payment.Status.PENDING)
    fake_stripe.intents[second.reference].status = "succeeded"
    payment_confirm(payment_intent_id=first.reference, now=now)
    payment_confirm(payment_intent_id=second.reference, now=now)

    assert Donation.objects.count() == 1 and fund_balance() == D("10.00")
    refunds = {r.dedupe_key.split(":")[0]: r.amount for r in Refund.objects.filter(payment_id=second.pk)}
    assert refunds == {"duplicate": D("25.00"), "duplicate-gift": D("10.00")}
