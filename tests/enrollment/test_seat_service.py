"""The seat service (``enrollment.services``): holds, free seats, the waitlist and its offers,
expiry, cancellation, the audit trail and the table of allowed status changes."""

import copy
import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import OutboxMessage
from enrollment.models import TRANSITIONS, EnrollmentOptions, Order, ReferralSource, Registration, RegistrationEvent
from enrollment.selectors import refund_due, waitlist_position
from enrollment.services import (
    AgeOutOfRange,
    AlreadyRegistered,
    AttendeeInput,
    BuyerInput,
    CourseFull,
    CourseNotOpen,
    InvalidTransition,
    RegistrationClosed,
    holds_expire,
    order_place,
    registration_cancel,
    registrations_confirm_paid,
)
from enrollment.services.seats import registration_transition as _transition
from enrollment.services.seats import seats_taken
from tests.factories import RegistrationFactory, course_with_meetings, local_dt, today

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("email_templates")]

S = Registration.Status
EMAIL_TEMPLATES = ["registration_confirmed", "waitlist_joined", "waitlist_offer", "waitlist_offer_expired",
                   "registration_cancelled", "manage_link"]


@pytest.fixture
def email_templates(settings, tmp_path_factory):
    """Plain stand-ins for the e-mail templates the seat service renders into the outbox, so these
    tests do not depend on their wording. They come after the project's own templates, which win
    whenever they exist. (Imported by the other enrollment test modules.)"""
    folder = tmp_path_factory.getbasetemp() / "email-template-stand-ins"
    if not folder.exists():
        (folder / "emails").mkdir(parents=True)
        for name in EMAIL_TEMPLATES:
            (folder / "emails" / f"{name}.subject.txt").write_text(name)
            (folder / "emails" / f"{name}.txt").write_text(f"{name}\n")
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [*templates[0]["DIRS"], folder]
    settings.TEMPLATES = templates


@pytest.fixture
def now():
    return timezone.now()


def buyer(email: str = "jordan@example.org") -> BuyerInput:
    return BuyerInput(first_name="Jordan", last_name="Buyer", email=email, phone="785-555-0100",
                      referral_id=ReferralSource.objects.order_by("pk").first().pk)


def attendee(course, first: str = "Alex", last: str = "Reader", **kwargs) -> AttendeeInput:
    return AttendeeInput(course_id=course.pk, first_name=first, last_name=last, **kwargs)


def counts() -> tuple[int, int, int]:
    return Order.objects.count(), Registration.objects.count(), RegistrationEvent.objects.count()


def trail(registration) -> list[tuple[str, str]]:
    return list(registration.events.values_list("from_status", "to_status"))


# --- holds and free seats -------------------------------------------------------------------

def test_a_paid_class_holds_the_seats_for_the_hold_time(now):
    EnrollmentOptions.objects.update_or_create(pk=EnrollmentOptions.current().pk, defaults={"hold_minutes": 20})
    course = course_with_meetings(fee=Decimal("25.00"))

    result = order_place(buyer=buyer(), attendees=[attendee(course), attendee(course, "Sam", "Reader")], now=now)

    assert [r.status for r in result.held] == [S.HELD, S.HELD]
    assert all(r.expires_at == now + dt.timedelta(minutes=20) for r in result.held)
    assert all(r.price == Decimal("25.00") for r in result.held)
    assert result.amount_due == Decimal("50.00")
    assert result.confirmed == [] and result.waitlisted == []
    assert seats_taken(course.pk, now=now) == 2
    order = result.order
    assert (order.first_name, order.email, order.channel) == ("Jordan", "jordan@example.org", Order.Channel.ONLINE)
    assert order.referral is not None
    event = result.held[0].events.get()
    assert (event.from_status, event.to_status, event.actor_label, event.at) == ("", S.HELD, "patron", now)


def test_a_free_class_is_confirmed_at_once_and_the_confirmation_is_queued(now):
    course = course_with_meetings(fee=Decimal("0.00"))

    result = order_place(buyer=buyer(), attendees=[attendee(course)], now=now)

    (registration,) = result.confirmed
    assert registration.status == S.CONFIRMED
    assert registration.confirmed_at == now
    assert registration.expires_at is None
    assert result.amount_due == Decimal("0.00")
    assert trail(registration) == [("", S.CONFIRMED)]
    assert OutboxMessage.objects.filter(template="registration_confirmed", to="jordan@example.org").count() == 1


