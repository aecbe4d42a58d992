"""The week-out run (``enrollment.services.weekout``): a week before a class, registration closes;
a class at its minimum runs (reminders, the roster), one below it is cancelled (everyone told and
refunded); staff may decide earlier with a reason; nudges; the call list; the command and tasks;
exactly once, also when two runs start at once (PostgreSQL)."""

import copy
import datetime as dt
import threading
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from classes.models import Course
from classes.selectors import MeetingDraft, meeting_problems
from core import tasks as core_tasks
from core.models import OutboxMessage, SiteOptions
from enrollment import tasks
from enrollment.models import CallListEntry, CourseDecision, EnrollmentOptions, Order, Registration, RegistrationEvent
from enrollment.services import seats, weekout
from enrollment.services.errors import CourseNotOpen, EnrollmentError
from enrollment.services.nudges import nudges_send
from enrollment.services.weekout import (
    BELOW_MINIMUM,
    DecisionNotDue,
    course_decide,
    week_out_run,
)
from finance import services as finance_services
from finance.models import Payment, Refund
from tests.factories import CourseFactory, OrderFactory, RegistrationFactory, course_with_meetings, local_dt, today
from tests.localstripe_server import browser, localstripe_server, stripe_settings  # noqa: F401
from tests.servers import require_postgres

S = Registration.Status
C = Course.Status
P = Payment.Provider
T = CallListEntry.Topic

TEMPLATES = ["course_cancelled", "reminder", "nudge", "instructor_roster", "instructor_cancelled", "instructor_nudge",
             "registration_cancelled", "waitlist_offer_expired", "refund_issued", "registration_confirmed",
             "waitlist_joined", "waitlist_offer", "manage_link"]


@pytest.fixture(autouse=True)
def week_out_templates(settings, tmp_path_factory):
    """Stand-ins for the e-mail templates, after the project's own (which win when they exist),
    so these tests do not depend on templates still being written."""
    folder = tmp_path_factory.getbasetemp() / "week-out-template-stand-ins"
    if not folder.exists():
        (folder / "emails").mkdir(parents=True)
        for name in TEMPLATES:
            (folder / "emails" / f"{name}.subject.txt").write_text(name)
            (folder / "emails" / f"{name}.txt").write_text(f"{name}\n")
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [*templates[0]["DIRS"], folder]
    settings.TEMPLATES = templates


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """Messages are queued in the outbox as usual; their delivery tasks are only recorded."""
    sent: list = []
    monkeypatch.setattr(core_tasks.outbox_deliver, "delay", lambda *args, **kwargs: sent.append(args))
    return sent


def a_course(*, days: int = 21, **kwargs) -> Course:
    """An open course whose first meeting is ``days`` from today at 6:30 pm (cutoff: local
    midnight seven days before)."""
    kwargs.setdefault("minimum", 3)
    return course_with_meetings(first=local_dt(today() + dt.timedelta(days=days), 18, 30), **kwargs)


def after_cutoff(course, minutes: int = 5) -> dt.datetime:
    return Course.objects.get(pk=course.pk).registration_closes_at + dt.timedelta(minutes=minutes)


def registrant(course, *, provider: str | None = P.CASH, paid: Decimal | None = None, email: str | None = None,
               status: str = S.CONFIRMED, **kwargs) -> Registration:
    """A registration of ``course``; confirmed ones paid by ``provider`` (the full price unless
    ``paid``), desk orders for cash and check, online for card; ``email=""`` for none."""
    channel = Order.Channel.ONLINE if provider in (P.CARD, None) else Order.Channel.DESK
    order = OrderFactory(channel=channel, **({"email": email} if email is not None else {}))
    if status in (S.HELD, S.OFFERED):
        kwargs.setdefault("expires_at", Course.objects.get(pk=course.pk).registration_closes_at)
    registration = RegistrationFactory(course=course, order=order, status=status, **kwargs)
    if provider and status == S.CONFIRMED:
        payment = Payment.objects.create(
            order=order, provider=provider, amount=registration.price if paid is None else paid,
            status=Payment.Status.SUCCEEDED, succeeded_at=timezone.now(),
            reference={P.CHECK: "1042", P.CARD: f"pi_weekout_{registration.pk}"}.get(provider, ""),
        )
        payment.registrations.set([registration])
    return registration


