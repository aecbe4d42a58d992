"""The staff dashboard on the back office's first page (``reports.selectors``,
``templates/admin/index.html``), and a registration's page in the back office: its audit trail,
payments and refunds with who and when."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from classes.models import Course
from core.models import OutboxMessage
from core.roles import FINANCE, FRONT_DESK, roles_sync
from enrollment.models import Registration, RegistrationEvent
from enrollment.selectors.rosters import this_week
from finance.models import Payment, Refund
from reports.selectors import courses_near_cutoff, dashboard_build
from tests.factories import (
    OutboxMessageFactory,
    PaymentFactory,
    RefundFactory,
    RegistrationFactory,
    course_with_meetings,
    local_dt,
    role_client,
    today,
)

pytestmark = pytest.mark.django_db

S = Registration.Status


def section(html: str, element_id: str) -> str | None:
    match = re.search(rf'<div class="module dashboard-section" id="{element_id}">.*?</table>', html, re.S)
    return match.group(0) if match else None


def dashboard_html(client) -> str:
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return response.content.decode()


# --- this week's classes ----------------------------------------------------------------------

def test_this_weeks_classes(staff_client):
    start, end = this_week()
    this_week_course = course_with_meetings(title="Bread baking", first=local_dt(today(), 12))
    RegistrationFactory.create_batch(3, course=this_week_course)
    RegistrationFactory(course=this_week_course, status=S.CANCELLED)
    later = course_with_meetings(title="Next week's class", first=end + dt.timedelta(hours=10))
    earlier = course_with_meetings(title="Last week's class", first=start - dt.timedelta(hours=10))
    cancelled = course_with_meetings(title="Called off", first=local_dt(today(), 14), status=Course.Status.CANCELLED)

    html = section(dashboard_html(staff_client), "dashboard-week")
    assert "Bread baking" in html
    row = re.search(r"<tr>(?:(?!</tr>).)*Bread baking.*?</tr>", html, re.S).group(0)
    assert "<td>3</td>" in row  # confirmed
    assert reverse("rosters:course", args=[this_week_course.pk]) in row
    # Attendance can be taken from the meeting's day on, whatever the hour.
    assert reverse("rosters:attendance", args=[this_week_course.ordered_meetings()[0].pk]) in row
    for course in (later, earlier, cancelled):
        assert course.title not in html


# --- near the cutoff --------------------------------------------------------------------------

def test_courses_near_their_cutoff_with_confirmed_vs_minimum(staff_client):
    soon = course_with_meetings(title="Closes in three days", first=local_dt(today() + dt.timedelta(days=10), 18),
                                minimum=5)
    RegistrationFactory.create_batch(2, course=soon)
    RegistrationFactory(course=soon, status=S.HELD, expires_at=timezone.now() + dt.timedelta(minutes=10))
    full = course_with_meetings(title="Already running fine", first=local_dt(today() + dt.timedelta(days=12), 18),
                                minimum=2)
    RegistrationFactory.create_batch(3, course=full)
    overdue = course_with_meetings(title="Awaiting decision", first=local_dt(today() + dt.timedelta(days=3), 18))
    far = course_with_meetings(title="Far away", first=local_dt(today() + dt.timedelta(days=60), 18))
    decided = course_with_meetings(title="Decided", first=local_dt(today() + dt.timedelta(days=10), 18),
                                   status=Course.Status.RUNNING)

    html = section(dashboard_html(staff_client), "dashboard-cutoff")
    soon_row = re.search(r"<tr>(?:(?!</tr>).)*Closes in three days.*?</tr>", html, re.S).group(0)
    assert re.search(r"2 / 5\s*<span class=\"below-minimum\">\(3 short\)</span>", soon_row)
    full_row = re.search(r"<tr>(?:(?!</tr>).)*Already running fine.*?</tr>", html, re.S).group(0)
    assert "3 / 2" in full_row and "short" not in full_row
    assert "awaiting the week-out decision" in re.search(r"<tr>(?:(?!</tr>).)*Awaiting decision.*?</tr>", html,
                                                         re.S).group(0)
    assert far.title not in html and decided.title not in html
    # Soonest cutoff first.
    assert html.index(overdue.title) < html.index("Closes in three days") < html.index("Already running fine")


def test_near_cutoff_respects_each_semesters_cutoff_days():
    course = course_with_meetings(first=local_dt(today() + dt.timedelta(days=40), 18))
    course.semester.cutoff_days = 30  # closes in ten days
    course.semester.save()
    assert [c.course for c in courses_near_cutoff(now=timezone.now())] == [course]
    course.semester.cutoff_days = 7  # closes in 33 days
    course.semester.save()
    assert courses_near_cutoff(now=timezone.now()) == []


# --- holds and offers -------------------------------------------------------------------------

def test_open_holds_and_waitlist_offers(staff_client):
    course = course_with_meetings(title="Popular class")
    soon = timezone.now() + dt.timedelta(minutes=10)
    RegistrationFactory(course=course, status=S.HELD, expires_at=soon, attendee_first_name="Holly")
    RegistrationFactory(course=course, status=S.HELD, expires_at=soon)
    offer = RegistrationFactory(course=course, status=S.OFFERED, expires_at=soon + dt.timedelta(hours=40),
                                attendee_first_name="Offeria")
    RegistrationFactory(course=course, status=S.HELD, expires_at=timezone.now() - dt.timedelta(minutes=1),
                        attendee_first_name="Lapsed")
    RegistrationFactory.create_batch(4, course=course, status=S.WAITLISTED)

    html = section(dashboard_html(staff_client), "dashboard-holds")
    assert "(2 holds, 1 offer; 4 on waitlists)" in html
    assert "Holly" in html and "Offeria" in html and "Lapsed" not in html
    assert reverse("admin:enrollment_registration_change", args=[offer.pk]) in html


# --- refunds to issue -------------------------------------------------------------------------

def make_refunds():
    check = RefundFactory(payment=PaymentFactory(provider=Payment.Provider.CHECK), amount=Decimal("40.00"),
                          reason="Cancelled before the cutoff")
    failed = RefundFactory(payment=PaymentFactory(provider=Payment.Provider.CARD, reference="pi_failed"),
                           amount=Decimal("25.00"), status=Refund.Status.FAILED)
    card_in_progress = RefundFactory(payment=PaymentFactory(provider=Payment.Provider.CARD, reference="pi_ok"))
    done = RefundFactory(payment=PaymentFactory(provider=Payment.Provider.CASH), status=Refund.Status.DONE)
    return check, failed, card_in_progress, done


def test_refunds_to_issue_for_finance_and_the_coordinator(staff_client, django_user_model):
    check, failed, card_in_progress, done = make_refunds()
    finance = role_client(django_user_model, FINANCE, "money")
    for client in (staff_client, finance):
        html = section(dashboard_html(client), "dashboard-refunds")
        assert html is not None
        assert "Refunds to issue (2, $65.00" in html and "1 failed" in html
        assert reverse("admin:finance_refund_change", args=[check.pk]) in html
        assert reverse("admin:finance_refund_change", args=[failed.pk]) in html
        assert reverse("admin:finance_refund_change", args=[card_in_progress.pk]) not in html  # Stripe's job
        assert reverse("admin:finance_refund_change", args=[done.pk]) not in html


def test_refunds_are_hidden_from_the_front_desk(django_user_model):
    make_refunds()
    desk = role_client(django_user_model, FRONT_DESK, "desk")
    html = dashboard_html(desk)
    assert section(html, "dashboard-refunds") is None
    assert "Refunds to issue" not in html and "$65.00" not in html
    assert section(html, "dashboard-week") is not None  # the rest of the dashboard is there
    assert dashboard_build(user=desk.user).refunds is None


# --- failed messages --------------------------------------------------------------------------

def test_failed_messages(staff_client, django_user_model):
    OutboxMessageFactory.create_batch(2, subject="Your class is cancelled")
    OutboxMessageFactory(status=OutboxMessage.Status.SENT, subject="Delivered fine")
    html = section(dashboard_html(staff_client), "dashboard-messages")
    assert "Messages that failed (2)" in html
    assert html.count("Your class is cancelled") == 2 and "Delivered fine" not in html
    # The front desk sees that messages failed, not the outbox (recipients' addresses).
    desk_html = section(dashboard_html(role_client(django_user_model, FRONT_DESK, "desk")), "dashboard-messages")
    assert "Messages that failed (2)" in desk_html and "Your class is cancelled" not in desk_html


def test_dashboard_is_above_the_list_of_models(staff_client):
    html = dashboard_html(staff_client)
    assert html.index('id="staff-dashboard"') < html.index('class="app-classes module')
    assert reverse("rosters:index") in html


# --- a constant number of queries -------------------------------------------------------------

def populate(n: int) -> None:
    """``n`` courses that each show up in every section of the dashboard."""
    soon = timezone.now() + dt.timedelta(minutes=10)
    for _ in range(n):
        course = course_with_meetings(first=local_dt(today() + dt.timedelta(days=10), 18), minimum=5)
        # This week's meeting is another course's: a course that met today at 9 has begun, so after
        # 9 a.m. it would no longer be "near its cutoff" (the test must not depend on the hour).
        course_with_meetings(first=local_dt(today(), 9), minimum=5)
        RegistrationFactory.create_batch(2, course=course)
        RegistrationFactory(course=course, status=S.HELD, expires_at=soon)
        RegistrationFactory(course=course, status=S.OFFERED, expires_at=soon)
        RegistrationFactory(course=course, status=S.WAITLISTED)
        RefundFactory(payment=PaymentFactory(provider=Payment.Provider.CHECK))
        OutboxMessageFactory()


def count_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("admin:index")).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("role", [None, FRONT_DESK])
def test_dashboard_query_count_is_constant(staff_client, django_user_model, role):
    client = staff_client if role is None else role_client(django_user_model, role, "someone")
    populate(5)
    count_queries(client)  # warm up: session, site options, permission cache
    few = count_queries(client)
    assert len(dashboard_build(user=client.user).near_cutoff) == 5
    populate(25)
    assert len(dashboard_build(user=client.user).near_cutoff) == 30
    assert count_queries(client) == few


# --- a registration's page: the audit trail, payments and refunds ----------------------------

def test_registration_page_shows_history_payments_and_refunds_with_who_and_when(staff_client, django_user_model):
    desk_user = django_user_model.objects.create_user("deskclerk", is_staff=True)
    finance_user = django_user_model.objects.create_user("bookkeeper", is_staff=True)
    registration = RegistrationFactory(status=S.CANCELLED)
    RegistrationEvent.objects.create(registration=registration, actor=None, actor_label="patron", from_status="",
                                     to_status=S.HELD, reason="Online checkout")
    RegistrationEvent.objects.create(registration=registration, actor=desk_user, actor_label="deskclerk",
                                     from_status=S.CONFIRMED, to_status=S.CANCELLED, reason="Patron phoned: moving")
    taken = timezone.make_aware(dt.datetime(2027, 3, 2, 10, 15))
    payment = PaymentFactory(order=registration.order, registrations=[registration], provider=Payment.Provider.CHECK,
                             reference="4711", payer="J. Smith", taken_by=desk_user, succeeded_at=taken)
    card = PaymentFactory(order=registration.order, registrations=[registration], provider=Payment.Provider.CARD,
                          reference="pi_123", taken_by=None)
    done_at = timezone.make_aware(dt.datetime(2027, 3, 5, 16, 45))
    RefundFactory(payment=payment, registration=registration, amount=Decimal("25.00"), status=Refund.Status.DONE,
                  reason="Cancelled before the cutoff: full refund", reference="chk-9001", issued_by=finance_user,
                  done_at=done_at)

    response = staff_client.get(reverse("admin:enrollment_registration_change", args=[registration.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Patron phoned: moving" in html and "deskclerk" in html and "Online checkout" in html

    payments = re.search(r'id="registration-payments".*?</fieldset>', html, re.S).group(0)
    assert "4711" in payments and "J. Smith" in payments and "deskclerk" in payments
    assert "Mar 2, 2027 10:15 AM" in payments
    assert "pi_123" in payments and "patron, online" in payments
    assert reverse("admin:finance_payment_change", args=[card.pk]) in payments

    refunds = re.search(r'id="registration-refunds".*?</fieldset>', html, re.S).group(0)
    assert "Cancelled before the cutoff: full refund" in refunds and "chk-9001" in refunds
    assert "bookkeeper" in refunds and "Mar 5, 2027 4:45 PM" in refunds


def test_registration_page_for_the_front_desk_shows_payments_without_links_to_finance(django_user_model):
    registration = RegistrationFactory()
    payment = PaymentFactory(order=registration.order, registrations=[registration], reference="5150")
    desk = role_client(django_user_model, FRONT_DESK, "desk")
    html = desk.get(reverse("admin:enrollment_registration_change", args=[registration.pk])).content.decode()
    assert "5150" in html and "No refunds." in html
    assert reverse("admin:finance_payment_change", args=[payment.pk]) not in html


def test_registration_page_query_count_does_not_grow_with_payments(staff_client):
    registration = RegistrationFactory()

    def count():
        with CaptureQueriesContext(connection) as ctx:
            url = reverse("admin:enrollment_registration_change", args=[registration.pk])
            assert staff_client.get(url).status_code == 200
        return len(ctx.captured_queries)

    PaymentFactory(order=registration.order, registrations=[registration])
    count()
    few = count()
    for _ in range(4):
        payment = PaymentFactory(order=registration.order, registrations=[registration])
        RefundFactory(payment=payment, registration=registration)
    assert count() == few


def test_the_dashboard_links_each_role_to_its_pages(client):
    from django.contrib.auth import get_user_model

    roles_sync(Group, Permission)
    links = {"Front desk": "/staff/desk/", "Refunds to issue": "/staff/money/refunds/to-issue/",
             "Deposit report": "/staff/money/deposits/"}
    expected = {FRONT_DESK: {"Front desk"}, FINANCE: {"Front desk", "Refunds to issue", "Deposit report"}}
    for role, wanted in expected.items():
        user = get_user_model().objects.create_user(f"user-{len(role)}", password="a-long-passw0rd", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        c = Client()
        c.force_login(user)
        html = c.get(reverse("admin:index")).content.decode()
        shown = {label for label, href in links.items() if f'href="{href}"' in html}
        assert shown == wanted, role


# --- Pass the Buck at a glance ----------------------------------------------------------------

def test_the_fund_glance_shows_finance_the_balance_and_the_scholarship_waitlist(django_user_model):
    from finance.services.fund import fund_donation_record
    from tests.factories import ScholarshipWaitFactory

    fund_donation_record(amount=Decimal("140.00"), dedupe_key="donation:glance")
    ScholarshipWaitFactory.create_batch(2)
    ScholarshipWaitFactory(status="offered")
    html = dashboard_html(role_client(django_user_model, FINANCE, "fiona"))
    glance = re.search(r'<div class="module dashboard-section" id="dashboard-fund">.*?</div>', html, re.S).group(0)
    assert "The fund holds <strong>$140.00</strong>" in glance
    assert "2 waiting for donations, 1 offered a seat" in glance
    # Who waits for a scholarship is private: the front desk sees no such section.
    desk_html = dashboard_html(role_client(django_user_model, FRONT_DESK, "dana"))
    assert 'id="dashboard-fund"' not in desk_html and "scholarship" not in desk_html.lower()
