"""Class rosters in the back office (``enrollment.staff.rosters``): who is on a roster and who is not,
the CSV and its injection guard, printing (one page per course, a column per meeting), taking
attendance (``enrollment.services.attendance``), no-show flags, and who may see what."""

import csv
import datetime as dt
import io
import re
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
from enrollment.models import Attendance, Registration
from enrollment.selectors.rosters import is_no_show
from enrollment.services.attendance import AttendanceError, attendance_mark
from enrollment.staff.rosters import csv_cell
from tests.factories import (
    MeetingFactory,
    OrderFactory,
    RegistrationFactory,
    SemesterFactory,
    course_with_meetings,
    local_dt,
    today,
)

pytestmark = pytest.mark.django_db

S = Registration.Status


# --- fixtures ---------------------------------------------------------------------------------

def role_user(django_user_model, role: str, username: str):
    if not Group.objects.filter(name=role).exists():
        roles_sync(Group, Permission)
    user = django_user_model.objects.create_user(username, f"{username}@library.example", "a-long-passw0rd",
                                                 is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def front_desk(django_user_model):
    client = Client()
    client.force_login(role_user(django_user_model, FRONT_DESK, "desk"))
    return client


@pytest.fixture
def finance(django_user_model):
    client = Client()
    client.force_login(role_user(django_user_model, FINANCE, "money"))
    return client


@pytest.fixture
def course():
    """A running course of three weekly meetings: two weeks ago, last week, and today."""
    return course_with_meetings(first=local_dt(today() - dt.timedelta(days=14), 9, 30), weekly=3,
                                title="Knitting for Beginners", status=Course.Status.RUNNING)


def reg(course, first, last, status=S.CONFIRMED, **kwargs):
    if status in (S.HELD, S.OFFERED):
        kwargs.setdefault("expires_at", timezone.now() + dt.timedelta(hours=2))
    return RegistrationFactory(course=course, attendee_first_name=first, attendee_last_name=last, status=status,
                               **kwargs)


@pytest.fixture
def people(course):
    other = course_with_meetings(first=local_dt(today() - dt.timedelta(days=14), 12), title="Pottery",
                                 status=Course.Status.RUNNING)
    return {
        "zoe": reg(course, "Zoe", "Young", order=OrderFactory(phone="785-555-0111", email="zoe@example.org")),
        "al": reg(course, "Al", "Baker", order=OrderFactory(phone="785-555-0122", email="al@example.org")),
        "held": reg(course, "Hal", "Held", status=S.HELD),
        "cancelled": reg(course, "Cass", "Cancelled", status=S.CANCELLED),
        "expired": reg(course, "Ex", "Pired", status=S.EXPIRED),
        "transferred": reg(course, "Tran", "Sferred", status=S.TRANSFERRED),
        "waiting": reg(course, "Wendy", "Waits", status=S.WAITLISTED),
        "offered": reg(course, "Otto", "Offered", status=S.OFFERED),
        "other": reg(other, "Olga", "Elsewhere"),
    }


def section(html: str, element_id: str) -> str:
    """The HTML of the table with ``element_id``."""
    match = re.search(rf'<table[^>]*id="{element_id}".*?</table>', html, re.S)
    assert match, f"no #{element_id}"
    return match.group(0)


# --- the roster -------------------------------------------------------------------------------

def test_roster_lists_confirmed_attendees_only_and_the_waitlist_apart(staff_client, course, people):
    response = staff_client.get(reverse("rosters:course", args=[course.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    attendees = section(html, "roster-attendees")
    waiting = section(html, "roster-waiting")

    assert "Al Baker" in attendees and "Zoe Young" in attendees
    assert attendees.index("Al Baker") < attendees.index("Zoe Young")  # by last name
    for name in ("Hal Held", "Cass Cancelled", "Ex Pired", "Tran Sferred", "Wendy Waits", "Otto Offered",
                 "Olga Elsewhere"):
        assert name not in attendees
    assert "Otto Offered" in waiting and "Wendy Waits" in waiting
    assert waiting.index("Otto Offered") < waiting.index("Wendy Waits")  # the offer first, then the line
    for name in ("Hal Held", "Cass Cancelled", "Ex Pired", "Al Baker"):
        assert name not in waiting
    assert "785-555-0111" in attendees and "zoe@example.org" in attendees
    assert response.context["roster"].confirmed_count == 2


def test_roster_shows_marks_per_meeting(staff_client, course, people):
    meetings = course.ordered_meetings()
    attendance_mark(meeting=meetings[0], marks={people["al"].pk: True, people["zoe"].pk: False},
                    actor=staff_client.user)
    html = staff_client.get(reverse("rosters:course", args=[course.pk])).content.decode()
    attendees = section(html, "roster-attendees")
    al_row = re.search(r"<tr[^>]*>\s*<th scope=\"row\">Al Baker</th>.*?</tr>", attendees, re.S).group(0)
    zoe_row = re.search(r"<tr[^>]*>\s*<th scope=\"row\">Zoe Young</th>.*?</tr>", attendees, re.S).group(0)
    assert al_row.count("mark-present") == 1 and "mark-absent" not in al_row
    assert zoe_row.count("mark-absent") == 1 and "No-show" in zoe_row and 'class="no-show"' in zoe_row
    assert "No-show" not in al_row.split("</th>", 1)[1]


def test_age_column_only_where_the_class_asks_it(staff_client, people):
    kids = course_with_meetings(title="Lego robots", audience=Course.Audience.KIDS, age_min=8, age_max=12)
    reg(kids, "Kid", "Builder", attendee_age=9)
    html = staff_client.get(reverse("rosters:course", args=[kids.pk])).content.decode()
    assert ">Age</th>" in section(html, "roster-attendees")
    assert "<td>9</td>" in section(html, "roster-attendees")
    adults = people["zoe"].course
    html = staff_client.get(reverse("rosters:course", args=[adults.pk])).content.decode()
    assert ">Age</th>" not in section(html, "roster-attendees")


def test_roster_of_an_unknown_course_is_404(staff_client):
    assert staff_client.get(reverse("rosters:course", args=[999999])).status_code == 404


def test_roster_index_lists_the_semester_courses(staff_client, course, people):
    draft = course_with_meetings(title="Secret draft", status=Course.Status.DRAFT, semester=course.semester)
    response = staff_client.get(reverse("rosters:index"), {"semester": course.semester.pk})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Knitting for Beginners" in html and reverse("rosters:course-csv", args=[course.pk]) in html
    assert draft.title not in html


# --- CSV --------------------------------------------------------------------------------------

def read_csv(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith("\ufeff".encode())  # the BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_csv_has_attendees_contacts_status_and_attendance(staff_client, course, people):
    meetings = course.ordered_meetings()
    attendance_mark(meeting=meetings[0], marks={people["al"].pk: True, people["zoe"].pk: False},
                    actor=staff_client.user)
    attendance_mark(meeting=meetings[1], marks={people["al"].pk: False}, actor=staff_client.user)

    response = staff_client.get(reverse("rosters:course-csv", args=[course.pk]))
    assert response.status_code == 200
    assert f'filename="roster-{course.semester.slug}-{course.slug}.csv"' in response["Content-Disposition"]
    rows = read_csv(response)
    header = rows[0]
    assert header[:5] == ["Attendee", "Buyer phone", "Buyer e-mail", "Status", "No-show"]
    assert len(header) == 5 + 3 and header[5].startswith("Meeting 1 (")
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["Al Baker"] == ["Al Baker", "785-555-0122", "al@example.org", "Confirmed", "", "present", "absent",
                                   ""]
    assert by_name["Zoe Young"][3:] == ["Confirmed", "no-show", "absent", "", ""]
    assert [row[0] for row in rows[1:]] == ["Al Baker", "Zoe Young", "Otto Offered", "Wendy Waits"]
    assert by_name["Wendy Waits"][3] == "On the waitlist"
    assert "Hal Held" not in by_name and "Cass Cancelled" not in by_name


def test_csv_guards_against_formula_injection(staff_client, course):
    evil = OrderFactory(phone="+1 785 555 0100", email="@sum@example.org")
    reg(course, "=HYPERLINK(\"http://evil\")", "-Minus", order=evil)
    reg(course, "Ünïcödé", "Çafé", order=OrderFactory(phone="785-555-0199"))

    rows = read_csv(staff_client.get(reverse("rosters:course-csv", args=[course.pk])))
    by_phone = {row[1]: row for row in rows[1:]}
    row = by_phone["'+1 785 555 0100"]
    assert row[0] == "'=HYPERLINK(\"http://evil\") -Minus"
    assert row[2] == "'@sum@example.org"
    assert by_phone["785-555-0199"][0] == "Ünïcödé Çafé"


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+2", "'=1+2"), ("+1", "'+1"), ("-2", "'-2"), ("@A1", "'@A1"), ("\t=x", "'\t=x"),
    ("Plain", "Plain"), ("a=b", "a=b"), ("", ""), (None, ""), (12, "12"),
])
def test_csv_cell(value, expected):
    assert csv_cell(value) == expected


# --- printing ---------------------------------------------------------------------------------

def test_print_page_has_a_column_per_meeting_and_a_box_per_attendee_and_meeting(staff_client, course, people):
    response = staff_client.get(reverse("rosters:course-print", args=[course.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="roster-sheet"') == 1
    sheet = re.search(r'<section class="roster-sheet".*?</section>', html, re.S).group(0)
    header = re.search(r"<thead>.*?</thead>", sheet, re.S).group(0)
    assert header.count('class="meeting-col"') == 3
    rows = re.findall(r'<tr class="attendee-row.*?</tr>', sheet, re.S)
    assert len(rows) == 2 and all(row.count('class="mark-box"') == 3 for row in rows)
    assert "Hal Held" not in sheet and "Otto Offered" in sheet  # waiting names are listed apart
    assert "css/print.css" in html


def test_print_stylesheet_puts_each_course_on_its_own_page():
    css = (Path(settings.BASE_DIR) / "static" / "css" / "print.css").read_text()
    print_rules = css[css.index("@media print"):]
    assert re.search(r"\.roster-sheet\s*{[^}]*page-break-after:\s*always", print_rules)
    assert re.search(r"\.roster-sheet\s*{[^}]*break-after:\s*page", print_rules)
    assert "#header" in print_rules and "display: none" in print_rules


def test_print_all_rosters_of_a_semester_one_section_per_course(staff_client, course, people):
    semester = course.semester
    second = course_with_meetings(title="Watercolor", semester=semester, weekly=2,
                                  first=local_dt(today() + dt.timedelta(days=30), 18))
    course_with_meetings(title="Cancelled class", semester=semester, status=Course.Status.CANCELLED)
    course_with_meetings(title="Another semester", semester=SemesterFactory())

    html = staff_client.get(reverse("rosters:print"), {"semester": semester.pk}).content.decode()
    sheets = re.findall(r'<section class="roster-sheet".*?</section>', html, re.S)
    assert len(sheets) == 2
    assert "Knitting for Beginners" in sheets[0] and "Watercolor" in sheets[1]  # by first meeting
    assert re.search(r"<thead>.*?</thead>", sheets[1], re.S).group(0).count('class="meeting-col"') == 2
    assert "Cancelled class" not in html and "Another semester" not in html
    assert second.title in html


def test_print_all_rosters_of_a_week(staff_client, course, people):
    next_month = course_with_meetings(title="Next month", semester=course.semester,
                                      first=local_dt(today() + dt.timedelta(days=30), 18))
    html = staff_client.get(reverse("rosters:print"), {"week": today().isoformat()}).content.decode()
    assert html.count('class="roster-sheet"') == 1 and "Knitting for Beginners" in html
    assert next_month.title not in html


def test_print_all_needs_a_semester_or_a_week(staff_client):
    response = staff_client.get(reverse("rosters:print"))
    assert response.status_code == 400
    assert "Choose a semester or a week to print." in response.content.decode()


def test_print_all_runs_a_fixed_number_of_queries(staff_client, course):
    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            response = staff_client.get(reverse("rosters:print"), {"semester": course.semester.pk})
        assert response.status_code == 200
        return len(ctx.captured_queries)

    def add_courses(n):
        for _ in range(n):
            extra = course_with_meetings(semester=course.semester, weekly=2,
                                         first=local_dt(today() + dt.timedelta(days=20), 10))
            reg(extra, "Pat", "One")
            reg(extra, "Sam", "Two", status=S.WAITLISTED)

    add_courses(2)
    count_queries()  # first request: the session, the site options row, the permission cache…
    few = count_queries()
    add_courses(8)
    assert count_queries() == few


# --- attendance: the service ------------------------------------------------------------------

def test_attendance_mark_creates_marks_with_who_and_when(course, people, admin_user):
    meeting = course.ordered_meetings()[0]
    now = timezone.now()
    result = attendance_mark(meeting=meeting, marks={people["al"].pk: True, people["zoe"].pk: False},
                             actor=admin_user, now=now)
    assert (result.created, result.changed, result.unchanged) == (2, 0, 0)
    marks = {a.registration_id: a for a in Attendance.objects.filter(meeting=meeting)}
    assert marks[people["al"].pk].present is True and marks[people["zoe"].pk].present is False
    assert all(a.marked_by == admin_user and a.marked_at == now for a in marks.values())


def test_attendance_mark_upserts_and_keeps_the_marker_of_unchanged_marks(course, people, admin_user,
                                                                         django_user_model):
    meeting = course.ordered_meetings()[0]
    first = timezone.now() - dt.timedelta(hours=1)
    attendance_mark(meeting=meeting, marks={people["al"].pk: True, people["zoe"].pk: True}, actor=admin_user,
                    now=first)
    other = django_user_model.objects.create_user("second", is_staff=True)
    later = timezone.now()
    result = attendance_mark(meeting=meeting, marks={people["al"].pk: True, people["zoe"].pk: False}, actor=other,
                             now=later)
    assert (result.created, result.changed, result.unchanged) == (0, 1, 1)
    assert Attendance.objects.filter(meeting=meeting).count() == 2
    al = Attendance.objects.get(meeting=meeting, registration=people["al"])
    zoe = Attendance.objects.get(meeting=meeting, registration=people["zoe"])
    assert (al.present, al.marked_by, al.marked_at) == (True, admin_user, first)
    assert (zoe.present, zoe.marked_by, zoe.marked_at) == (False, other, later)


@pytest.mark.parametrize("who", ["held", "cancelled", "expired", "waiting", "offered", "transferred", "other"])
def test_attendance_mark_takes_only_confirmed_attendees_of_the_course(course, people, admin_user, who):
    meeting = course.ordered_meetings()[0]
    with pytest.raises(AttendanceError, match="Only confirmed attendees"):
        attendance_mark(meeting=meeting, marks={people["al"].pk: True, people[who].pk: True}, actor=admin_user)
    assert not Attendance.objects.exists()  # all or nothing


def test_attendance_cannot_be_marked_before_the_meeting_day(course, people, admin_user):
    future = MeetingFactory(course=course, starts_at=local_dt(today() + dt.timedelta(days=7), 9, 30),
                            ends_at=local_dt(today() + dt.timedelta(days=7), 11))
    with pytest.raises(AttendanceError, match="has not happened yet"):
        attendance_mark(meeting=future, marks={people["al"].pk: True}, actor=admin_user)
    today_meeting = course.ordered_meetings()[2]
    early = timezone.localtime(today_meeting.starts_at).replace(hour=0, minute=1)
    assert attendance_mark(meeting=today_meeting, marks={people["al"].pk: True}, actor=admin_user,
                           now=early).created == 1


def test_attendance_is_not_taken_for_a_cancelled_course(course, people, admin_user):
    Course.objects.filter(pk=course.pk).update(status=Course.Status.CANCELLED)
    with pytest.raises(AttendanceError, match="cancelled"):
        attendance_mark(meeting=course.ordered_meetings()[0], marks={people["al"].pk: True}, actor=admin_user)


# --- attendance: the page ---------------------------------------------------------------------

def test_attendance_form_saves_through_the_service(front_desk, course, people):
    meeting = course.ordered_meetings()[0]
    url = reverse("rosters:attendance", args=[meeting.pk])
    page = front_desk.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'name="present_{people["al"].pk}"' in html and f'name="present_{people["zoe"].pk}"' in html
    assert "Hal Held" not in html and "Wendy Waits" not in html

    response = front_desk.post(url, {f"present_{people['al'].pk}": "on"})
    assert response.status_code == 302 and response["Location"] == reverse("rosters:course", args=[course.pk])
    marks = {a.registration_id: a for a in Attendance.objects.filter(meeting=meeting).select_related("marked_by")}
    assert marks[people["al"].pk].present is True
    assert marks[people["zoe"].pk].present is False  # not ticked = absent
    assert {a.marked_by.username for a in marks.values()} == {"desk"}

    again = front_desk.get(url).content.decode()
    assert re.search(rf'name="present_{people["al"].pk}"[^>]*checked', again)
    assert "by desk" in again


def test_attendance_form_ignores_posted_ids_of_other_registrations(front_desk, course, people):
    meeting = course.ordered_meetings()[0]
    front_desk.post(reverse("rosters:attendance", args=[meeting.pk]),
                    {f"present_{people['held'].pk}": "on", f"present_{people['other'].pk}": "on"})
    assert set(Attendance.objects.values_list("registration_id", flat=True)) == {people["al"].pk, people["zoe"].pk}


def test_attendance_form_for_a_future_meeting_says_so_and_saves_nothing(front_desk, course, people):
    future = MeetingFactory(course=course, starts_at=local_dt(today() + dt.timedelta(days=7), 9, 30),
                            ends_at=local_dt(today() + dt.timedelta(days=7), 11))
    url = reverse("rosters:attendance", args=[future.pk])
    assert "has not happened yet" in front_desk.get(url).content.decode()
    response = front_desk.post(url, {f"present_{people['al'].pk}": "on"})
    assert response.status_code == 400 and "has not happened yet" in response.content.decode()
    assert not Attendance.objects.exists()


# --- no-shows ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("marks", "expected"), [
    ([False, None, None], True),  # absent at the first meeting
    ([False, True, True], True),  # …even if they came later
    ([True, False, False], False),  # came once
    ([None, False, False], True),  # first meeting not taken; absent at every meeting taken since
    ([None, False, None], True),  # not marked is not "absent", nor "present"
    ([None, True, False], False),
    ([None, None, None], False),  # nothing taken yet
    ([], False),
])
def test_no_show_rule(marks, expected):
    assert is_no_show(marks) is expected


def test_no_shows_are_flagged_on_the_roster(staff_client, course, people):
    first, second, _ = course.ordered_meetings()
    late = reg(course, "Lee", "Late")
    attendance_mark(meeting=first, marks={people["al"].pk: True, people["zoe"].pk: False}, actor=staff_client.user)
    attendance_mark(meeting=second, marks={people["al"].pk: False, people["zoe"].pk: True, late.pk: False},
                    actor=staff_client.user)
    roster = staff_client.get(reverse("rosters:course", args=[course.pk])).context["roster"]
    flags = {row.name: row.no_show for row in roster.rows}
    # Zoe missed the first meeting; Lee (registered after it) missed every meeting he was marked at;
    # Al came to the first.
    assert flags == {"Al Baker": False, "Lee Late": True, "Zoe Young": True}
    assert roster.no_show_count == 2


# --- permissions ------------------------------------------------------------------------------

def roster_urls(course):
    meeting = course.ordered_meetings()[0]
    return [
        reverse("rosters:index"),
        reverse("rosters:course", args=[course.pk]),
        reverse("rosters:course-print", args=[course.pk]),
        reverse("rosters:course-csv", args=[course.pk]),
        reverse("rosters:print") + f"?semester={course.semester.pk}",
        reverse("rosters:attendance", args=[meeting.pk]),
    ]


def test_front_desk_may_see_rosters_and_take_attendance(front_desk, course, people):
    for url in roster_urls(course):
        assert front_desk.get(url).status_code == 200, url
    meeting = course.ordered_meetings()[0]
    response = front_desk.post(reverse("rosters:attendance", args=[meeting.pk]), {})
    assert response.status_code == 302


def test_finance_without_view_roster_gets_403(finance, course, people):
    for url in roster_urls(course):
        assert finance.get(url).status_code == 403, url
    meeting = course.ordered_meetings()[0]
    assert finance.post(reverse("rosters:attendance", args=[meeting.pk]), {}).status_code == 403
    assert not Attendance.objects.exists()


def test_view_roster_alone_cannot_take_attendance(client, django_user_model, course, people):
    user = django_user_model.objects.create_user("viewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_roster"))
    client.force_login(user)
    assert client.get(reverse("rosters:course", args=[course.pk])).status_code == 200
    html = client.get(reverse("rosters:course", args=[course.pk])).content.decode()
    assert "Take attendance" not in html
    assert client.get(reverse("rosters:attendance", args=[course.ordered_meetings()[0].pk])).status_code == 403


@pytest.mark.parametrize("who", ["anonymous", "patron"])
def test_anonymous_and_non_staff_go_to_the_login(client, django_user_model, course, who):
    if who == "patron":
        client.force_login(django_user_model.objects.create_user("patron"))
    for url in roster_urls(course):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login") + "?next="), url


def test_course_list_links_to_the_roster_for_those_who_may_see_it(staff_client, front_desk, course):
    url = reverse("admin:classes_course_changelist")
    assert reverse("rosters:course", args=[course.pk]) in staff_client.get(url).content.decode()
    assert reverse("rosters:course", args=[course.pk]) in front_desk.get(url).content.decode()