def keys(**filters) -> set[str]:
    return set(OutboxMessage.objects.filter(**filters).values_list("dedupe_key", flat=True))


def snapshot() -> dict:
    """Every table's row count, and every row's status and last change where a model has them."""
    state: dict = {}
    for model in apps.get_models():
        state[model._meta.label] = model._default_manager.count()
        fields = {f.name for f in model._meta.concrete_fields}
        wanted = [f for f in ("status", "updated_at", "completed_at", "cancelled_at", "expires_at") if f in fields]
        if wanted:
            state[f"{model._meta.label}:rows"] = list(model._default_manager.order_by("pk").values_list("pk", *wanted))
    return state


# --- the decision ------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_course_at_exactly_its_minimum_runs_and_registration_closes():
    course = a_course(minimum=3)
    confirmed = [registrant(course, provider=p) for p in (P.CASH, P.CHECK, P.CARD)]
    held = registrant(course, status=S.HELD, provider=None)
    offered = registrant(course, status=S.OFFERED, provider=None)
    waiting = registrant(course, status=S.WAITLISTED, provider=None)
    now = after_cutoff(course)

    [line] = week_out_run(now=now)

    course.refresh_from_db()
    assert course.status == C.RUNNING
    decision = CourseDecision.objects.get(course=course)
    assert (decision.outcome, decision.confirmed_count, decision.minimum, decision.automatic) == ("running", 3, 3, True)
    assert decision.decided_at == now and decision.completed_at == now and decision.decided_by is None
    assert line.decided and line.settle_ids == []
    assert line.text() == f"DECIDED {course.title} — confirmed 3 / minimum 3 → runs"
    # A reminder to every confirmed registrant, the roster to the instructor.
    for registration in confirmed:
        assert keys(to=registration.order.email) == {f"reminder:{registration.pk}"}
    assert keys(to=course.instructor.email) == {f"instructor-roster:{course.pk}"}
    # Holds and offers are closed; the waitlist is closed and told; the offered patron is told.
    for registration, status in ((held, S.EXPIRED), (offered, S.EXPIRED), (waiting, S.CANCELLED)):
        registration.refresh_from_db()
        assert registration.status == status
        assert registration.events.get().actor_label == "week-out run"
    assert keys(to=held.order.email) == set()
    assert keys(to=offered.order.email) == {f"offer-expired:{offered.pk}"}
    assert keys(to=waiting.order.email) == {f"cancelled:{waiting.pk}"}
    assert not Refund.objects.exists()


