"""Changing a course people registered for, through real admin requests: staff see who is told
and what first; on save registrants are e-mailed (the call list for those without e-mail), the
instructor is told, the calendar file updates (same UID, higher SEQUENCE); capacity cannot go
below the seats taken; a fee change never changes what registered patrons pay."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from classes.models import Course, Meeting
from core.models import OutboxMessage
from core.outbox import outbox_attachment_bytes
from enrollment.models import CallListEntry, Registration
from finance.models import FundEntry
from tests.classes.test_admin import change_url, form_errors
from tests.factories import (
    FundEntryFactory,
    InstructorFactory,
    OrderFactory,
    RegistrationFactory,
    VenueFactory,
    course_with_meetings,
    local_dt,
    today,
)

pytestmark = pytest.mark.django_db

S = Registration.Status
CONFIRM_TEMPLATE = "admin/classes/course/change_confirm.html"


def _split(when: dt.datetime) -> tuple[str, str]:
    local = timezone.localtime(when)
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S")


def same(course: Course, **fields) -> dict:
    """The change form's POST data for ``course`` as it is saved, with ``fields`` changed."""
    data = {
        "semester": course.semester_id, "title": course.title, "slug": course.slug, "category": course.category_id,
        "status": course.status, "audience": course.audience, "age_min": "", "age_max": "",
        "description": course.description, "what_to_bring": course.what_to_bring,
        "instructor": course.instructor_id, "venue": course.venue_id, "capacity": course.capacity,
        "minimum": course.minimum, "fee": course.fee, "staff_hours": course.staff_hours,
        "materials_cost": course.materials_cost, "supplies_cost": course.supplies_cost,
    }
    data.update(fields)
    meetings = course.ordered_meetings()
    data.update({"meetings-TOTAL_FORMS": len(meetings), "meetings-INITIAL_FORMS": len(meetings),
                 "meetings-MIN_NUM_FORMS": 1, "meetings-MAX_NUM_FORMS": 1000})
    for i, m in enumerate(meetings):
        data[f"meetings-{i}-starts_at_0"], data[f"meetings-{i}-starts_at_1"] = _split(m.starts_at)
        data[f"meetings-{i}-ends_at_0"], data[f"meetings-{i}-ends_at_1"] = _split(m.ends_at)
        data[f"meetings-{i}-venue"] = m.venue_id or ""
        data[f"meetings-{i}-id"] = m.pk
        data[f"meetings-{i}-course"] = course.pk
    data["_save"] = "Save"
    return {key: str(value) for key, value in data.items()}


def confirm(client, course, response):
    """Press "Save and tell them" on the confirmation page ``response``."""
    assert CONFIRM_TEMPLATE in [t.name for t in response.templates]
    data = {}
    for name, value in response.context["hidden"]:
        data.setdefault(name, []).append(value)
    data["_change_token"] = response.context["token"]
    data["_confirm_change"] = "Save and tell them"
    return client.post(change_url(course), data)


@pytest.fixture
def course():
    """Two Tuesday meetings at 6:30 pm, 14 registrants with e-mail and 2 without."""
    first = local_dt(today() + dt.timedelta(days=21), 18, 30)
    course = course_with_meetings(first=first, weekly=2, capacity=20, title="Bread Baking", fee=Decimal("25.00"),
                                  instructor=InstructorFactory(first_name="Rosa", last_name="Lind"),
                                  venue=VenueFactory(name="Meeting Room A", capacity=30))
    for _ in range(14):
        RegistrationFactory(course=course)
    for n in range(2):
        RegistrationFactory(course=course, order=OrderFactory(email="", phone=f"785-555-010{n}"))
    return course


def _moved_30_minutes(course) -> dict:
    data = same(course)
    data["meetings-0-starts_at_1"], data["meetings-0-ends_at_1"] = "19:00:00", "20:30:00"
    return data


def _nothing_sent():
    assert not OutboxMessage.objects.exists()
    assert not CallListEntry.objects.exists()


def test_moving_a_meeting_asks_first_and_saves_nothing_until_confirmed(staff_client, course):
    before = [(m.starts_at, m.ends_at) for m in course.ordered_meetings()]
    response = staff_client.post(change_url(course), _moved_30_minutes(course))

    assert response.status_code == 200
    assert CONFIRM_TEMPLATE in [t.name for t in response.templates]
    assert [(m.starts_at, m.ends_at) for m in Meeting.objects.filter(course=course).order_by("starts_at")] == before
    _nothing_sent()
    course.refresh_from_db()
    assert course.revision == 0
    html = response.content.decode()
    day = timezone.localtime(before[0][0])
    assert f"The meeting on {day:%A}, {day:%B} {day.day} now runs 7:00 PM to 8:30 PM (it was 6:30 PM to 8:00 PM)." in html
    assert "14 registrants are e-mailed" in html
    assert "2 registrants without e-mail go on the" in html
    assert "The instructor, Rosa Lind, is e-mailed." in html
    assert "Subject: Change to your class: Bread Baking" in html
    assert "What you pay" not in html  # the fee did not change
    assert "/my/" not in html  # no patron's signed link is shown to staff
    assert html.count('<tr><th scope="row">') == 16


