"""Pass the Buck's share of a seat is a fact the registration stores (``fund_paid``,
``fund_returned``; ``patron_price`` = price − fund_paid), written by finance's fund services in the
transaction that books the award or its return (``enrollment.services.fund_share``), carried by a
transfer, and backfilled from the ledger by enrollment's migration 0009 exactly as the properties
it replaced read it (over the entries of the registration and of those it was transferred from)."""

import datetime as dt
import importlib
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from core.models import SiteOptions
from enrollment.models import Registration, RegistrationEvent
from enrollment.services import (
    AttendeeInput,
    BuyerInput,
    holds_expire,
    registration_cancel,
    registration_transfer,
)
from enrollment.services.fund_share import registration_fund_share_set
from finance.models import FundEntry
from finance.services import refunds_settle
from finance.services.checkout import checkout_place
from finance.services.fund import fund_award, fund_award_return, fund_donation_record, fund_returns_sweep
from finance.services.offline import desk_register
from finance.services.staff import transfer_settle
from tests.factories import FundEntryFactory, RegistrationFactory, course_with_meetings

S = Registration.Status
K = FundEntry.Kind
D = Decimal
ZERO = D("0.00")
HALF = D("12.50")

migration = importlib.import_module("enrollment.migrations.0009_registration_fund_share")


def old_share(registration: Registration) -> tuple[Decimal, Decimal]:
    """(fund_paid, fund_returned) as ``Registration.fund_paid`` / ``fund_returned`` read them
    before they were stored: the fund entries of the registration and of the registrations it
    was transferred from, each once; paid = −Σ of the negative ones, returned = Σ of the positive."""
    entries, seen, source = [], set(), registration
    while source is not None and source.pk is not None and source.pk not in seen:
        seen.add(source.pk)
        entries += list(source.fund_entries.all())
        source = source.transferred_from
    paid = -sum((e.amount for e in entries if e.amount < 0), ZERO)
    returned = sum((e.amount for e in entries if e.amount > 0), ZERO)
    return paid, returned


def stored(registration: Registration) -> tuple[Decimal, Decimal]:
    return tuple(Registration.objects.values_list("fund_paid", "fund_returned").get(pk=registration.pk))


def buyer() -> BuyerInput:
    return BuyerInput(first_name="Jordan", last_name="Patron", email="jordan@example.org", phone="785-555-0100")


def seat(course, *, scholarship: bool = True) -> AttendeeInput:
    return AttendeeInput(course_id=course.pk, first_name="Alex", last_name="Reader", scholarship=scholarship)


def donate(amount: str, key: str = "test") -> None:
    fund_donation_record(amount=D(amount), dedupe_key=f"donation:{key}")


@pytest.fixture
def desk_user(django_user_model):
    return django_user_model.objects.create_user("desk", "desk@library.example", "a-long-passw0rd", is_staff=True)


@pytest.fixture
def courses(db):
    SiteOptions.current()
    return [course_with_meetings(title=title, fee=D("25.00"), capacity=5, minimum=1)
            for title in ("Bread Baking", "Pottery", "Knife Skills")]


def scholarship_chain(courses, desk_user, *, now) -> list[Registration]:
    """A scholarship seat registered at the desk (its award made), transferred twice: the three
    registrations of the seat, first to last."""
    donate("12.50")
    result = desk_register(buyer=buyer(), attendees=[seat(courses[0])], provider="cash", actor=desk_user, now=now)
    chain = [result.registrations[0]]
    for course in courses[1:]:
        old, new = registration_transfer(registration_id=chain[-1].pk, to_course_id=course.pk, now=now,
                                         actor=desk_user)
        transfer_settle(old=old, new=new, now=now)
        chain.append(new)
    return chain


# --- the writers ------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_an_award_stores_the_funds_share_on_the_registration(courses):
    now = timezone.now()
    donate("12.50")
    (registration,) = checkout_place(buyer=buyer(), attendees=[seat(courses[0])], now=now).registrations
    # The instance the checkout holds (its confirmation e-mail reads it) and the row both show it.
    assert (registration.fund_paid, registration.fund_returned, registration.patron_price) == (HALF, ZERO, HALF)
    assert stored(registration) == (HALF, ZERO) == old_share(registration)


@pytest.mark.django_db
def test_an_award_made_again_changes_nothing_and_writes_no_audit_row(courses):
    donate("20.00")
    registration = RegistrationFactory(course=courses[0], status=S.HELD, price=D("25.00"),
                                       expires_at=timezone.now() + dt.timedelta(minutes=15))
    updated_at, events = registration.updated_at, RegistrationEvent.objects.count()
    fund_award(registration=registration, amount=D("5.00"))
    fund_award(registration=registration, amount=D("5.00"))  # a repeat returns the award already made
    registration.refresh_from_db()
    assert (registration.fund_paid, registration.patron_price) == (D("5.00"), D("20.00"))
    assert registration.updated_at == updated_at and RegistrationEvent.objects.count() == events