@pytest.mark.django_db
def test_a_course_below_its_minimum_is_cancelled_everyone_told_and_refunded_by_the_way_they_paid(
    settings, django_capture_on_commit_callbacks,
):
    settings.STRIPE_SECRET_KEY = ""  # Stripe is not set up: card refunds wait for the sweep
    course = a_course(minimum=5, fee=Decimal("25.00"))
    cash = registrant(course, provider=P.CASH)
    check = registrant(course, provider=P.CHECK)
    card = registrant(course, provider=P.CARD)
    partly = registrant(course, provider=P.CASH, paid=Decimal("10.00"))  # paid $10 of $25 at the desk
    held = registrant(course, status=S.HELD, provider=None)
    waiting = registrant(course, status=S.WAITLISTED, provider=None)
    everyone = [cash, check, card, partly, held, waiting]
    now = after_cutoff(course)

    [line] = week_out_run(now=now)

    course.refresh_from_db()
    assert course.status == C.CANCELLED
    decision = course.decision
    assert (decision.outcome, decision.confirmed_count, decision.minimum) == ("cancelled", 4, 5)
    assert decision.completed_at == now
    for registration in everyone:
        registration.refresh_from_db()
        assert registration.status == S.CANCELLED and registration.cancelled_at == now
        event = registration.events.get()
        assert (event.to_status, event.reason, event.actor_label, event.at) == (S.CANCELLED, BELOW_MINIMUM,
                                                                                "week-out run", now)
        # Those who paid are told by finance when it settles their refund (it knows how it comes back).
        told = set() if registration in (cash, check, card, partly) else {f"course-cancelled:{registration.pk}"}
        assert keys(to=registration.order.email) == told
    assert keys(to=course.instructor.email) == {f"instructor-cancelled:{course.pk}"}
    assert sorted(line.settle_ids) == sorted(r.pk for r in (cash, check, card, partly))
    assert line.text() == f"DECIDED {course.title} — confirmed 4 / minimum 5 → cancelled (refunds: $100.00 to 4 registrants)"

    # The entry point settles right after (Stripe is not set up here: the card refund waits).
    with django_capture_on_commit_callbacks(execute=True):
        made = tasks.refunds_settle_for(line.settle_ids, reason=line.refund_reason, now=now)
    refunds = {r.registration_id: r for r in Refund.objects.select_related("payment")}
    assert {r.pk for r in made} == {r.pk for r in refunds.values()}
    assert set(refunds) == {cash.pk, check.pk, card.pk, partly.pk}
    for registration in (cash, check, card, partly):
        assert f"course-cancelled:{registration.pk}" in keys(to=registration.order.email)
    for registration, amount, provider in ((cash, "25.00", P.CASH), (check, "25.00", P.CHECK),
                                           (card, "25.00", P.CARD), (partly, "10.00", P.CASH)):
        refund = refunds[registration.pk]
        assert (refund.amount, refund.payment.provider, refund.dedupe_key) == (Decimal(amount), provider,
                                                                               f"cancel:{registration.pk}")
        assert refund.status == Refund.Status.PENDING  # cash/check: "to issue" by staff
        assert "week-out cutoff" in refund.reason
    card_refund = refunds[card.pk]
    assert card_refund.attempts == 1 and card_refund.last_error  # Stripe unavailable: the sweep retries
    with django_capture_on_commit_callbacks(execute=True):
        counts = finance_services.refunds_sweep(now=timezone.now() + dt.timedelta(minutes=10))
    card_refund.refresh_from_db()
    assert counts["retried"] == 1 and card_refund.attempts == 2 and counts["settled"] == 0
    assert Refund.objects.count() == 4  # the sweep made no second refund


@pytest.mark.django_db
def test_refunds_the_entry_point_never_settled_are_settled_by_finances_sweep():
    course = a_course(minimum=3)
    paid = [registrant(course, provider=P.CASH), registrant(course, provider=P.CHECK, paid=Decimal("5.00"))]
    week_out_run(now=after_cutoff(course))  # ... and the process died before refunds_settle

    assert finance_services.refunds_sweep()["settled"] == 2
    assert sorted((r.registration_id, r.amount) for r in Refund.objects.all()) == [
        (paid[0].pk, Decimal("25.00")), (paid[1].pk, Decimal("5.00"))]
    assert finance_services.refunds_sweep()["settled"] == 0


@pytest.mark.django_db
def test_a_cancelled_course_frees_its_library_room():
    course = a_course(minimum=5)
    meeting = course.meetings.get()
    other = CourseFactory(semester=course.semester, venue=course.venue)
    draft = MeetingDraft(key="m", starts_at=meeting.starts_at, ends_at=meeting.ends_at, venue=None)
    assert any("already booked" in message for _, _, message in meeting_problems(course=other, drafts=[draft]))

    week_out_run(now=after_cutoff(course))

    assert Course.objects.get(pk=course.pk).status == C.CANCELLED
    assert not any("already booked" in message for _, _, message in meeting_problems(course=other, drafts=[draft]))