def test_the_price_is_fixed_when_the_seat_is_taken(now):
    course = course_with_meetings(fee=Decimal("25.00"))
    result = order_place(buyer=buyer(), attendees=[attendee(course)], now=now)
    course.fee = Decimal("40.00")
    course.save()
    result.held[0].refresh_from_db()
    assert result.held[0].price == Decimal("25.00")


# --- full classes and the waitlist ----------------------------------------------------------

def test_a_full_class_is_refused_unless_the_patron_joins_the_waitlist(now):
    course = course_with_meetings(capacity=2, minimum=1)
    RegistrationFactory.create_batch(2, course=course)
    before = counts()

    with pytest.raises(CourseFull) as caught:
        order_place(buyer=buyer(), attendees=[attendee(course)], now=now)
    assert caught.value.index == 0
    assert "is full" in caught.value.message
    assert counts() == before

    first = order_place(buyer=buyer(), attendees=[attendee(course)], join_waitlist=True, now=now)
    second = order_place(buyer=buyer("sam@example.org"), attendees=[attendee(course, "Sam")], join_waitlist=True,
                         now=now + dt.timedelta(seconds=1))
    (waiting,) = first.waitlisted
    assert waiting.status == S.WAITLISTED and waiting.expires_at is None
    assert first.amount_due == Decimal("0.00")
    assert waitlist_position(waiting) == 1
    assert waitlist_position(second.waitlisted[0]) == 2
    assert trail(waiting) == [("", S.WAITLISTED)]
    assert OutboxMessage.objects.filter(template="waitlist_joined").count() == 2


def test_a_second_attendee_goes_to_the_waitlist_when_only_one_seat_is_left(now):
    course = course_with_meetings(capacity=2, minimum=1)
    RegistrationFactory(course=course)

    result = order_place(buyer=buyer(), attendees=[attendee(course), attendee(course, "Sam")], join_waitlist=True,
                         now=now)

    assert [r.attendee_first_name for r in result.held] == ["Alex"]
    assert [r.attendee_first_name for r in result.waitlisted] == ["Sam"]
    assert result.amount_due == course.fee


def test_unexpired_holds_take_seats_and_expired_ones_do_not(now):
    course = course_with_meetings(capacity=1, minimum=1)
    other = RegistrationFactory(course=course, status=S.HELD, expires_at=now + dt.timedelta(minutes=5))

    with pytest.raises(CourseFull):
        order_place(buyer=buyer(), attendees=[attendee(course)], now=now)

    Registration.objects.filter(pk=other.pk).update(expires_at=now - dt.timedelta(seconds=1))
    result = order_place(buyer=buyer(), attendees=[attendee(course)], now=now)
    assert len(result.held) == 1


# --- ages, duplicates, closed classes: refused, nothing written ------------------------------

@pytest.mark.parametrize("audience", ["kids", "teens"])
@pytest.mark.parametrize(("age", "accepted"), [(None, False), (7, False), (8, True), (12, True), (13, False)])
def test_the_age_is_checked_for_kids_and_teen_classes(now, audience, age, accepted):
    course = course_with_meetings(audience=audience, age_min=8, age_max=12)
    before = counts()
    if accepted:
        result = order_place(buyer=buyer(), attendees=[attendee(course, age=age)], now=now)
        assert result.held[0].attendee_age == age
        return
    with pytest.raises(AgeOutOfRange) as caught:
        order_place(buyer=buyer(), attendees=[attendee(course, age=age)], now=now)
    assert (caught.value.index, caught.value.field) == (0, "age")
    assert ("Enter the attendee's age" if age is None else "ages 8–12") in caught.value.message
    assert counts() == before


def test_the_age_is_not_asked_for_adult_classes(now):
    course = course_with_meetings(audience="adults")
    result = order_place(buyer=buyer(), attendees=[attendee(course)], now=now)
    assert result.held[0].attendee_age is None


def test_the_same_attendee_twice_in_one_order_is_refused(now):
    course = course_with_meetings()
    before = counts()
    with pytest.raises(AlreadyRegistered) as caught:
        order_place(buyer=buyer(), attendees=[attendee(course), attendee(course, " alex ", "READER")], now=now)
    assert (caught.value.index, caught.value.field) == (1, "first_name")
    assert "listed twice" in caught.value.message
    assert counts() == before