def test_confirming_tells_every_registrant_the_call_list_and_the_instructor(staff_client, course):
    response = staff_client.post(change_url(course), _moved_30_minutes(course))
    response = confirm(staff_client, course, response)

    assert response.status_code == 302
    first = Meeting.objects.filter(course=course).order_by("starts_at").first()
    assert timezone.localtime(first.starts_at).time() == dt.time(19, 0)
    course.refresh_from_db()
    assert course.revision == 1
    changed = OutboxMessage.objects.filter(template="course_changed")
    assert changed.count() == 14
    assert {m.to for m in changed} == set(
        Registration.objects.filter(course=course).exclude(order__email="").values_list("order__email", flat=True))
    assert all("now runs 7:00 PM to 8:30 PM (it was 6:30 PM to 8:00 PM)" in m.body_text for m in changed)
    calls = CallListEntry.objects.filter(topic=CallListEntry.Topic.CHANGE)
    assert calls.count() == 2 and all(c.revision == 1 for c in calls)
    assert all("now runs 7:00 PM to 8:30 PM" in c.script and "$" not in c.script for c in calls)
    (instructor,) = OutboxMessage.objects.filter(template="instructor_course_changed")
    assert instructor.to == course.instructor.email
    assert "14 registrants are told by e-mail, and library staff phone 2 without e-mail" in instructor.body_text
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("14 registrants e-mailed, 2 put on the call list, the instructor e-mailed" in m for m in messages)

    # The call list page shows them.
    page = staff_client.get("/staff/week-out/calls/").content.decode()
    assert page.count("The class changed") >= 2


