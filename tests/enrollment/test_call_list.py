"""The week-out pages of the back office: the printable call list (patrons without e-mail, what to
tell them, marking a call with who and when), upcoming cutoffs and recent decisions, who may see
them, and a query count that does not grow with the number of courses."""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from classes.models import Course
from core.roles import FINANCE, FRONT_DESK, roles_sync
from enrollment.messages import call_script
from enrollment.models import CallListEntry, CourseDecision, Order, Registration
from enrollment.services.call_list import call_mark
from finance.refund_words import RefundNote, RefundPart
from tests.factories import (
    CallListEntryFactory,
    CourseDecisionFactory,
    OrderFactory,
    RegistrationFactory,
    course_with_meetings,
    local_dt,
    today,
)

pytestmark = pytest.mark.django_db

S = Registration.Status
Topic = CallListEntry.Topic
Outcome = CallListEntry.Outcome


def role_user(django_user_model, role: str, username: str):
    if not Group.objects.filter(name=role).exists():
        roles_sync(Group, Permission)
    user = django_user_model.objects.create_user(username, f"{username}@library.example", "a-long-passw0rd",
                                                 is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def desk_user(django_user_model):
    return role_user(django_user_model, FRONT_DESK, "desk")


@pytest.fixture
def front_desk(desk_user):
    client = Client()
    client.force_login(desk_user)
    client.user = desk_user
    return client


@pytest.fixture
def finance(django_user_model):
    client = Client()
    client.force_login(role_user(django_user_model, FINANCE, "money"))
    return client


@pytest.fixture
def course():
    """A course the week-out run decided to run: first meeting a week from today."""
    return course_with_meetings(first=local_dt(today() + dt.timedelta(days=7), 18, 30), weekly=2,
                                title="Sourdough at Home", status=Course.Status.RUNNING, minimum=3)


@pytest.fixture
def cancelled():
    return course_with_meetings(first=local_dt(today() + dt.timedelta(days=8), 10), title="Beginning Watercolor",
                                status=Course.Status.CANCELLED)


def no_email(course, first, last, phone, **kwargs):
    order = OrderFactory(first_name=first, last_name=last, email="", phone=phone, channel=Order.Channel.DESK)
    return RegistrationFactory(course=course, order=order, attendee_first_name=first, attendee_last_name=last,
                               **kwargs)


@pytest.fixture
def calls(course, cancelled):
    """What the week-out run leaves: a call per registrant without e-mail; those with e-mail got mail."""
    RegistrationFactory(course=course, attendee_first_name="Emma", attendee_last_name="Mailer",
                        order=OrderFactory(first_name="Emma", last_name="Mailer", email="emma@example.org"))
    people = {
        "ruth": no_email(course, "Ruth", "Ortiz", "785-555-0131"),
        "walt": no_email(course, "Walt", "Kim", "785-555-0132"),
        "gus": no_email(cancelled, "Gus", "Ng", "785-555-0133", status=S.CANCELLED,
                        confirmed_at=timezone.now() - dt.timedelta(days=20), cancelled_at=timezone.now()),
    }
    entries = {}
    cash = RefundNote(parts=(RefundPart(provider="cash", amount=Decimal("45.00")),))  # finance's, for Gus
    for key, registration in people.items():
        topic = Topic.CANCELLATION if registration.course_id == cancelled.pk else Topic.REMINDER
        entries[key] = CallListEntry.objects.create(registration=registration, topic=topic,
                                                    script=call_script(registration, topic, refunds=cash))
    return entries


def rows(html: str) -> list[str]:
    table = re.search(r'<table[^>]*id="call-list".*?</table>', html, re.S).group(0)
    return re.findall(r'<tr class="call-row[^"]*".*?</tr>', table, re.S)


# --- the call list ------------------------------------------------------------------------------

def test_call_list_prints_one_row_per_patron_without_email(front_desk, calls):
    response = front_desk.get(reverse("weekout:calls"))
    assert response.status_code == 200
    html = response.content.decode()
    found = rows(html)
    assert len(found) == 3
    assert "Emma Mailer" not in html
    ruth = next(row for row in found if "Ruth Ortiz" in row)
    assert "785-555-0131" in ruth and "Sourdough at Home" in ruth and "Reminder: the class runs" in ruth
    assert "the first meeting is" in ruth and "The instructor is" in ruth  # what to tell them
    gus = next(row for row in found if "Gus Ng" in row)
    assert "The class is cancelled" in gus and "full refund of everything they paid" in gus and "cash or check" in gus
    # printable: the print stylesheet, a print button, boxes to tick on paper; forms are not printed
    assert "css/weekout.css" in html and "data-print" in html and "js/staff.js" in html  # staff.js prints
    assert 'class="print-only paper-outcome"' in ruth
    assert re.search(r'<form[^>]*class="no-print call-mark"', ruth)
    assert '<option value="" selected>What happened?</option>' in ruth  # nothing recorded by a stray click


def test_print_stylesheet_hides_the_forms_and_the_back_office():
    css = (Path(settings.BASE_DIR) / "static" / "css" / "weekout.css").read_text()
    print_rules = css[css.index("@media print"):]
    hidden = re.search(r"([^{}]*){\s*display:\s*none !important;\s*}", print_rules).group(1)
    assert ".no-print" in hidden and "#header" in hidden and ".breadcrumbs" in hidden
    assert re.search(r"\.print-only\s*{\s*display:\s*block", print_rules)
    assert re.search(r"\.call-table tr\s*{[^}]*break-inside:\s*avoid", print_rules)


def test_marking_a_call_records_who_when_and_the_outcome(front_desk, desk_user, calls):
    entry = calls["ruth"]
    before = timezone.now()
    response = front_desk.post(reverse("weekout:call-mark", args=[entry.pk]), {
        f"call-{entry.pk}-outcome": Outcome.SPOKE, f"call-{entry.pk}-notes": "Will bring her own apron",
        "next": reverse("weekout:calls") + "?status=todo",
    })
    assert response.status_code == 302 and response["Location"] == reverse("weekout:calls") + "?status=todo"
    entry.refresh_from_db()
    assert entry.outcome == Outcome.SPOKE and entry.notes == "Will bring her own apron"
    assert entry.called_by == desk_user and before <= entry.called_at <= timezone.now()

    todo = rows(front_desk.get(reverse("weekout:calls")).content.decode())  # "not called yet" by default
    assert len(todo) == 2 and not [row for row in todo if "Ruth Ortiz" in row]
    called = front_desk.get(reverse("weekout:calls") + "?status=called").content.decode()
    [row] = rows(called)
    assert "Ruth Ortiz" in row and "Spoke with them" in row and "desk" in row and "Will bring her own apron" in row
    assert len(rows(front_desk.get(reverse("weekout:calls") + "?status=all").content.decode())) == 3


def test_a_call_can_be_marked_again(front_desk, desk_user, calls):
    entry = calls["walt"]
    call_mark(entry_id=entry.pk, outcome=Outcome.MESSAGE, notes="Voicemail", actor=None,
              now=timezone.now() - dt.timedelta(hours=3))
    call_mark(entry_id=entry.pk, outcome=Outcome.SPOKE, notes="Called back", actor=desk_user)
    entry.refresh_from_db()
    assert (entry.outcome, entry.notes, entry.called_by) == (Outcome.SPOKE, "Called back", desk_user)
    assert timezone.now() - entry.called_at < dt.timedelta(minutes=1)


@pytest.mark.parametrize("outcome", ["", "maybe"])
def test_marking_needs_a_real_outcome(front_desk, calls, outcome):
    entry = calls["ruth"]
    response = front_desk.post(reverse("weekout:call-mark", args=[entry.pk]),
                               {f"call-{entry.pk}-outcome": outcome}, follow=True)
    assert "Choose what happened on the call" in response.content.decode()
    entry.refresh_from_db()
    assert entry.called_at is None and entry.outcome == "" and entry.called_by is None
    with pytest.raises(ValueError):
        call_mark(entry_id=entry.pk, outcome=outcome, notes="", actor=None)


def test_marking_never_redirects_off_site(front_desk, calls):
    entry = calls["ruth"]
    response = front_desk.post(reverse("weekout:call-mark", args=[entry.pk]), {
        f"call-{entry.pk}-outcome": Outcome.NO_ANSWER, "next": "https://evil.example/phish"})
    assert response["Location"] == reverse("weekout:calls")


def test_filter_by_course(front_desk, calls, cancelled):
    html = front_desk.get(reverse("weekout:calls") + f"?status=all&course={cancelled.pk}").content.decode()
    [row] = rows(html)
    assert "Gus Ng" in row
    assert f'<option value="{cancelled.pk}" selected>Beginning Watercolor' in html


def test_marking_is_only_a_post(front_desk, calls):
    entry = calls["ruth"]
    assert front_desk.get(reverse("weekout:call-mark", args=[entry.pk])).status_code == 405


# --- who may see and mark ------------------------------------------------------------------------

def test_front_desk_sees_both_pages_and_marks_calls(front_desk, calls):
    assert front_desk.get(reverse("weekout:calls")).status_code == 200
    assert front_desk.get(reverse("weekout:index")).status_code == 200
    entry = calls["ruth"]
    response = front_desk.post(reverse("weekout:call-mark", args=[entry.pk]), {f"call-{entry.pk}-outcome": "spoke"})
    assert response.status_code == 302


def test_finance_gets_403_and_changes_nothing(finance, calls):
    assert finance.get(reverse("weekout:calls")).status_code == 403
    assert finance.get(reverse("weekout:index")).status_code == 403
    entry = calls["ruth"]
    response = finance.post(reverse("weekout:call-mark", args=[entry.pk]), {f"call-{entry.pk}-outcome": "spoke"})
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.called_at is None


def test_view_permission_alone_sees_the_list_without_forms(client, django_user_model, calls):
    user = django_user_model.objects.create_user("viewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_calllistentry"))
    client.force_login(user)
    html = client.get(reverse("weekout:calls")).content.decode()
    assert len(rows(html)) == 3 and "call-mark" not in html
    entry = calls["ruth"]
    assert client.post(reverse("weekout:call-mark", args=[entry.pk]),
                       {f"call-{entry.pk}-outcome": "spoke"}).status_code == 403
    assert client.get(reverse("weekout:index")).status_code == 403  # decisions need their own permission