def test_an_attendee_already_registered_is_refused_but_a_namesake_of_another_buyer_is_not(now):
    course = course_with_meetings()
    order_place(buyer=buyer(), attendees=[attendee(course)], now=now)
    before = counts()

    with pytest.raises(AlreadyRegistered) as caught:
        order_place(buyer=buyer("JORDAN@example.org"), attendees=[attendee(course)], now=now)
    assert caught.value.index == 0
    assert "already registered" in caught.value.message
    assert counts() == before

    order_place(buyer=buyer("someone.else@example.org"), attendees=[attendee(course)], now=now)
    assert Registration.objects.filter(course=course).count() == 2


def _past_cutoff(now):
    course = course_with_meetings(first=local_dt(today() + dt.timedelta(days=21), 18, 30))
    return course, course.registration_closes_at + dt.timedelta(minutes=1)


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda now: (course_with_meetings(status="cancelled"), now), CourseNotOpen, "has been cancelled"),
        (lambda now: (course_with_meetings(status="draft"), now), CourseNotOpen, "not open for registration"),
        # A running class takes registrations until its cutoff (test_run_early.py), not after it.
        (lambda now: (course_with_meetings(status="running", first=now + dt.timedelta(days=3)), now),
         RegistrationClosed, "closed on"),
        (_past_cutoff, RegistrationClosed, "closed on"),
        (lambda now: (course_with_meetings(semester__registration_opens_at=now + dt.timedelta(days=1)), now),
         RegistrationClosed, "opens"),
    ],
    ids=["cancelled", "draft", "running", "past-the-cutoff", "not-yet-open"],
)
def test_a_class_not_open_for_registration_is_refused(now, make, error, words):
    course, when = make(now)
    before = counts()
    with pytest.raises(error) as caught:
        order_place(buyer=buyer(), attendees=[attendee(course)], now=when)
    assert words in caught.value.message
    assert caught.value.index == 0
    assert counts() == before


def test_an_order_is_all_or_nothing(now):
    good = course_with_meetings()
    cancelled = course_with_meetings(status="cancelled")
    before = counts()
    with pytest.raises(CourseNotOpen) as caught:
        order_place(buyer=buyer(), attendees=[attendee(good), attendee(cancelled)], now=now)
    assert caught.value.index == 1
    assert counts() == before
    assert seats_taken(good.pk, now=now) == 0


def test_a_class_missing_from_the_catalog_is_refused(now):
    before = counts()
    with pytest.raises(CourseNotOpen):
        order_place(buyer=buyer(), attendees=[AttendeeInput(course_id=987654, first_name="A", last_name="B")],
                    now=now)
    assert counts() == before


# --- expiry and the waitlist moving -----------------------------------------------------------

def test_holds_expire_after_the_hold_time_and_free_the_seat(now):
    course = course_with_meetings(capacity=1, minimum=1)
    (held,) = order_place(buyer=buyer(), attendees=[attendee(course)], now=now).held
    hold_end = held.expires_at

    assert holds_expire(now=hold_end - dt.timedelta(seconds=1)) == 0
    held.refresh_from_db()
    assert held.status == S.HELD

    assert holds_expire(now=hold_end) == 1
    held.refresh_from_db()
    assert held.status == S.EXPIRED
    assert seats_taken(course.pk, now=hold_end) == 0
    event = held.events.last()
    assert (event.from_status, event.to_status, event.actor_label, event.reason) == (
        S.HELD, S.EXPIRED, "system", "hold ran out")
    assert holds_expire(now=hold_end) == 0  # running it again changes nothing
    assert trail(held) == [("", S.HELD), (S.HELD, S.EXPIRED)]


def test_a_seat_freed_by_an_expired_hold_is_offered_to_the_waitlist(now):
    course = course_with_meetings(capacity=1, minimum=1)
    (held,) = order_place(buyer=buyer(), attendees=[attendee(course)], now=now).held
    (waiting,) = order_place(buyer=buyer("sam@example.org"), attendees=[attendee(course, "Sam")],
                             join_waitlist=True, now=now).waitlisted

    holds_expire(now=held.expires_at)

    waiting.refresh_from_db()
    assert waiting.status == S.OFFERED
    assert OutboxMessage.objects.filter(template="waitlist_offer", to="sam@example.org").exists()