def test_the_calendar_file_keeps_the_uid_and_raises_the_sequence(staff_client, course):
    confirm(staff_client, course, staff_client.post(change_url(course), _moved_30_minutes(course)))
    message = OutboxMessage.objects.filter(template="course_changed").first()
    (attachment,) = message.attachments
    assert attachment["mimetype"] == "text/calendar"
    cal = Calendar.from_ical(outbox_attachment_bytes(attachment))
    events = sorted(cal.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    meetings = course.ordered_meetings()
    assert [str(e["UID"]) for e in events] == [f"meeting-{m.pk}@127.0.0.1" for m in meetings]
    assert [int(e["SEQUENCE"]) for e in events] == [1, 1]
    assert timezone.localtime(events[0].decoded("dtstart")).time() == dt.time(19, 0)
    assert str(cal["METHOD"]) == "PUBLISH"


def test_deleting_a_meeting_cancels_it_in_patrons_calendars(staff_client, course):
    gone = course.ordered_meetings()[1]
    data = same(course)
    data["meetings-1-DELETE"] = "on"
    confirm(staff_client, course, staff_client.post(change_url(course), data))

    assert not Meeting.objects.filter(pk=gone.pk).exists()
    message = OutboxMessage.objects.filter(template="course_changed").first()
    start = timezone.localtime(gone.starts_at)
    assert f"The meeting on {start:%A}, {start:%B} {start.day}, 6:30 PM to 8:00 PM is cancelled." in message.body_text
    assert "takes the cancelled meeting out" in message.body_text
    cal = Calendar.from_ical(outbox_attachment_bytes(message.attachments[0]))
    by_uid = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    cancelled = by_uid[f"meeting-{gone.pk}@127.0.0.1"]
    assert str(cancelled["STATUS"]) == "CANCELLED" and int(cancelled["SEQUENCE"]) == 1
    kept = by_uid[f"meeting-{course.ordered_meetings()[0].pk}@127.0.0.1"]
    assert "STATUS" not in kept and int(kept["SEQUENCE"]) == 1


def test_changing_the_venue_tells_the_new_place(staff_client, course):
    hall = VenueFactory(name="Grange Hall", street_address="9 Oak Ave", capacity=40)
    confirm(staff_client, course, staff_client.post(change_url(course), same(course, venue=hall.pk)))
    message = OutboxMessage.objects.filter(template="course_changed").first()
    assert ("The class now meets at Grange Hall, 9 Oak Ave, Salina, KS 67401 (it was at Meeting Room A, "
            "301 W Elm St, Salina, KS 67401).") in message.body_text
    cal = Calendar.from_ical(outbox_attachment_bytes(message.attachments[0]))
    assert {str(e["LOCATION"]) for e in cal.walk("VEVENT")} == {"Grange Hall, 9 Oak Ave, Salina, KS 67401"}


def test_raising_the_fee_never_changes_what_registered_patrons_pay(staff_client, course):
    prices = dict(Registration.objects.filter(course=course).values_list("pk", "price"))
    response = staff_client.post(change_url(course), same(course, fee="40.00"))
    assert "The fee for new registrations is now $40.00 (it was $25.00)." in response.content.decode()
    confirm(staff_client, course, response)

    course.refresh_from_db()
    assert course.fee == Decimal("40.00")
    assert dict(Registration.objects.filter(course=course).values_list("pk", "price")) == prices
    registration = Registration.objects.filter(course=course).exclude(order__email="").first()
    message = OutboxMessage.objects.get(template="course_changed", to=registration.order.email)
    assert f"What you pay for {registration.attendee_name} does not change: $25.00." in message.body_text
    assert "The new fee is only for new registrations." in message.body_text
    call = CallListEntry.objects.filter(topic=CallListEntry.Topic.CHANGE).first()
    assert "what they pay does not change" in call.script and "$" not in call.script


def test_capacity_below_the_seats_taken_is_refused(staff_client, course):
    RegistrationFactory(course=course, status=S.HELD, expires_at=timezone.now() + dt.timedelta(minutes=10),
                        confirmed_at=None)
    response = staff_client.post(change_url(course), same(course, capacity=16, minimum=5))
    assert response.status_code == 200
    assert form_errors(response)["capacity"] == [
        "17 seats are taken (confirmed, or held or offered right now): the capacity cannot be below 17."]
    course.refresh_from_db()
    assert course.capacity == 20
    _nothing_sent()

    response = staff_client.post(change_url(course), same(course, capacity=17))
    assert response.status_code == 302  # the capacity alone tells nobody
    course.refresh_from_db()
    assert course.capacity == 17 and course.revision == 0
    _nothing_sent()


def test_a_change_patrons_do_not_see_saves_at_once_and_sends_nothing(staff_client, course):
    response = staff_client.post(change_url(course), same(course, description="Now with rye.", staff_hours="2.00"))
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.description == "Now with rye." and course.revision == 0
    _nothing_sent()


def test_a_course_without_registrants_saves_at_once_and_sends_nothing(staff_client):
    course = course_with_meetings(weekly=2)
    response = staff_client.post(change_url(course), _moved_30_minutes(course))
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.revision == 1  # the public calendar file still updates
    _nothing_sent()


def test_go_back_shows_the_form_with_what_was_typed(staff_client, course):
    response = staff_client.post(change_url(course), _moved_30_minutes(course))
    data = {}
    for name, value in response.context["hidden"]:
        data.setdefault(name, []).append(value)
    data["_edit_again"] = "Go back and edit"
    response = staff_client.post(change_url(course), data)

    assert response.status_code == 200
    assert "admin/change_form.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert 'value="19:00:00"' in html and 'value="20:30:00"' in html
    assert "Not saved yet: change what you need, then save again." in html
    assert "Please correct the error" not in html
    assert timezone.localtime(course.ordered_meetings()[0].starts_at).time() == dt.time(18, 30)
    _nothing_sent()


def test_a_confirmation_for_another_change_asks_again(staff_client, course):
    response = staff_client.post(change_url(course), _moved_30_minutes(course))
    data = {}
    for name, value in response.context["hidden"]:
        data.setdefault(name, []).append(value)
    data["fee"] = ["30.00"]  # changed on the way: the confirmation was for another change
    data["_change_token"] = response.context["token"]
    data["_confirm_change"] = "Save and tell them"
    response = staff_client.post(change_url(course), data)
    assert response.status_code == 200
    assert response.context["stale"] is True
    assert "The fee for new registrations is now $30.00" in response.content.decode()
    _nothing_sent()


def test_one_message_per_household_and_a_lighter_note_for_the_waitlist(staff_client):
    course = course_with_meetings(capacity=10, title="Chess")
    order = OrderFactory(first_name="Jordan", email="jordan@example.org")
    RegistrationFactory(course=course, order=order, attendee_first_name="Alex", attendee_last_name="Reader")
    RegistrationFactory(course=course, order=order, attendee_first_name="Sam", attendee_last_name="Reader",
                        status=S.WAITLISTED, confirmed_at=None)
    RegistrationFactory(course=course, status=S.CANCELLED, confirmed_at=None, order=OrderFactory(email="gone@example.org"))
    confirm(staff_client, course, staff_client.post(change_url(course), _moved_30_minutes(course)))

    (message,) = OutboxMessage.objects.filter(template="course_changed")
    assert message.to == "jordan@example.org"
    assert "Alex Reader is registered." in message.body_text
    assert "Sam Reader is on the waitlist; their place in line is kept." in message.body_text


def test_each_change_is_told_once_with_its_own_calendar_sequence(staff_client, course):
    confirm(staff_client, course, staff_client.post(change_url(course), _moved_30_minutes(course)))
    course.refresh_from_db()
    confirm(staff_client, course, staff_client.post(change_url(course), same(course, fee="30.00")))
    course.refresh_from_db()
    assert course.revision == 2
    assert OutboxMessage.objects.filter(template="course_changed").count() == 28
    assert CallListEntry.objects.filter(topic=CallListEntry.Topic.CHANGE).count() == 4
    latest = OutboxMessage.objects.filter(template="course_changed").order_by("-pk").first()
    cal = Calendar.from_ical(outbox_attachment_bytes(latest.attachments[0]))
    assert {int(e["SEQUENCE"]) for e in cal.walk("VEVENT")} == {2}


def test_the_public_calendar_file_carries_the_new_sequence(client, staff_client, course):
    confirm(staff_client, course, staff_client.post(change_url(course), _moved_30_minutes(course)))
    response = client.get(reverse("classes:course-ics", args=[course.semester.slug, course.slug]))
    assert response.status_code == 200
    cal = Calendar.from_ical(response.content)
    assert {int(e["SEQUENCE"]) for e in cal.walk("VEVENT")} == {1}


def _award(registration, amount="12.50"):
    FundEntryFactory(kind=FundEntry.Kind.AWARD, amount=-Decimal(amount), registration=registration,
                     dedupe_key=f"award:{registration.pk}")


def test_the_preview_never_shows_a_scholarship_to_staff_who_may_not_see_one(django_user_model):
    from django.contrib.auth.models import Permission

    from tests.factories import role_client

    client = role_client(django_user_model, None, "editor")
    client.user.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="classes", codename__in=["change_course", "view_course"]))
    course = course_with_meetings(weekly=2, title="Chess", fee=Decimal("25.00"))
    awarded = RegistrationFactory(course=course, order=OrderFactory(first_name="Avery"))
    _award(awarded)
    plain = RegistrationFactory(course=course, order=OrderFactory(first_name="Blake"))

    response = client.post(change_url(course), same(course, fee="30.00"))
    assert response.status_code == 200
    assert "Hello Blake," in response.context["sample_text"]
    assert "$12.50" not in response.content.decode() and "Avery" not in response.context["sample_text"]
    assert f"What you pay for {plain.attendee_name} does not change: $25.00." in response.context["sample_text"]

    plain.delete()
    response = client.post(change_url(course), same(course, fee="30.00"))
    assert response.context["sample_text"] == "" and "$12.50" not in response.content.decode()
    assert "Each message is addressed to its patron" in response.content.decode()