@pytest.mark.parametrize("who", ["anonymous", "patron"])
def test_anonymous_and_non_staff_go_to_the_login(client, django_user_model, calls, who):
    if who == "patron":
        client.force_login(django_user_model.objects.create_user("patron"))
    entry = calls["ruth"]
    for method, url in [("get", reverse("weekout:calls")), ("get", reverse("weekout:index")),
                        ("post", reverse("weekout:call-mark", args=[entry.pk]))]:
        response = getattr(client, method)(url, {f"call-{entry.pk}-outcome": "spoke"} if method == "post" else {})
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login") + "?next="), url
    entry.refresh_from_db()
    assert entry.called_at is None


def test_the_dashboard_links_to_both_pages_for_the_front_desk(front_desk, finance):
    html = front_desk.get(reverse("admin:index")).content.decode()
    assert f'href="{reverse("weekout:calls")}"' in html and f'href="{reverse("weekout:index")}"' in html
    html = finance.get(reverse("admin:index")).content.decode()
    assert reverse("weekout:calls") not in html and reverse("weekout:index") not in html


# --- upcoming cutoffs and recent decisions ---------------------------------------------------------

def section(html: str, element_id: str) -> str:
    return re.search(rf'<table[^>]*id="{element_id}".*?</table>', html, re.S).group(0)