def test_an_expired_offer_passes_down_the_waitlist(now):
    EnrollmentOptions.objects.update_or_create(pk=EnrollmentOptions.current().pk, defaults={"offer_hours": 48})
    course = course_with_meetings(capacity=1, minimum=1, fee=Decimal("0.00"))
    (first,) = order_place(buyer=buyer(), attendees=[attendee(course)], now=now).confirmed
    waiting = [
        order_place(buyer=buyer(f"w{n}@example.org"), attendees=[attendee(course, f"W{n}")], join_waitlist=True,
                    now=now + dt.timedelta(seconds=n)).waitlisted[0]
        for n in (1, 2)
    ]

    now += dt.timedelta(minutes=1)
    registration_cancel(registration_id=first.pk, now=now)
    for r in waiting:
        r.refresh_from_db()
    assert [r.status for r in waiting] == [S.OFFERED, S.WAITLISTED]
    assert waiting[0].expires_at == now + dt.timedelta(hours=48)
    assert waitlist_position(waiting[1]) == 1
    assert seats_taken(course.pk, now=now) == 1  # the offer holds the seat

    later = waiting[0].expires_at
    assert holds_expire(now=later) == 1
    for r in waiting:
        r.refresh_from_db()
    assert [r.status for r in waiting] == [S.EXPIRED, S.OFFERED]
    assert trail(waiting[0]) == [("", S.WAITLISTED), (S.WAITLISTED, S.OFFERED), (S.OFFERED, S.EXPIRED)]
    assert waiting[0].events.last().reason == "waitlist offer ran out"
    assert OutboxMessage.objects.filter(template="waitlist_offer_expired", to="w1@example.org").exists()
    assert OutboxMessage.objects.filter(template="waitlist_offer", to="w2@example.org").exists()


def test_an_offer_never_runs_past_the_cutoff(now):
    EnrollmentOptions.objects.update_or_create(pk=EnrollmentOptions.current().pk, defaults={"offer_hours": 336})
    course = course_with_meetings(capacity=1, minimum=1)
    (held,) = order_place(buyer=buyer(), attendees=[attendee(course)], now=now).held
    (waiting,) = order_place(buyer=buyer("sam@example.org"), attendees=[attendee(course, "Sam")],
                             join_waitlist=True, now=now).waitlisted
    registration_cancel(registration_id=held.pk, now=now)
    waiting.refresh_from_db()
    assert waiting.expires_at == course.registration_closes_at


# --- cancelling -------------------------------------------------------------------------------

def test_cancelling_frees_the_seat_and_the_waitlist_gets_its_offer(now):
    course = course_with_meetings(capacity=1, minimum=1)
    (held,) = order_place(buyer=buyer(), attendees=[attendee(course)], now=now).held
    registrations_confirm_paid(registration_ids=[held.pk], now=now)
    (waiting,) = order_place(buyer=buyer("sam@example.org"), attendees=[attendee(course, "Sam")],
                             join_waitlist=True, now=now).waitlisted

    cancelled = registration_cancel(registration_id=held.pk, now=now, actor_label="patron")

    assert cancelled.status == S.CANCELLED and cancelled.cancelled_at == now
    waiting.refresh_from_db()
    assert waiting.status == S.OFFERED
    assert trail(cancelled) == [("", S.HELD), (S.HELD, S.CONFIRMED), (S.CONFIRMED, S.CANCELLED)]
    assert cancelled.events.last().actor_label == "patron"
    # A refund is due: finance tells the patron once it has settled it (it knows how it comes back).
    assert not OutboxMessage.objects.filter(template="registration_cancelled").exists()


def test_cancelling_twice_changes_nothing(now):
    course = course_with_meetings()
    (held,) = order_place(buyer=buyer(), attendees=[attendee(course)], now=now).held
    registration_cancel(registration_id=held.pk, now=now)
    before = counts()
    again = registration_cancel(registration_id=held.pk, now=now + dt.timedelta(hours=1))
    assert again.status == S.CANCELLED and again.cancelled_at == now
    assert counts() == before


def test_leaving_the_waitlist_offers_nothing_to_anyone(now):
    course = course_with_meetings(capacity=1, minimum=1)
    RegistrationFactory(course=course)
    first, second = (
        order_place(buyer=buyer(f"w{n}@example.org"), attendees=[attendee(course, f"W{n}")], join_waitlist=True,
                    now=now + dt.timedelta(seconds=n)).waitlisted[0]
        for n in (1, 2)
    )
    registration_cancel(registration_id=first.pk, now=now + dt.timedelta(minutes=1))
    second.refresh_from_db()
    assert second.status == S.WAITLISTED
    assert waitlist_position(second) == 1
    assert first.events.last().reason == "left the waitlist"