@pytest.mark.django_db
def test_a_return_stores_what_went_back_and_keeps_what_was_paid(courses):
    now = timezone.now()
    donate("12.50")
    (registration,) = checkout_place(buyer=buyer(), attendees=[seat(courses[0])],
                                     now=now - dt.timedelta(minutes=20)).registrations
    assert holds_expire(now=now) == 1
    fund_award_return(registration=registration, now=now)  # the caller's (stale) instance is updated too
    assert (registration.fund_paid, registration.fund_returned) == (HALF, HALF)
    assert stored(registration) == (HALF, HALF) == old_share(registration)
    assert Registration.objects.get(pk=registration.pk).patron_price == HALF  # what the patron's share was


@pytest.mark.django_db
def test_a_transfer_carries_the_award_and_its_return_shows_on_every_registration_of_the_seat(courses, desk_user):
    now = timezone.now()
    chain = scholarship_chain(courses, desk_user, now=now)
    assert [stored(r) for r in chain] == [(HALF, ZERO)] * 3 == [old_share(r) for r in chain]
    assert Registration.objects.get(pk=chain[-1].pk).patron_price == HALF

    registration_cancel(registration_id=chain[-1].pk, now=now)
    refunds_settle(registration_id=chain[-1].pk, now=now)  # the award goes back from where the seat is now
    assert FundEntry.objects.get(kind=K.AWARD_RETURNED).registration_id == chain[0].pk
    assert [stored(r) for r in chain] == [(HALF, HALF)] * 3 == [old_share(r) for r in chain]
    assert fund_returns_sweep(now=now) == [] and [stored(r) for r in chain] == [(HALF, HALF)] * 3


@pytest.mark.django_db
def test_the_database_refuses_a_negative_share(courses):
    registration = RegistrationFactory(course=courses[0])
    for field in ("fund_paid", "fund_returned"):
        with pytest.raises(IntegrityError), transaction.atomic():
            Registration.objects.filter(pk=registration.pk).update(**{field: D("-0.01")})
    with pytest.raises(ValueError):
        registration_fund_share_set(registration=registration, paid=D("-1.00"))


@pytest.mark.django_db
def test_the_factory_keeps_an_award_built_by_hand_on_its_registration(courses):
    registration = RegistrationFactory(course=courses[0], price=D("25.00"))
    FundEntryFactory(kind=K.AWARD, amount=-HALF, registration=registration, dedupe_key=f"award:{registration.pk}")
    assert (registration.fund_paid, registration.patron_price) == (HALF, HALF) and stored(registration) == (HALF, ZERO)


# --- the backfill -----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_backfill_reproduces_the_old_properties_on_a_transferred_chain_with_an_award_and_a_return(
        courses, desk_user):
    now = timezone.now()
    chain = scholarship_chain(courses, desk_user, now=now)
    registration_cancel(registration_id=chain[-1].pk, now=now)
    refunds_settle(registration_id=chain[-1].pk, now=now)
    # Entries of other kinds booked for a registration count by their sign, as they did.
    FundEntryFactory(kind=K.ADJUSTMENT, amount=D("1.00"), reason="Correction", registration=chain[1])
    donate("5.00", key="other")
    other = RegistrationFactory(course=courses[0], status=S.HELD, price=D("10.00"),
                                expires_at=now + dt.timedelta(minutes=15))
    fund_award(registration=other, amount=D("5.00"))
    untouched = RegistrationFactory(course=courses[1])
    everyone = [*chain, other, untouched]
    before = {r.pk: old_share(r) for r in everyone}
    assert before[chain[0].pk] == (HALF, HALF) and before[chain[1].pk] == (HALF, D("13.50"))
    assert before[chain[2].pk] == (HALF, D("13.50")) and before[untouched.pk] == (ZERO, ZERO)

    Registration.objects.update(fund_paid=ZERO, fund_returned=ZERO)  # as the migration finds the rows
    Registration.objects.filter(pk=untouched.pk).update(fund_paid=D("3.00"))  # and a wrong one is put right
    assert migration.backfill(django_apps) == 5
    assert {r.pk: stored(r) for r in everyone} == before
    assert migration.backfill(django_apps) == 0  # nothing more to write


@pytest.mark.django_db(transaction=True)
def test_migrating_a_database_from_before_the_stored_share_fills_it_in(courses, desk_user):
    """Migrate back to enrollment 0008 (the columns go), then forward: the data step fills them."""
    now = timezone.now()
    chain = scholarship_chain(courses, desk_user, now=now)
    registration_cancel(registration_id=chain[-1].pk, now=now)
    refunds_settle(registration_id=chain[-1].pk, now=now)
    before = {r.pk: old_share(r) for r in chain}

    executor = MigrationExecutor(connection)
    executor.migrate([("enrollment", "0008_call_about_a_change")])
    with connection.cursor() as cursor:
        columns = {c.name for c in connection.introspection.get_table_description(cursor, "enrollment_registration")}
    assert "fund_paid" not in columns and "fund_returned" not in columns
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert {r.pk: stored(r) for r in chain} == before == {r.pk: (HALF, HALF) for r in chain}