@pytest.mark.django_db
def test_a_course_decided_earlier_sends_nothing_and_refunds_nothing_again(django_capture_on_commit_callbacks):
    cancelled = a_course(minimum=3)
    runs = a_course(minimum=1)
    for course in (cancelled, runs):
        registrant(course, provider=P.CASH)
        registrant(course, provider=P.CHECK, email="")
    now = after_cutoff(cancelled)
    lines = week_out_run(now=now)
    tasks.refunds_settle_for([i for line in lines for i in line.settle_ids], reason="x", now=now)
    before = snapshot()

    assert week_out_run(now=now + dt.timedelta(minutes=10)) == []  # nothing open is due any more
    for course in (cancelled, runs):
        again = course_decide(course_id=course.pk, now=now + dt.timedelta(hours=1))
        assert again.created is False and again.settle_ids == []
        forced = course_decide(course_id=course.pk, force="cancel", reason="changed our mind",
                               now=now + dt.timedelta(hours=2))
        assert forced.pk == again.pk and forced.outcome == again.outcome and forced.reason == again.reason
    with django_capture_on_commit_callbacks(execute=True):
        made = tasks.refunds_settle_for(list(Registration.objects.values_list("pk", flat=True)), reason="again")
        finance_services.refunds_sweep(now=now + dt.timedelta(hours=3))
    assert made == []
    assert snapshot() == before


@pytest.mark.django_db
def test_a_failing_course_does_not_stop_the_others_and_is_decided_by_the_next_run(monkeypatch):
    broken, fine = a_course(minimum=3), a_course(minimum=3)
    registrant(broken)
    registrant(fine)
    now = after_cutoff(broken)
    real = seats.courses_lock

    def lock(course_ids):
        ids = set(course_ids)
        if broken.pk in ids:
            raise RuntimeError("database hiccup")
        return real(ids)

    monkeypatch.setattr(seats, "courses_lock", lock)
    lines = {line.course_id: line for line in week_out_run(now=now)}
    assert lines[broken.pk].error == "RuntimeError: database hiccup"
    assert lines[broken.pk].text() == f"FAILED {broken.title} — RuntimeError: database hiccup"
    assert lines[fine.pk].decided
    assert Course.objects.get(pk=broken.pk).status == C.OPEN and not CourseDecision.objects.filter(course=broken)

    monkeypatch.setattr(seats, "courses_lock", real)
    [line] = week_out_run(now=now + dt.timedelta(minutes=10))
    assert line.course_id == broken.pk and line.decided


@pytest.mark.django_db
def test_nothing_is_decided_before_the_cutoff_nor_a_course_that_is_not_open():
    course = a_course(minimum=1)
    draft = a_course(minimum=1, status=C.DRAFT)
    now = after_cutoff(course, minutes=-1)
    assert week_out_run(now=now) == []
    with pytest.raises(DecisionNotDue):
        course_decide(course_id=course.pk, now=now)
    with pytest.raises(CourseNotOpen):
        course_decide(course_id=draft.pk, now=after_cutoff(draft), force="run", reason="ready")
    [line] = week_out_run(now=after_cutoff(course, minutes=0))  # exactly at the cutoff: due
    assert line.course_id == course.pk
    assert not CourseDecision.objects.filter(course=draft).exists()


# --- staff decisions -----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_staff_run_a_course_below_its_minimum_before_the_cutoff_with_a_reason(django_user_model):
    staff = django_user_model.objects.create_user("coordinator", is_staff=True)
    course = a_course(minimum=4)
    patron = registrant(course, provider=P.CASH)
    waiting = registrant(course, status=S.WAITLISTED, provider=None)
    now = after_cutoff(course, minutes=-3 * 24 * 60)

    with pytest.raises(EnrollmentError):
        course_decide(course_id=course.pk, now=now, actor=staff, force="run", reason="  ")
    decision = course_decide(course_id=course.pk, now=now, actor=staff, force="run",
                             reason="The instructor will teach a small group.")

    assert decision.created and decision.outcome == "running" and Course.objects.get(pk=course.pk).status == C.RUNNING
    assert (decision.automatic, decision.decided_by, decision.reason) == (False, staff,
                                                                          "The instructor will teach a small group.")
    assert (decision.confirmed_count, decision.minimum, decision.decided_at) == (1, 4, now)
    # Registration stays open until the cutoff (issue 10): nothing closes or is sent yet.
    assert keys(to=patron.order.email) == set()
    assert Registration.objects.get(pk=waiting.pk).status == S.WAITLISTED
    # At the cutoff the week-out run does the cutoff's work without deciding it again
    # (tests/enrollment/test_run_early.py has the rest).
    [line] = week_out_run(now=after_cutoff(course))
    assert (line.decided, line.closed) == (False, True)
    assert keys(to=patron.order.email) == {f"reminder:{patron.pk}"}
    event = Registration.objects.get(pk=waiting.pk).events.order_by("pk").last()
    assert (event.actor, event.actor_label, event.to_status) == (None, "week-out run", S.CANCELLED)
    assert week_out_run(now=after_cutoff(course, minutes=15)) == []