def test_a_scholarship_patron_is_told_their_own_price(staff_client):
    course = course_with_meetings(weekly=1, title="Chess", fee=Decimal("25.00"))
    awarded = RegistrationFactory(course=course, order=OrderFactory(email="avery@example.org"))
    _award(awarded)
    confirm(staff_client, course, staff_client.post(change_url(course), same(course, fee="30.00")))
    (message,) = OutboxMessage.objects.filter(template="course_changed")
    assert f"What you pay for {awarded.attendee_name} does not change: $12.50." in message.body_text


def test_renaming_and_moving_one_meeting_elsewhere_are_told(staff_client, course):
    hall = VenueFactory(name="Grange Hall", street_address="9 Oak Ave", capacity=40)
    data = same(course, title="Rye Bread Baking")
    data["meetings-1-venue"] = str(hall.pk)
    confirm(staff_client, course, staff_client.post(change_url(course), data))
    message = OutboxMessage.objects.filter(template="course_changed").first()
    second = timezone.localtime(course.ordered_meetings()[1].starts_at)
    assert message.subject == "Change to your class: Rye Bread Baking"
    assert "The class is now called “Rye Bread Baking” (it was “Bread Baking”)." in message.body_text
    assert (f"The meeting on {second:%A}, {second:%B} {second.day}, 6:30 PM to 8:00 PM meets at Grange Hall, "
            "9 Oak Ave, Salina, KS 67401 (it was at Meeting Room A).") in message.body_text


def test_a_busy_class_is_not_saved_and_the_form_comes_back(staff_client, course, monkeypatch):
    from contextlib import contextmanager

    from classes.admin import changes as admin_changes
    from core.locking import Busy

    @contextmanager
    def busy(ms=None):
        raise Busy("busy, please try again")
        yield  # pragma: no cover

    monkeypatch.setattr(admin_changes, "locked_atomic", busy)
    response = staff_client.post(change_url(course), _moved_30_minutes(course))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Not saved: someone was registering for this class at that moment. Please save again." in html
    assert 'value="19:00:00"' in html
    assert timezone.localtime(course.ordered_meetings()[0].starts_at).time() == dt.time(18, 30)
    _nothing_sent()