def test_upcoming_cutoffs_show_the_cutoff_and_confirmed_against_the_minimum(front_desk):
    first = local_dt(today() + dt.timedelta(days=20), 18, 30)
    short = course_with_meetings(first=first, title="Knife Skills", minimum=5)
    RegistrationFactory.create_batch(2, course=short)
    RegistrationFactory(course=short, status=S.WAITLISTED)
    full = course_with_meetings(first=first + dt.timedelta(days=1), title="Pie Crust", minimum=2)
    RegistrationFactory.create_batch(3, course=full)
    course_with_meetings(first=first, title="Draft Class", status=Course.Status.DRAFT)
    course_with_meetings(first=first, title="Already Running", status=Course.Status.RUNNING)

    html = section(front_desk.get(reverse("weekout:index")).content.decode(), "upcoming-cutoffs")
    assert "Draft Class" not in html and "Already Running" not in html
    assert html.index("Knife Skills") < html.index("Pie Crust")  # soonest cutoff first
    knife = re.search(r"<tr[^>]*>\s*<th[^>]*>.*?Knife Skills.*?</tr>", html, re.S).group(0)
    closes = short.registration_closes_at
    last = timezone.localtime(closes).date() - dt.timedelta(days=1)  # the last day to register, inclusive
    assert f"Register by {last:%a, %b} {last.day}" in knife
    assert "2 / 5" in knife and "(3 short)" in knife
    nudge_day = timezone.localtime(closes).date() - dt.timedelta(days=3)  # EnrollmentOptions.nudge_days
    assert nudge_day.strftime("%b %-d") in knife
    pie = re.search(r"<tr[^>]*>\s*<th[^>]*>.*?Pie Crust.*?</tr>", html, re.S).group(0)
    assert "3 / 2" in pie and "enough to run" in pie