@pytest.mark.django_db
def test_staff_cancel_a_course_early_with_a_reason_in_the_audit_trail(django_user_model):
    staff = django_user_model.objects.create_user("coordinator", is_staff=True)
    course = a_course(minimum=2)
    paid = [registrant(course, provider=P.CASH), registrant(course, provider=P.CHECK, email="")]
    now = after_cutoff(course, minutes=-5 * 24 * 60)

    decision = course_decide(course_id=course.pk, now=now, actor=staff, force="cancel",
                             reason="The instructor is ill")

    assert decision.outcome == "cancelled" and not decision.automatic and decision.decided_by == staff
    assert sorted(decision.settle_ids) == sorted(r.pk for r in paid)
    for registration in paid:
        event = Registration.objects.get(pk=registration.pk).events.get()
        assert (event.actor, event.actor_label, event.reason) == (staff, "coordinator",
                                                                  "class cancelled: The instructor is ill")
    assert not CallListEntry.objects.exists()  # the paid are told once finance has settled their refund
    made = tasks.refunds_settle_for(decision.settle_ids, reason="x", actor=staff)
    assert sorted(r.amount for r in made) == [Decimal("25.00")] * 2
    call = CallListEntry.objects.get()
    assert call.registration_id == paid[1].pk and call.topic == T.CANCELLATION
    assert "Reason: The instructor is ill" in call.script and "full refund of everything they paid" in call.script and "$" not in call.script
    assert "cash or check, so the library pays it back" in call.script


# --- a course the run reaches after its first meeting began ------------------------------------------

@pytest.mark.django_db
def test_a_course_decided_after_its_first_meeting_began_runs_without_reminders_about_the_past():
    """The run was down (or the demo was loaded on a later day): the class began last week. It runs,
    its waitlist is closed, but nobody is reminded of a meeting in the past, nor sent its roster."""
    course = a_course(days=-3, weekly=3, minimum=2)  # first meeting three days ago; two more to come
    reminded = [registrant(course), registrant(course, email="")]
    waiting = registrant(course, status=S.WAITLISTED, provider=None)

    [line] = week_out_run(now=timezone.now())

    assert line.decided and line.runs
    assert Course.objects.get(pk=course.pk).status == C.RUNNING
    assert not OutboxMessage.objects.filter(template__in=["reminder", "instructor_roster"]).exists()
    assert not CallListEntry.objects.filter(topic=T.REMINDER).exists()
    assert keys(to=waiting.order.email) == {f"cancelled:{waiting.pk}"}  # told now: the waitlist is closed
    assert all(Registration.objects.get(pk=r.pk).status == S.CONFIRMED for r in reminded)


@pytest.mark.django_db
def test_a_course_below_its_minimum_whose_first_meeting_began_is_left_to_staff(django_user_model):
    course = a_course(days=-2, weekly=2, minimum=3)
    paid = registrant(course, provider=P.CARD)
    before = snapshot()

    [line] = week_out_run(now=timezone.now())
    assert line.late and not line.decided and line.text().startswith(f"LATE {course}")
    assert snapshot() == before  # nothing cancelled, refunded or sent
    [preview] = week_out_run(now=timezone.now(), dry_run=True)
    assert preview.late and preview.settle_ids == []

    staff = django_user_model.objects.create_user("coordinator")
    decision = course_decide(course_id=course.pk, force="cancel", reason="It did not meet", actor=staff)
    assert decision.outcome == "cancelled" and decision.settle_ids == [paid.pk]