def test_the_refund_due_is_the_price_before_the_cutoff_and_nothing_after(now):
    course = course_with_meetings(fee=Decimal("25.00"))
    early, late, unpaid = (
        order_place(buyer=buyer(f"b{n}@example.org"), attendees=[attendee(course)], now=now).held[0]
        for n in range(3)
    )
    registrations_confirm_paid(registration_ids=[early.pk, late.pk], now=now)
    closes = course.registration_closes_at

    early = registration_cancel(registration_id=early.pk, now=closes - dt.timedelta(minutes=1))
    late = registration_cancel(registration_id=late.pk, now=closes)
    unpaid = registration_cancel(registration_id=unpaid.pk, now=now)

    assert refund_due(early) == Decimal("25.00")
    assert refund_due(late) == Decimal("0.00")
    assert refund_due(unpaid) == Decimal("0.00")


# --- payment lands: confirmation --------------------------------------------------------------

def test_a_payment_inside_the_hold_confirms_and_a_repeat_changes_nothing(now):
    course = course_with_meetings()
    (held,) = order_place(buyer=buyer(), attendees=[attendee(course)], now=now).held

    confirmed, lost = registrations_confirm_paid(registration_ids=[held.pk], now=now + dt.timedelta(minutes=1))
    assert [r.pk for r in confirmed] == [held.pk] and lost == []
    before = counts()
    confirmed, lost = registrations_confirm_paid(registration_ids=[held.pk], now=now + dt.timedelta(minutes=2))
    assert confirmed == [] and lost == []
    assert counts() == before


def test_a_payment_after_the_hold_confirms_only_while_a_seat_is_free(now):
    course = course_with_meetings(capacity=1, minimum=1)
    (late_but_lucky,) = order_place(buyer=buyer(), attendees=[attendee(course)], now=now).held
    after = late_but_lucky.expires_at + dt.timedelta(minutes=1)
    confirmed, lost = registrations_confirm_paid(registration_ids=[late_but_lucky.pk], now=after)
    assert [r.pk for r in confirmed] == [late_but_lucky.pk] and lost == []
    assert "after the hold ran out" in late_but_lucky.events.last().reason

    other = course_with_meetings(capacity=1, minimum=1)
    (unlucky,) = order_place(buyer=buyer(), attendees=[attendee(other)], now=now).held
    holds_expire(now=unlucky.expires_at)
    order_place(buyer=buyer("sam@example.org"), attendees=[attendee(other, "Sam")], now=unlucky.expires_at)
    confirmed, lost = registrations_confirm_paid(registration_ids=[unlucky.pk], now=after)
    assert confirmed == [] and [r.pk for r in lost] == [unlucky.pk]
    unlucky.refresh_from_db()
    assert unlucky.status == S.EXPIRED


# --- the table of allowed changes ------------------------------------------------------------

ALL_STATUSES = [s.value for s in S]
FORBIDDEN = [(a, b) for a in ALL_STATUSES for b in ALL_STATUSES if b not in TRANSITIONS[a]]


@pytest.mark.parametrize(("before", "after"), FORBIDDEN, ids=[f"{a}->{b}" for a, b in FORBIDDEN])
def test_a_status_change_outside_the_table_is_refused(now, before, after):
    expires = now + dt.timedelta(minutes=5) if before in (S.HELD, S.OFFERED) else None
    registration = RegistrationFactory(status=before, expires_at=expires)
    events = RegistrationEvent.objects.count()
    with pytest.raises(InvalidTransition):
        _transition(registration, after, now=now)
    registration.refresh_from_db()
    assert registration.status == before
    assert RegistrationEvent.objects.count() == events


def test_every_allowed_status_is_a_known_status():
    assert set(TRANSITIONS) == {"", *ALL_STATUSES}
    assert all(set(targets) <= set(ALL_STATUSES) for targets in TRANSITIONS.values())


@pytest.mark.parametrize("status", [S.EXPIRED, S.TRANSFERRED])
def test_an_expired_or_transferred_registration_cannot_be_cancelled(now, status):
    registration = RegistrationFactory(status=status)
    with pytest.raises(InvalidTransition):
        registration_cancel(registration_id=registration.pk, now=now)
    registration.refresh_from_db()
    assert registration.status == status
    assert not registration.events.exists()


# --- the back office: the audit trail is shown, statuses and orders stay read-only ------------