def test_a_course_past_its_cutoff_and_still_open_is_flagged(front_desk):
    course_with_meetings(first=local_dt(today() + dt.timedelta(days=3), 18), title="Late Decision")
    html = section(front_desk.get(reverse("weekout:index")).content.decode(), "upcoming-cutoffs")
    assert "Late Decision" in html and "awaiting the decision" in html


def test_recent_decisions_show_outcome_counts_who_and_why(front_desk, desk_user):
    now = timezone.now()
    CourseDecisionFactory(course__title="Canning 101", confirmed_count=6, minimum=4,
                          decided_at=now - dt.timedelta(hours=2))
    CourseDecisionFactory(course__title="Tai Chi", course__status=Course.Status.CANCELLED,
                          outcome=CourseDecision.Outcome.CANCELLED, confirmed_count=1, minimum=5,
                          automatic=False, decided_by=desk_user, reason="Instructor is ill",
                          decided_at=now - dt.timedelta(hours=1))
    CourseDecisionFactory(course__title="Old News", decided_at=now - dt.timedelta(days=90))
    html = section(front_desk.get(reverse("weekout:index")).content.decode(), "recent-decisions")
    assert "Old News" not in html
    assert html.index("Tai Chi") < html.index("Canning 101")  # newest first
    canning = re.search(r"<tr[^>]*>\s*<th[^>]*>.*?Canning 101.*?</tr>", html, re.S).group(0)
    assert "Runs" in canning and "6 / 4" in canning and "Automatic" in canning
    tai = re.search(r"<tr[^>]*>\s*<th[^>]*>.*?Tai Chi.*?</tr>", html, re.S).group(0)
    assert "Cancelled" in tai and "1 / 5" in tai and "desk" in tai and "Instructor is ill" in tai


def populate(n: int) -> None:
    """``n`` open courses with registrations, and ``n`` decisions."""
    for _ in range(n):
        course = course_with_meetings(first=local_dt(today() + dt.timedelta(days=12), 18), weekly=2, minimum=4)
        RegistrationFactory.create_batch(2, course=course)
        RegistrationFactory(course=course, status=S.WAITLISTED)
        CourseDecisionFactory()


def count_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("weekout:index")).status_code == 200
    return len(ctx.captured_queries)


def test_upcoming_cutoffs_page_runs_a_fixed_number_of_queries(front_desk):
    populate(5)
    count_queries(front_desk)  # warm up: session, permissions, options
    few = count_queries(front_desk)
    populate(25)
    html = front_desk.get(reverse("weekout:index")).content.decode()
    assert "Upcoming cutoffs (30)" in html and "Recent decisions (30," in html
    assert count_queries(front_desk) == few


def test_call_list_runs_a_fixed_number_of_queries(front_desk):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert front_desk.get(reverse("weekout:calls") + "?status=all").status_code == 200
        return len(ctx.captured_queries)

    CallListEntryFactory.create_batch(5)
    count()
    few = count()
    CallListEntryFactory.create_batch(25)
    assert count() == few