# --- the dry run and the command -------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_dry_run_prints_one_line_per_course_and_changes_nothing():
    runs = a_course(minimum=2, title="Bread Baking")
    cancelled = a_course(minimum=4, title="Watercolor", fee=Decimal("30.00"))
    later = a_course(days=40, minimum=1, title="Knitting")
    for course in (runs, later):
        registrant(course)
        registrant(course, provider=P.CARD)
    registrant(cancelled, provider=P.CARD)
    registrant(cancelled, provider=P.CHECK, paid=Decimal("12.50"))
    registrant(cancelled, status=S.WAITLISTED, provider=None)
    registrant(runs, status=S.HELD, provider=None, email="")
    EnrollmentOptions.current()
    before = snapshot()
    out = StringIO()

    call_command("week_out", "--dry-run", "--at", f"{timezone.localtime(after_cutoff(runs)):%Y-%m-%d %H:%M}",
                 stdout=out)

    assert out.getvalue().splitlines() == [
        "DECIDE Bread Baking — confirmed 2 / minimum 2 → runs",
        "DECIDE Watercolor — confirmed 2 / minimum 4 → cancelled (refunds: $42.50 to 2 registrants)",
    ]
    assert snapshot() == before


@pytest.mark.django_db
def test_the_command_decides_at_a_given_local_time_and_settles_the_refunds():
    course = a_course(minimum=3, title="Pottery")
    registrant(course, provider=P.CASH)
    registrant(course, provider=P.CHECK)
    at = f"{timezone.localtime(after_cutoff(course)):%Y-%m-%d %H:%M}"
    out = StringIO()

    call_command("week_out", "--at", at, stdout=out)

    assert out.getvalue().splitlines() == [
        "DECIDED Pottery — confirmed 2 / minimum 3 → cancelled (refunds: $50.00 to 2 registrants)",
    ]
    assert Refund.objects.filter(status=Refund.Status.PENDING).count() == 2
    out = StringIO()
    call_command("week_out", "--at", at, stdout=out)
    assert out.getvalue().startswith("No open course has passed its cutoff as of")
    assert Refund.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["tomorrow", "2027-02-30 10:00", "2027-03-03", "03/03/2027 00:05", ""])
def test_the_command_refuses_a_bad_at_with_a_clear_message(value):
    with pytest.raises(CommandError, match=r'--at must be a local date and time as "YYYY-MM-DD HH:MM"'):
        call_command("week_out", "--dry-run", "--at", value)


@pytest.mark.django_db
def test_the_command_fails_loudly_when_a_course_could_not_be_decided(monkeypatch):
    course = a_course(minimum=1)

    def broken(course_ids):
        raise RuntimeError("boom")

    monkeypatch.setattr(seats, "courses_lock", broken)
    out = StringIO()
    with pytest.raises(CommandError, match="1 course"):
        call_command("week_out", "--at", f"{timezone.localtime(after_cutoff(course)):%Y-%m-%d %H:%M}", stdout=out)
    assert out.getvalue().splitlines() == [f"FAILED {course.title} — RuntimeError: boom"]


@pytest.mark.django_db
def test_the_celery_task_decides_courses_whose_cutoff_has_passed_and_settles_refunds():
    course = a_course(days=3, minimum=2)  # its cutoff was four days ago
    paid = registrant(course, provider=P.CASH)
    assert tasks.week_out() == 1
    assert Course.objects.get(pk=course.pk).status == C.CANCELLED
    assert Refund.objects.get().registration_id == paid.pk
    assert tasks.week_out() == 0 and Refund.objects.count() == 1


def test_beat_runs_the_week_out_every_ten_minutes_and_the_nudges_hourly(settings):
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["enrollment.week_out"] == 600.0
    assert schedule["enrollment.nudges"] == 3600.0


