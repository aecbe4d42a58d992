"""Pass the Buck's ledger: the balance is the sum of append-only entries, awards never overspend,
cancelled registrations and courses give their award back once, and bad input writes nothing."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.urls import reverse

from classes.models import Course
from enrollment.models import Registration
from finance.models import Fund, FundEntry, ImmutableEntry
from finance.services.fund import (
    FundError,
    FundInsufficient,
    FundInvalidAmount,
    FundNotReturnable,
    fund_adjust,
    fund_award,
    fund_award_return,
    fund_balance,
    fund_donation_record,
    fund_returns_sweep,
)
from tests.factories import FundEntryFactory, PaymentFactory, RegistrationFactory

pytestmark = pytest.mark.django_db

K = FundEntry.Kind
HALF = Decimal("12.50")


@pytest.fixture
def coordinator():
    return User.objects.create_user("coord", "coord@example.org", "a-long-passw0rd", is_staff=True)


def donate(amount: str, key: str) -> FundEntry:
    return fund_donation_record(amount=Decimal(amount), dedupe_key=key)


def test_the_balance_is_the_sum_of_every_entry_after_each_step(coordinator):
    assert fund_balance() == Decimal("0.00")
    expected = Decimal("0.00")

    def step(delta: str) -> None:
        nonlocal expected
        expected += Decimal(delta)
        assert fund_balance() == expected
        total = sum(FundEntry.objects.values_list("amount", flat=True), Decimal("0.00"))
        assert total == expected

    payment = PaymentFactory(amount=Decimal("60.00"))
    entry = fund_donation_record(amount=Decimal("35.00"), payment=payment, dedupe_key=f"donation:{payment.pk}")
    assert (entry.kind, entry.amount, entry.payment) == (K.DONATION, Decimal("35.00"), payment)
    step("35.00")
    donate("10.00", "donation:desk-1")
    step("10.00")

    first, second, third = RegistrationFactory.create_batch(3)
    award = fund_award(registration=first, amount=HALF, by=coordinator)
    assert (award.kind, award.amount, award.registration, award.created_by) == (K.AWARD, -HALF, first, coordinator)
    step("-12.50")
    fund_award(registration=second, amount=HALF)
    step("-12.50")
    fund_award(registration=third, amount=Decimal("20.00"))
    step("-20.00")
    assert fund_balance() == Decimal("0.00")
    with pytest.raises(FundInsufficient):
        fund_award(registration=RegistrationFactory(), amount=Decimal("0.01"))
    step("0")

    # the patron cancels: the award goes back
    Registration.objects.filter(pk=first.pk).update(status=Registration.Status.CANCELLED)
    back = fund_award_return(registration=first, by=coordinator)
    assert (back.kind, back.amount, back.registration) == (K.AWARD_RETURNED, HALF, first)
    assert back.reason == "The registration was cancelled."
    step("12.50")

    # the course is cancelled: the sweep returns the award
    Course.objects.filter(pk=second.course_id).update(status=Course.Status.CANCELLED)
    swept = fund_returns_sweep()
    assert [(e.registration_id, e.amount) for e in swept] == [(second.pk, HALF)]
    assert swept[0].reason == "The course was cancelled."
    step("12.50")
    assert fund_returns_sweep() == []
    step("0")

    adjusted = fund_adjust(amount=Decimal("-5.00"), reason="Bank fee on a donated check", by=coordinator)
    assert (adjusted.kind, adjusted.created_by, adjusted.reason) == (K.ADJUSTMENT, coordinator,
                                                                     "Bank fee on a donated check")
    step("-5.00")
    fund_adjust(amount=Decimal("2.25"), reason="Correction", by=coordinator)
    step("2.25")
    assert fund_balance() == Decimal("22.25")
    assert sorted(FundEntry.objects.values_list("kind", flat=True)) == sorted(
        [K.DONATION] * 2 + [K.AWARD] * 3 + [K.AWARD_RETURNED] * 2 + [K.ADJUSTMENT] * 2
    )


def test_the_sweep_returns_patron_cancellations_and_leaves_live_awards():
    donate("100.00", "donation:1")
    live, cancelled = RegistrationFactory.create_batch(2)
    fund_award(registration=live, amount=HALF)
    fund_award(registration=cancelled, amount=HALF)
    Registration.objects.filter(pk=cancelled.pk).update(status=Registration.Status.CANCELLED)
    assert [e.registration_id for e in fund_returns_sweep()] == [cancelled.pk]
    assert fund_returns_sweep() == []
    assert fund_balance() == Decimal("87.50")


def test_an_award_is_booked_once_per_registration_and_a_return_once():
    donate("50.00", "donation:1")
    registration = RegistrationFactory()
    first = fund_award(registration=registration, amount=HALF)
    again = fund_award(registration=registration, amount=HALF)
    assert again.pk == first.pk
    assert FundEntry.objects.filter(kind=K.AWARD).count() == 1
    Registration.objects.filter(pk=registration.pk).update(status=Registration.Status.CANCELLED)
    back = fund_award_return(registration=registration)
    assert fund_award_return(registration=registration).pk == back.pk
    assert fund_returns_sweep() == []
    assert FundEntry.objects.filter(kind=K.AWARD_RETURNED).count() == 1
    assert fund_balance() == Decimal("50.00")


def test_a_donation_is_booked_once_per_cause():
    first = donate("20.00", "donation:7")
    assert donate("20.00", "donation:7").pk == first.pk
    assert fund_balance() == Decimal("20.00")


def test_returning_without_an_award_or_for_a_live_registration():
    cancelled = RegistrationFactory(status=Registration.Status.CANCELLED)
    assert fund_award_return(registration=cancelled) is None
    donate("50.00", "donation:1")
    live = RegistrationFactory()
    fund_award(registration=live, amount=HALF)
    with pytest.raises(FundNotReturnable):
        fund_award_return(registration=live)
    assert FundEntry.objects.filter(kind=K.AWARD_RETURNED).count() == 0


def test_no_award_for_a_registration_that_is_no_longer_active():
    donate("50.00", "donation:1")
    with pytest.raises(FundError):
        fund_award(registration=RegistrationFactory(status=Registration.Status.CANCELLED), amount=HALF)
    assert FundEntry.objects.count() == 1


@pytest.mark.parametrize("amount", [
    Decimal("0"), Decimal("0.00"), Decimal("-12.50"), Decimal("12.505"), Decimal("NaN"), Decimal("Infinity"),
    Decimal("100000000.00"), Decimal("1E+40"), 12.5, 12, "12.50", None,
], ids=repr)
def test_bad_amounts_are_refused_and_nothing_is_written(amount, coordinator):
    donate("50.00", "donation:seed")
    registration = RegistrationFactory()
    for call in (
        lambda: fund_donation_record(amount=amount, dedupe_key="donation:bad"),
        lambda: fund_award(registration=registration, amount=amount),
    ):
        with pytest.raises(FundInvalidAmount) as excinfo:
            call()
        assert excinfo.value.message
    if not (isinstance(amount, Decimal) and amount.is_finite() and amount < 0 and amount == amount.quantize(
            Decimal("0.01"))):
        with pytest.raises(FundInvalidAmount):
            fund_adjust(amount=amount, reason="Correction", by=coordinator)
    assert FundEntry.objects.count() == 1
    assert fund_balance() == Decimal("50.00")


def test_an_adjustment_needs_a_reason_and_cannot_take_the_balance_below_zero(coordinator):
    donate("10.00", "donation:1")
    for reason in ("", "   ", None):
        with pytest.raises(FundError, match="reason"):
            fund_adjust(amount=Decimal("1.00"), reason=reason, by=coordinator)
    with pytest.raises(FundInsufficient):
        fund_adjust(amount=Decimal("-10.01"), reason="Too much", by=coordinator)
    assert FundEntry.objects.count() == 1
    fund_adjust(amount=Decimal("-10.00"), reason="Returned to the donor", by=coordinator)
    assert fund_balance() == Decimal("0.00")


def test_an_award_beyond_the_balance_is_refused_and_nothing_is_written():
    donate("12.49", "donation:1")
    registration = RegistrationFactory()
    with pytest.raises(FundInsufficient, match=r"\$12\.49 left"):
        fund_award(registration=registration, amount=HALF)
    assert not FundEntry.objects.filter(kind=K.AWARD).exists()
    assert fund_balance() == Decimal("12.49")


def test_entries_cannot_be_edited_or_deleted():
    entry = donate("25.00", "donation:1")
    entry.amount = Decimal("2500.00")
    with pytest.raises(ImmutableEntry):
        entry.save()
    with pytest.raises(ImmutableEntry):
        entry.delete()
    with pytest.raises(ImmutableEntry):
        FundEntry.objects.filter(pk=entry.pk).update(amount=Decimal("1.00"))
    with pytest.raises(ImmutableEntry):
        FundEntry.objects.all().delete()
    assert FundEntry.objects.get().amount == Decimal("25.00")


@pytest.mark.parametrize(("kind", "amount", "reason"), [
    (K.DONATION, "-5.00", ""), (K.AWARD, "5.00", ""), (K.AWARD_RETURNED, "-5.00", ""),
    (K.ADJUSTMENT, "0.00", "Nothing"), (K.ADJUSTMENT, "5.00", ""),
])
def test_the_database_ties_the_sign_to_the_kind(kind, amount, reason):
    registration = RegistrationFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        FundEntry.objects.create(fund=Fund.current(), kind=kind, amount=Decimal(amount), reason=reason,
                                 registration=registration, dedupe_key="raw")


def test_the_admin_shows_the_ledger_but_cannot_add_change_or_delete(staff_client):
    entry = FundEntryFactory(amount=Decimal("40.00"))
    fund = entry.fund
    response = staff_client.get(reverse("admin:finance_fund_changelist"))
    assert response.status_code == 200 and b"$40.00" in response.content
    assert staff_client.get(reverse("admin:finance_fundentry_changelist")).status_code == 200
    change = reverse("admin:finance_fundentry_change", args=[entry.pk])
    response = staff_client.get(change)
    assert response.status_code == 200
    assert not response.context["adminform"].form.fields  # every field read-only
    staff_client.post(change, {"amount": "4000.00", "kind": "donation", "reason": "x"})
    assert staff_client.get(reverse("admin:finance_fundentry_add")).status_code == 403
    response = staff_client.post(reverse("admin:finance_fundentry_delete", args=[entry.pk]), {"post": "yes"})
    assert response.status_code == 403
    response = staff_client.post(reverse("admin:finance_fundentry_changelist"),
                                 {"action": "delete_selected", "_selected_action": [str(entry.pk)], "post": "yes"})
    assert response.status_code in (200, 302)
    response = staff_client.post(reverse("admin:finance_fund_delete", args=[fund.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert FundEntry.objects.get().amount == Decimal("40.00")
    assert Fund.objects.count() == 1
