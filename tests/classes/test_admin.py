"""The courses back office, through real admin requests: create, validation, budget, copy."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from classes.models import Course, Instructor, Meeting, Semester, Venue
from core.models import SiteOptions
from tests.factories import (
    CategoryFactory,
    CourseFactory,
    InstructorFactory,
    MeetingFactory,
    SemesterFactory,
    VenueFactory,
    course_with_meetings,
    local_dt,
    today,
)

pytestmark = pytest.mark.django_db


ADD_URL = reverse("admin:classes_course_add")
CHANGELIST_URL = reverse("admin:classes_course_changelist")


def change_url(course):
    return reverse("admin:classes_course_change", args=[course.pk])


def _split(when: dt.datetime) -> tuple[str, str]:
    local = timezone.localtime(when)
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S")


def course_data(*, semester, category, instructor, venue, meetings, existing=(), **fields):
    """POST data for the course add/change view: the course form plus the meetings inline.

    ``meetings`` are new rows as (starts_at, ends_at, venue or None); ``existing`` are saved
    Meeting rows submitted unchanged (the initial forms of a change view).
    """
    data = {
        "semester": semester.pk,
        "title": "Watercolor for Beginners",
        "slug": "watercolor-for-beginners",
        "category": category.pk,
        "status": Course.Status.DRAFT,
        "audience": Course.Audience.ADULTS,
        "age_min": "",
        "age_max": "",
        "description": "Paint loose, bright landscapes.",
        "what_to_bring": "",
        "instructor": instructor.pk,
        "venue": venue.pk,
        "capacity": "12",
        "minimum": "5",
        "fee": "35.00",
        "staff_hours": "1.00",
        "materials_cost": "20.00",
        "supplies_cost": "0.00",
    }
    data.update({key: str(value) for key, value in fields.items()})
    rows = [(m.starts_at, m.ends_at, m.venue, m) for m in existing] + [(s, e, v, None) for s, e, v in meetings]
    data.update({
        "meetings-TOTAL_FORMS": str(len(rows)),
        "meetings-INITIAL_FORMS": str(len(existing)),
        "meetings-MIN_NUM_FORMS": "1",
        "meetings-MAX_NUM_FORMS": "1000",
    })
    for i, (start, end, meeting_venue, saved) in enumerate(rows):
        data[f"meetings-{i}-starts_at_0"], data[f"meetings-{i}-starts_at_1"] = _split(start)
        data[f"meetings-{i}-ends_at_0"], data[f"meetings-{i}-ends_at_1"] = _split(end)
        data[f"meetings-{i}-venue"] = meeting_venue.pk if meeting_venue else ""
        data[f"meetings-{i}-id"] = saved.pk if saved else ""
        data[f"meetings-{i}-course"] = saved.course_id if saved else ""
    return data


def inline_errors(response) -> list[dict]:
    """The errors of each meeting form, as {field: [messages]} (None for non-field errors)."""
    (inline,) = response.context["inline_admin_formsets"]
    return [
        {field: list(errs) for field, errs in form.errors.items()} for form in inline.formset.forms
    ]


def form_errors(response) -> dict:
    return {field: list(errs) for field, errs in response.context["adminform"].form.errors.items()}


@pytest.fixture
def world():
    """A semester around today, a library room, an outside venue, an instructor and a category."""
    return {
        "semester": SemesterFactory(name="Spring Test"),
        "category": CategoryFactory(),
        "room": VenueFactory(name="Meeting Room A", capacity=20),
        "kitchen": VenueFactory(name="Grange Kitchen", kind=Venue.Kind.OUTSIDE, capacity=10),
        "instructor": InstructorFactory(first_name="Rosa", last_name="Lind"),
    }


def day(n: int) -> dt.date:
    return today() + dt.timedelta(days=n)


def slot(n: int, hour: int, minute: int = 0, minutes: int = 90):
    start = local_dt(day(n), hour, minute)
    return start, start + dt.timedelta(minutes=minutes)


# --- creating through the admin --------------------------------------------------------------


def test_a_new_semester_starts_unpublished(staff_client, client):
    """Staff build a semester before patrons see it: the add form's "Published" starts unticked,
    a semester saved without ticking it stays out of the catalog, and ticking it publishes it."""
    assert Semester().is_published is False
    page = staff_client.get(reverse("admin:classes_semester_add")).content.decode()
    box = next(tag for tag in page.split("<input")[1:] if 'name="is_published"' in tag)
    assert "checked" not in box.split(">")[0]
    data = {
        "name": "Fall 2031", "slug": "fall-2031",
        "starts_on": day(10).isoformat(), "ends_on": day(100).isoformat(),
        "registration_opens_at_0": day(-5).isoformat(), "registration_opens_at_1": "09:00:00", "cutoff_days": "7",
    }
    assert staff_client.post(reverse("admin:classes_semester_add"), data).status_code == 302
    semester = Semester.objects.get(slug="fall-2031")
    assert semester.is_published is False
    course_with_meetings(semester=semester, title="Not Yet Shown", first=local_dt(day(20), 18))
    assert "Not Yet Shown" not in client.get(reverse("classes:home")).content.decode()
    change = reverse("admin:classes_semester_change", args=[semester.pk])
    assert staff_client.post(change, {**data, "is_published": "on"}).status_code == 302
    semester.refresh_from_db()
    assert semester.is_published is True



def test_staff_create_semester_venue_instructor_and_course_with_two_meetings(staff_client):
    category = CategoryFactory()
    first_day, last_day = day(10), day(100)
    response = staff_client.post(reverse("admin:classes_semester_add"), {
        "name": "Fall 2031", "slug": "fall-2031", "is_published": "on",
        "starts_on": first_day.isoformat(), "ends_on": last_day.isoformat(),
        "registration_opens_at_0": day(-5).isoformat(), "registration_opens_at_1": "09:00:00",
        "cutoff_days": "7",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    semester = Semester.objects.get(slug="fall-2031")

    response = staff_client.post(reverse("admin:classes_venue_add"), {
        "name": "Story Room", "slug": "story-room", "kind": Venue.Kind.LIBRARY_ROOM,
        "street_address": "301 W Elm St", "city": "Salina", "state": "KS", "postal_code": "67401",
        "latitude": "", "longitude": "", "contact": "", "capacity": "25",
        "accessibility_notes": "Step-free.", "parking_notes": "Library lot.",
        "room_fee_terms": Venue.RoomFee.NONE, "room_fee_rate": "0.00",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    venue = Venue.objects.get(slug="story-room")

    response = staff_client.post(reverse("admin:classes_instructor_add"), {
        "first_name": "Ada", "last_name": "Brook", "email": "ada@example.org", "phone": "", "bio": "Painter.",
        "pay_basis": Instructor.PayBasis.HOURLY, "hourly_rate": "18.00", "active": "on",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    instructor = Instructor.objects.get(email="ada@example.org")

    data = course_data(
        semester=semester, category=category, instructor=instructor, venue=venue,
        meetings=[slot(20, 18, 30) + (None,), slot(27, 18, 30) + (None,)],
    )
    response = staff_client.post(ADD_URL, data)
    assert response.status_code == 302, (form_errors(response), inline_errors(response))
    course = Course.objects.get(semester=semester, slug="watercolor-for-beginners")
    assert course.status == Course.Status.DRAFT
    starts = [timezone.localtime(m.starts_at) for m in course.ordered_meetings()]
    assert [(s.date(), s.time()) for s in starts] == [(day(20), dt.time(18, 30)), (day(27), dt.time(18, 30))]


def test_change_existing_course_does_not_clash_with_its_own_meetings(staff_client, world):
    course = course_with_meetings(weekly=2, venue=world["room"], instructor=world["instructor"],
                                  semester=world["semester"], category=world["category"], capacity=12)
    data = course_data(
        semester=world["semester"], category=world["category"], instructor=world["instructor"],
        venue=world["room"], meetings=[], existing=course.ordered_meetings(), title="Renamed", slug=course.slug,
    )
    response = staff_client.post(change_url(course), data)
    assert response.status_code == 302, (form_errors(response), inline_errors(response))
    course.refresh_from_db()
    assert course.title == "Renamed"
    assert course.meetings.count() == 2


def test_status_can_only_be_set_to_draft_or_open(staff_client, world):
    response = staff_client.get(ADD_URL)
    choices = [value for value, _ in response.context["adminform"].form.fields["status"].choices]
    assert choices == [Course.Status.DRAFT, Course.Status.OPEN]

    data = course_data(semester=world["semester"], category=world["category"], instructor=world["instructor"],
                       venue=world["room"], meetings=[slot(20, 10) + (None,)], status=Course.Status.RUNNING)
    response = staff_client.post(ADD_URL, data)
    assert response.status_code == 200
    assert "status" in form_errors(response)
    assert not Course.objects.exists()

    running = course_with_meetings(status=Course.Status.RUNNING, semester=world["semester"])
    response = staff_client.get(change_url(running))
    assert response.status_code == 200
    assert "status" not in response.context["adminform"].form.fields  # shown read-only


# --- refused input: a message on the field, nothing saved -------------------------------------


def _post_refused(client, url, data):
    counts = (Course.objects.count(), Meeting.objects.count())
    response = client.post(url, data)
    assert response.status_code == 200
    assert (Course.objects.count(), Meeting.objects.count()) == counts
    return response


def test_meeting_ending_before_it_starts_is_refused(staff_client, world):
    start, _ = slot(20, 18)
    data = course_data(semester=world["semester"], category=world["category"], instructor=world["instructor"],
                       venue=world["room"], meetings=[(start, start - dt.timedelta(hours=1), None)])
    response = _post_refused(staff_client, ADD_URL, data)
    assert inline_errors(response)[0]["ends_at"] == ["The end must be after the start."]
    assert "The end must be after the start." in response.content.decode()


def test_minimum_above_capacity_is_refused(staff_client, world):
    data = course_data(semester=world["semester"], category=world["category"], instructor=world["instructor"],
                       venue=world["room"], meetings=[slot(20, 18) + (None,)], capacity=6, minimum=8)
    response = _post_refused(staff_client, ADD_URL, data)
    assert form_errors(response)["minimum"] == ["The minimum (8) cannot be above the capacity (6)."]
    assert "cannot be above the capacity" in response.content.decode()


def test_negative_fee_is_refused(staff_client, world):
    data = course_data(semester=world["semester"], category=world["category"], instructor=world["instructor"],
                       venue=world["room"], meetings=[slot(20, 18) + (None,)], fee="-5.00")
    response = _post_refused(staff_client, ADD_URL, data)
    assert form_errors(response)["fee"] == ["Ensure this value is greater than or equal to 0."]


def test_capacity_above_the_venues_capacity_is_refused(staff_client, world):
    data = course_data(semester=world["semester"], category=world["category"], instructor=world["instructor"],
                       venue=world["kitchen"], meetings=[slot(20, 18) + (None,)], capacity=15, minimum=5)
    response = _post_refused(staff_client, ADD_URL, data)
    assert form_errors(response)["capacity"] == ["Grange Kitchen holds at most 10 people."]


def test_change_view_refuses_minimum_above_capacity_without_touching_the_row(staff_client, world):
    course = course_with_meetings(venue=world["room"], semester=world["semester"], capacity=12, minimum=5)
    data = course_data(semester=world["semester"], category=course.category, instructor=course.instructor,
                       venue=world["room"], meetings=[], existing=course.ordered_meetings(), slug=course.slug,
                       capacity=4, minimum=5)
    response = _post_refused(staff_client, change_url(course), data)
    assert "minimum" in form_errors(response)
    course.refresh_from_db()
    assert (course.capacity, course.minimum) == (12, 5)


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"fee": "-5.00"}, "fee"), ({"minimum": "0"}, "minimum"), ({"capacity": "0", "minimum": "0"}, "capacity")],
)
def test_change_view_with_bad_numbers_shows_errors_and_the_budget_panel(staff_client, world, fields, field):
    course = course_with_meetings(venue=world["room"], semester=world["semester"])
    data = course_data(semester=world["semester"], category=course.category, instructor=course.instructor,
                       venue=world["room"], meetings=[], existing=course.ordered_meetings(), slug=course.slug, **fields)
    response = _post_refused(staff_client, change_url(course), data)
    assert field in form_errors(response)
    assert "course-budget" in response.content.decode()
    course.refresh_from_db()
    assert (course.fee, course.minimum, course.capacity) == (Decimal("25.00"), 5, 12)


def test_library_room_double_booked_is_refused(staff_client, world):
    start, end = slot(20, 18, 30)
    course_with_meetings(first=start, venue=world["room"], title="Knitting Circle")  # another instructor
    data = course_data(semester=world["semester"], category=world["category"], instructor=world["instructor"],
                       venue=world["room"], meetings=[slot(27, 18) + (None,), (start + dt.timedelta(hours=1),
                                                                                end + dt.timedelta(hours=1), None)])
    response = _post_refused(staff_client, ADD_URL, data)
    errors = inline_errors(response)
    assert errors[0] == {}
    assert len(errors[1]["starts_at"]) == 1
    assert errors[1]["starts_at"][0].startswith("Meeting Room A is already booked then by “Knitting Circle”")
    assert "is already booked then by" in response.content.decode()


def test_meeting_override_venue_is_checked_for_double_booking(staff_client, world):
    start, end = slot(20, 10)
    course_with_meetings(first=start, venue=world["room"])
    data = course_data(semester=world["semester"], category=world["category"], instructor=world["instructor"],
                       venue=world["kitchen"], meetings=[(start, end, world["room"])], capacity=8)
    response = _post_refused(staff_client, ADD_URL, data)
    assert "is already booked then by" in inline_errors(response)[0]["starts_at"][0]


def test_outside_venue_may_be_shared_at_the_same_time(staff_client, world):
    start, end = slot(20, 18, 30)
    course_with_meetings(first=start, venue=world["kitchen"], capacity=8)
    data = course_data(semester=world["semester"], category=world["category"], instructor=world["instructor"],
                       venue=world["kitchen"], meetings=[(start, end, None)], capacity=8)
    response = staff_client.post(ADD_URL, data)
    assert response.status_code == 302, inline_errors(response)
    assert Meeting.objects.filter(starts_at=start, course__venue=world["kitchen"]).count() == 2


def test_cancelled_course_does_not_hold_the_room(staff_client, world):
    start, end = slot(20, 18, 30)
    course_with_meetings(first=start, venue=world["room"], status=Course.Status.CANCELLED)
    data = course_data(semester=world["semester"], category=world["category"], instructor=world["instructor"],
                       venue=world["room"], meetings=[(start, end, None)])
    response = staff_client.post(ADD_URL, data)
    assert response.status_code == 302, inline_errors(response)


def test_meeting_outside_the_semester_is_refused(staff_client, world):
    semester = world["semester"]
    after = semester.ends_on + dt.timedelta(days=3)
    start = local_dt(after, 18)
    data = course_data(semester=semester, category=world["category"], instructor=world["instructor"],
                       venue=world["room"], meetings=[slot(20, 18) + (None,), (start, start + dt.timedelta(hours=1), None)])
    response = _post_refused(staff_client, ADD_URL, data)
    errors = inline_errors(response)
    assert errors[0] == {}
    assert errors[1]["starts_at"][0].startswith("This meeting is outside Spring Test")


def test_instructor_teaching_two_overlapping_meetings_is_refused(staff_client, world):
    start, end = slot(20, 18, 30)
    other_room = VenueFactory(name="Meeting Room B")
    course_with_meetings(first=start, venue=other_room, instructor=world["instructor"], title="Bread Baking")
    data = course_data(semester=world["semester"], category=world["category"], instructor=world["instructor"],
                       venue=world["room"], meetings=[(start + dt.timedelta(minutes=30), end, None)])
    response = _post_refused(staff_client, ADD_URL, data)
    assert inline_errors(response)[0]["starts_at"][0].startswith("Rosa Lind is teaching “Bread Baking” then")


def test_two_meetings_of_the_course_overlapping_are_refused(staff_client, world):
    start, end = slot(20, 18)
    data = course_data(semester=world["semester"], category=world["category"], instructor=world["instructor"],
                       venue=world["room"], meetings=[(start, end, None), (start + dt.timedelta(minutes=30), end, None)])
    response = _post_refused(staff_client, ADD_URL, data)
    assert inline_errors(response)[1]["starts_at"] == ["This meeting overlaps another meeting of the same course."]


def test_a_course_needs_at_least_one_meeting(staff_client, world):
    data = course_data(semester=world["semester"], category=world["category"], instructor=world["instructor"],
                       venue=world["room"], meetings=[])
    response = _post_refused(staff_client, ADD_URL, data)
    (inline,) = response.context["inline_admin_formsets"]
    assert list(inline.formset.non_form_errors()) == ["A course needs at least one meeting."]


def test_deleting_the_last_meeting_is_refused(staff_client, world):
    course = course_with_meetings(venue=world["room"], semester=world["semester"])
    data = course_data(semester=world["semester"], category=course.category, instructor=course.instructor,
                       venue=world["room"], meetings=[], existing=course.ordered_meetings(), slug=course.slug)
    data["meetings-0-DELETE"] = "on"
    _post_refused(staff_client, change_url(course), data)
    assert course.meetings.count() == 1


def test_duplicate_slug_in_the_semester_is_a_form_error_not_a_crash(staff_client, world):
    CourseFactory(semester=world["semester"], slug="watercolor-for-beginners")
    data = course_data(semester=world["semester"], category=world["category"], instructor=world["instructor"],
                       venue=world["room"], meetings=[slot(20, 18) + (None,)])
    response = _post_refused(staff_client, ADD_URL, data)
    assert list(response.context["adminform"].form.non_field_errors()) == [
        "Course with this Semester and Slug already exists."
    ]


def test_missing_semester_is_a_field_error_not_a_crash(staff_client, world):
    data = course_data(semester=world["semester"], category=world["category"], instructor=world["instructor"],
                       venue=world["room"], meetings=[slot(20, 18) + (None,)])
    data["semester"] = ""
    response = _post_refused(staff_client, ADD_URL, data)
    assert form_errors(response)["semester"] == ["This field is required."]


# --- the budget panel ------------------------------------------------------------------------


def test_budget_panel_shows_lines_suggested_fee_and_break_even(staff_client):
    options = SiteOptions.current()
    options.staff_hourly_rate = Decimal("20.00")
    options.save()
    venue = VenueFactory(name="St. <b>Mark</b>'s Hall", kind=Venue.Kind.OUTSIDE,
                         room_fee_terms=Venue.RoomFee.PER_HOUR, room_fee_rate=Decimal("12.50"))
    course = course_with_meetings(
        weekly=4, minutes=90, venue=venue, minimum=6, fee=Decimal("30.00"),
        instructor=InstructorFactory(hourly_rate=Decimal("15.00")),
        staff_hours=Decimal("2.00"), materials_cost=Decimal("18.00"), supplies_cost=Decimal("7.25"),
    )
    response = staff_client.get(change_url(course))
    assert response.status_code == 200
    html = response.content.decode()
    assert "6.00 class hours × $15.00 per hour" in html
    assert "$90.00" in html and "$40.00" in html and "$75.00" in html
    assert "$12.50 per hour × 6.00 h" in html
    assert "$230.25" in html  # total cost
    assert '<td class="budget-suggested-fee">$39.00' in html  # 230.25 / 6 rounded up
    assert '<td class="budget-fee">$30.00 <span class="help">($9.00 below the suggested fee)' in html
    assert '<td class="budget-break-even">8 paying registrants at $30.00' in html
    assert "St. &lt;b&gt;Mark&lt;/b&gt;&#x27;s Hall" in html  # escaped
    assert "<b>Mark</b>" not in html


def test_budget_panel_explains_a_free_course_and_a_volunteer(staff_client):
    volunteer = InstructorFactory(first_name="Vera", last_name="Kind", pay_basis=Instructor.PayBasis.VOLUNTEER)
    course = course_with_meetings(fee=Decimal("0.00"), instructor=volunteer, staff_hours=Decimal("1.00"))
    response = staff_client.get(change_url(course))
    html = response.content.decode()
    assert "Vera Kind is a volunteer" in html
    assert "None: this is a free course" in html


def test_budget_panel_on_the_add_page_asks_to_save_first(staff_client):
    response = staff_client.get(ADD_URL)
    assert response.status_code == 200
    assert "Save the course with its meetings to see its budget." in response.content.decode()


# --- the changelist --------------------------------------------------------------------------


def _changelist_queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(CHANGELIST_URL)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_changelist_query_count_does_not_grow_with_courses(staff_client):
    outside = VenueFactory(kind=Venue.Kind.OUTSIDE, room_fee_terms=Venue.RoomFee.PER_MEETING,
                           room_fee_rate=Decimal("10.00"))
    for i in range(5):
        course = course_with_meetings(weekly=2, first=local_dt(day(20 + i), 9))
        MeetingFactory(course=course, venue=outside, starts_at=local_dt(day(60 + i), 9),
                       ends_at=local_dt(day(60 + i), 10))
    staff_client.get(CHANGELIST_URL)  # warm up (site options row, content types)
    few, _ = _changelist_queries(staff_client)
    for i in range(25):
        course = course_with_meetings(weekly=2, first=local_dt(day(30 + i), 14))
        MeetingFactory(course=course, venue=outside, starts_at=local_dt(day(70 + i), 9),
                       ends_at=local_dt(day(70 + i), 10))
    many, html = _changelist_queries(staff_client)
    assert Course.objects.count() == 30
    assert many == few, (few, many)
    assert html.count('class="field-suggested_fee"') == 30


def test_changelist_shows_first_meeting_and_suggested_fee(staff_client):
    options = SiteOptions.current()
    options.staff_hourly_rate = Decimal("10.00")
    options.save()
    course_with_meetings(first=local_dt(day(21), 18, 30), minutes=60, minimum=5, fee=Decimal("5.00"),
                         staff_hours=Decimal("1.00"), instructor=InstructorFactory(hourly_rate=Decimal("15.00")))
    _, html = _changelist_queries(staff_client)
    first = local_dt(day(21), 18, 30)
    assert f"{first:%a} {first:%b} {first.day}, {first.year} 6:30 PM" in html
    assert '<td class="field-suggested_fee">$5.00</td>' in html


def test_changelist_search_and_filters(staff_client, world):
    course_with_meetings(title="Sourdough Basics", instructor=world["instructor"])
    course_with_meetings(title="Chess Openings")
    response = staff_client.get(CHANGELIST_URL, {"q": "Rosa Lind"})
    assert [c.title for c in response.context["cl"].result_list] == ["Sourdough Basics"]
    response = staff_client.get(CHANGELIST_URL, {"instructor__pay_basis__exact": "volunteer"})
    assert list(response.context["cl"].result_list) == []


# --- copy to semester ------------------------------------------------------------------------


@pytest.fixture
def two_semesters():
    source = SemesterFactory(name="Spring 2031", starts_on=dt.date(2031, 1, 6), ends_on=dt.date(2031, 5, 2))
    target = SemesterFactory(name="Fall 2031", starts_on=dt.date(2031, 9, 1), ends_on=dt.date(2031, 12, 19))
    return source, target


def _action(client, courses, **extra):
    data = {"action": "copy_to_semester", ACTION_CHECKBOX_NAME: [c.pk for c in courses], **extra}
    return client.post(CHANGELIST_URL, data, follow="apply" in extra)


def test_copy_to_semester_asks_for_the_target_then_copies_drafts(staff_client, two_semesters):
    source, target = two_semesters
    first = local_dt(dt.date(2031, 1, 14), 18, 30)  # a Tuesday
    a = course_with_meetings(semester=source, first=first, weekly=3, title="Pottery")
    b = course_with_meetings(semester=source, first=local_dt(dt.date(2031, 2, 1), 10), weekly=1, title="Birding")

    response = _action(staff_client, [a, b])
    assert response.status_code == 200
    assert "admin/classes/course/copy_to_semester.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert "csrfmiddlewaretoken" in html and "Pottery" in html and "Birding" in html
    assert Course.objects.filter(semester=target).count() == 0

    response = _action(staff_client, [a, b], apply="yes", semester=target.pk)
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert any(m.startswith("Copied 2 courses to Fall 2031 as drafts") for m in messages), messages
    for original in (a, b):
        copy = Course.objects.get(semester=target, title=original.title)
        assert copy.status == Course.Status.DRAFT
        old, new = original.ordered_meetings(), copy.ordered_meetings()
        assert len(new) == len(old)
        for o, n in zip(old, new, strict=True):
            o_local, n_local = timezone.localtime(o.starts_at), timezone.localtime(n.starts_at)
            assert n_local.weekday() == o_local.weekday()
            assert n_local.time() == o_local.time()
            assert n.ends_at - n.starts_at == o.ends_at - o.starts_at
            assert target.starts_on <= n_local.date() <= target.ends_on


def test_copy_that_would_clash_is_skipped_with_a_message(staff_client, two_semesters):
    source, target = two_semesters
    room = VenueFactory(name="Room Clash")
    original = course_with_meetings(semester=source, first=local_dt(dt.date(2031, 1, 7), 18), venue=room,
                                    title="Yoga")
    fine = course_with_meetings(semester=source, first=local_dt(dt.date(2031, 1, 9), 9), title="Genealogy")
    # Tuesday Jan 7 (week 1 of spring) → Tuesday Sep 2 (week 1 of fall), 6 pm: already booked.
    course_with_meetings(semester=target, first=local_dt(dt.date(2031, 9, 2), 18, 30), venue=room,
                         title="Tai Chi")
    response = _action(staff_client, [original, fine], apply="yes", semester=target.pk)
    messages = [str(m) for m in response.context["messages"]]
    assert any(m.startswith("Copied 1 course to Fall 2031 as draft") for m in messages), messages
    skipped = [m for m in messages if m.startswith("Skipped “Yoga”")]
    assert len(skipped) == 1 and "Room Clash is already booked then by “Tai Chi”" in skipped[0]
    assert not Course.objects.filter(semester=target, title="Yoga").exists()
    assert Course.objects.filter(semester=target, title="Genealogy", status=Course.Status.DRAFT).exists()


def test_copy_of_a_course_that_no_longer_validates_is_skipped_not_a_crash(staff_client, two_semesters):
    source, target = two_semesters
    venue = VenueFactory(capacity=30)
    course = course_with_meetings(semester=source, first=local_dt(dt.date(2031, 1, 8), 18), venue=venue,
                                  capacity=20, title="Film Club")
    Venue.objects.filter(pk=venue.pk).update(capacity=10)  # the room got smaller since
    response = _action(staff_client, [course], apply="yes", semester=target.pk)
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert any(m.startswith("Skipped “Film Club”") and "holds at most 10 people" in m for m in messages), messages
    assert not Course.objects.filter(semester=target).exists()


def test_copy_without_choosing_a_semester_shows_the_page_again(staff_client, two_semesters):
    source, _ = two_semesters
    course = course_with_meetings(semester=source, first=local_dt(dt.date(2031, 1, 8), 18))
    count = Course.objects.count()
    response = _action(staff_client, [course], apply="yes")
    assert response.status_code == 200
    assert response.context["form"].errors["semester"] == ["This field is required."]
    assert Course.objects.count() == count