# --- the call list ---------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_patrons_without_email_are_put_on_the_call_list_once_per_topic():
    runs, cancelled = a_course(minimum=1), a_course(minimum=3)
    reminded = registrant(runs, provider=P.CASH, email="")
    registrant(runs, provider=P.CASH)  # has e-mail: no call
    refunded = registrant(cancelled, provider=P.CHECK, email="")
    never_paid = registrant(cancelled, status=S.WAITLISTED, provider=None, email="")
    now = after_cutoff(runs)

    for at in (now, now + dt.timedelta(minutes=10)):  # as the entry points do: decide, then settle
        for line in week_out_run(now=at):
            tasks.refunds_settle_for(line.settle_ids, reason=line.refund_reason, now=at)

    calls = {(c.registration_id, c.topic): c for c in CallListEntry.objects.all()}
    assert set(calls) == {(reminded.pk, T.REMINDER), (refunded.pk, T.CANCELLATION), (never_paid.pk, T.CANCELLATION)}
    assert runs.title in calls[reminded.pk, T.REMINDER].script
    assert "full refund of everything they paid" in calls[refunded.pk, T.CANCELLATION].script
    assert "refund" in calls[refunded.pk, T.CANCELLATION].script
    assert "$" not in calls[never_paid.pk, T.CANCELLATION].script
    assert all(c.outcome == "" and c.called_at is None for c in calls.values())
    assert not OutboxMessage.objects.filter(to="").exists()


# --- nudges ----------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_course_below_its_minimum_nudges_its_registrants_and_instructor_once():
    assert EnrollmentOptions.current().nudge_days == 3
    course = a_course(minimum=5)
    emailed = registrant(course)
    phoned = registrant(course, email="")
    held = registrant(course, status=S.HELD, provider=None)
    full_enough = a_course(minimum=1)
    registrant(full_enough)
    too_early = a_course(days=25, minimum=5)
    registrant(too_early)
    now = after_cutoff(course, minutes=-(2 * 24 * 60 + 60))  # 2 days and an hour before the cutoff

    assert nudges_send(now=now) == [course.pk]
    assert nudges_send(now=now + dt.timedelta(hours=1)) == [course.pk]  # runs again, sends nothing new

    assert keys(template="nudge") == {f"nudge:{course.pk}:{emailed.pk}"}
    assert keys(to=emailed.order.email) == {f"nudge:{course.pk}:{emailed.pk}"}
    assert keys(to=held.order.email) == set()
    assert keys(to=course.instructor.email) == {f"instructor-nudge:{course.pk}"}
    assert keys(to=too_early.instructor.email) == set() and keys(to=full_enough.instructor.email) == set()
    call = CallListEntry.objects.get()
    assert (call.registration_id, call.topic) == (phoned.pk, T.NUDGE)
    assert "3 more" in call.script
    # A later registrant gets their own nudge; nobody else gets a second one.
    late = registrant(course)
    nudges_send(now=now + dt.timedelta(hours=2))
    assert keys(template="nudge") == {f"nudge:{course.pk}:{emailed.pk}", f"nudge:{course.pk}:{late.pk}"}
    assert OutboxMessage.objects.filter(to=course.instructor.email).count() == 1
    # Past the cutoff nothing is nudged; the week-out run decides instead.
    assert nudges_send(now=after_cutoff(course)) == []


@pytest.mark.django_db
def test_the_nudge_task_uses_the_nudge_days_option():
    EnrollmentOptions.objects.update_or_create(pk=EnrollmentOptions.current().pk, defaults={"nudge_days": 10})
    course = a_course(days=14, minimum=3)  # cutoff in about a week
    registrant(course)
    assert tasks.nudges() == 1
    assert keys(to=course.instructor.email) == {f"instructor-nudge:{course.pk}"}


# --- a card refund on (local) Stripe ----------------------------------------------------------------------