def test_a_registration_shows_its_history_and_a_name_correction_keeps_the_status(staff_client, now):
    course = course_with_meetings()
    (held,) = order_place(buyer=buyer(), attendees=[attendee(course)], now=now).held
    registrations_confirm_paid(registration_ids=[held.pk], now=now)
    url = reverse("admin:enrollment_registration_change", args=[held.pk])

    page = staff_client.get(url)
    assert page.status_code == 200
    (inline,) = page.context["inline_admin_formsets"]
    assert [(f.from_status, f.to_status) for f in inline.formset.queryset] == [("", S.HELD), (S.HELD, S.CONFIRMED)]
    assert not inline.has_add_permission and not inline.has_change_permission and not inline.has_delete_permission

    response = staff_client.post(url, {"attendee_first_name": "Alexis", "attendee_last_name": "Reader",
                                       "status": S.CANCELLED})
    assert response.status_code == 302
    held.refresh_from_db()
    assert (held.attendee_first_name, held.status) == ("Alexis", S.CONFIRMED)
    assert held.events.count() == 3  # the name correction is in the history too (issue 11)
    assert held.events.last().from_status == held.events.last().to_status == S.CONFIRMED


def test_orders_are_read_only_in_the_back_office(staff_client, now):
    course = course_with_meetings()
    order = order_place(buyer=buyer(), attendees=[attendee(course)], now=now).order
    url = reverse("admin:enrollment_order_change", args=[order.pk])

    page = staff_client.get(url)
    assert page.status_code == 200
    assert "Alex" in page.content.decode()  # its registrations, inline
    assert staff_client.post(url, {"first_name": "Changed"}).status_code == 403
    assert staff_client.get(reverse("admin:enrollment_order_add")).status_code == 403
    assert staff_client.post(reverse("admin:enrollment_order_delete", args=[order.pk]),
                             {"post": "yes"}).status_code == 403
    order.refresh_from_db()
    assert order.first_name == "Jordan"
    changelist = staff_client.get(reverse("admin:enrollment_order_changelist"), {"q": "jordan@example.org"})
    assert [o.pk for o in changelist.context["cl"].result_list] == [order.pk]


def test_the_registration_options_are_one_row_edited_in_place(staff_client):
    options = EnrollmentOptions.current()
    response = staff_client.get(reverse("admin:enrollment_enrollmentoptions_changelist"))
    assert response["Location"] == reverse("admin:enrollment_enrollmentoptions_change", args=[options.pk])
    url = reverse("admin:enrollment_enrollmentoptions_change", args=[options.pk])
    assert staff_client.post(url, {"hold_minutes": "20", "offer_hours": "24", "nudge_days": "3", "link_days": "90", "scholarship_limit": "2"}).status_code == 302
    options.refresh_from_db()
    assert (options.hold_minutes, options.offer_hours, options.link_days) == (20, 24, 90)
    response = staff_client.post(url, {"hold_minutes": "0", "offer_hours": "24", "nudge_days": "3", "link_days": "90", "scholarship_limit": "2"})
    assert response.context["adminform"].form.errors["hold_minutes"]
    assert staff_client.get(reverse("admin:enrollment_enrollmentoptions_add")).status_code == 403
    assert staff_client.post(reverse("admin:enrollment_enrollmentoptions_delete", args=[options.pk]),
                             {"post": "yes"}).status_code == 403
    assert EnrollmentOptions.objects.count() == 1
    # Scholarships per attendee per semester: 0 (none online) to 20.
    base = {"hold_minutes": "20", "offer_hours": "24", "nudge_days": "3", "link_days": "90"}
    assert staff_client.post(url, base | {"scholarship_limit": "21"}).context["adminform"].form.errors["scholarship_limit"]
    assert staff_client.post(url, base | {"scholarship_limit": "0"}).status_code == 302
    options.refresh_from_db()
    assert options.scholarship_limit == 0


def test_referral_answers_are_reordered_and_retired_in_the_list(staff_client):
    sources = list(ReferralSource.objects.order_by("pk"))
    data = {"form-TOTAL_FORMS": str(len(sources)), "form-INITIAL_FORMS": str(len(sources)), "_save": "Save"}
    for i, source in enumerate(sources):
        data |= {f"form-{i}-id": str(source.pk), f"form-{i}-position": str(len(sources) - i)}
        if i:
            data[f"form-{i}-active"] = "on"
    response = staff_client.post(reverse("admin:enrollment_referralsource_changelist"), data)
    assert response.status_code == 302
    first = ReferralSource.objects.get(pk=sources[0].pk)
    assert (first.position, first.active) == (len(sources), False)
    assert staff_client.post(reverse("admin:enrollment_referralsource_delete", args=[first.pk]),
                             {"post": "yes"}).status_code == 403