@pytest.mark.stripe
@pytest.mark.django_db
def test_a_card_payment_is_refunded_on_stripe_when_the_course_is_cancelled(
    client, browser, django_capture_on_commit_callbacks,  # noqa: F811 (the fixture imported above)
):
    from enrollment.services import AttendeeInput, BuyerInput, order_place
    from tests.finance.stripe_helpers import confirm_with_card, open_pay_page

    course = a_course(minimum=3)
    placed = order_place(buyer=BuyerInput(first_name="Jordan", last_name="Patron", email="card@example.org"),
                         attendees=[AttendeeInput(course_id=course.pk, first_name="Alex", last_name="Reader")])
    _, payment, _ = open_pay_page(client, placed.order)
    answer = confirm_with_card(client, placed.order, payment, browser.card())
    client.get(answer["return_url"])
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED

    [line] = week_out_run(now=after_cutoff(course))
    with django_capture_on_commit_callbacks(execute=True):
        [refund] = tasks.refunds_settle_for(line.settle_ids, reason=line.refund_reason)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.DONE and refund.amount == Decimal("25.00")
    assert [r["amount"] for r in browser.server.refunds(payment.reference)] == [2500]
    assert keys(to="card@example.org") >= {f"course-cancelled:{placed.held[0].pk}", f"refund-issued:{refund.pk}"}


# --- two runs at once (PostgreSQL) ------------------------------------------------------------------------

@pytest.mark.race
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("locking", [True, False], ids=["locked", "unique-decision-only"])
def test_two_runs_at_once_decide_each_course_once_and_tell_each_registrant_once(settings, monkeypatch, locking):
    """Both runs see the same open courses. With the course row locks, the second waits and then
    finds the decision; with them switched off, the unique decision row alone still lets only one
    run decide (the other's insert fails and it changes nothing)."""
    require_postgres()
    settings.DB_LOCK_TIMEOUT_MS = 20_000
    monkeypatch.setattr(seats, "LOCKING", locking)
    courses = [a_course(minimum=2), a_course(minimum=2), a_course(minimum=4)]
    registrations = [registrant(course, provider=P.CASH) for course in courses for _ in range(2)]
    registrations.append(registrant(courses[2], email="", provider=P.CHECK))
    registrations.append(registrant(courses[0], status=S.WAITLISTED, provider=None))
    SiteOptions.current()  # the option row exists before the threads start (made on first use otherwise)
    now = after_cutoff(courses[0])

    start = threading.Barrier(2, timeout=30)
    # Both runs pick the courses before either decides one: both try to decide every course.
    picked = threading.Barrier(2, timeout=30)
    real_due = weekout.courses_due

    def courses_due(*, now):
        due = real_due(now=now)
        picked.wait()
        return due

    monkeypatch.setattr(weekout, "courses_due", courses_due)
    results: list = [None, None]

    def run(i: int) -> None:
        try:
            start.wait()
            results[i] = week_out_run(now=now)
        except BaseException as exc:  # noqa: BLE001 - judged below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(t.is_alive() for t in threads)
    assert all(isinstance(r, list) for r in results), results
    assert not [line.error for r in results for line in r if line.error]

    assert CourseDecision.objects.count() == 3
    for r in results:
        assert sorted(line.course_id for line in r) == sorted(c.pk for c in courses)  # both tried every course
    decided = [line.course_id for r in results for line in r if line.decided]
    assert sorted(decided) == sorted(c.pk for c in courses)  # each course decided by exactly one run
    # The cancelled course's refunds are settled by the entry point right after each run (the task
    # and the command), and settling is what tells a paid registrant: settle after both runs.
    for r in results:
        for line in r:
            if line.settle_ids:
                tasks.refunds_settle_for(line.settle_ids, reason=line.refund_reason, now=now)
    for registration in registrations:
        if registration.order.email:
            assert OutboxMessage.objects.filter(to=registration.order.email).count() == 1
        assert RegistrationEvent.objects.filter(registration=registration).count() == (
            1 if registration.course_id == courses[2].pk or registration.status == S.WAITLISTED else 0)
    assert CallListEntry.objects.count() == 1
    for course in courses:
        assert OutboxMessage.objects.filter(to=course.instructor.email).count() == 1
