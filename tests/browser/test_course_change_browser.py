"""A coordinator moves a meeting of a class people registered for, in a real browser: the back
office shows who is told and what before saving, "Go back and edit" keeps what was typed, and
"Save and tell" saves and queues the messages.

Screenshots (looked at by hand when this changes): /tmp/course-change-confirm.png,
/tmp/course-change-saved.png.
"""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from core import tasks as core_tasks
from core.models import OutboxMessage
from enrollment.models import CallListEntry
from tests.factories import InstructorFactory, OrderFactory, RegistrationFactory, course_with_meetings, local_dt, today
from tests.servers import require_playwright

require_playwright()  # skips this module outside CI (fails in CI) when playwright is missing
from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

SCREENSHOTS = Path("/tmp")
USERNAME, PASSWORD = "casey.coordinator", "Coordinator-passw0rd"


@pytest.fixture
def course(transactional_db, django_user_model, monkeypatch):
    monkeypatch.setattr(core_tasks.outbox_deliver, "delay", lambda *args, **kwargs: None)
    django_user_model.objects.create_superuser(USERNAME, "casey@library.example", PASSWORD)
    course = course_with_meetings(title="Bread Baking", capacity=20, fee=Decimal("25.00"), weekly=2,
                                  first=local_dt(today() + dt.timedelta(days=21), 18, 30),
                                  instructor=InstructorFactory(first_name="Rosa", last_name="Lind"))
    for _ in range(3):
        RegistrationFactory(course=course)
    RegistrationFactory(course=course, order=OrderFactory(email="", phone="785-555-0142"))
    return course


def test_moving_a_meeting_is_confirmed_then_told(page: Page, live_url, course):
    page.goto(f"{live_url}/staff/login/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(f"{live_url}/staff/classes/course/{course.pk}/change/")
    page.locator("#id_meetings-0-starts_at_1").fill("19:00:00")
    page.locator("#id_meetings-0-ends_at_1").fill("20:30:00")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Tell registrants about the change to “Bread Baking”?")
    for name in ("What changes", "Who is told", "The message"):
        expect(page.get_by_role("heading", level=2, name=name)).to_be_visible()
    expect(page.get_by_text("3 registrants are e-mailed")).to_be_visible()
    expect(page.get_by_role("table", name="Registrants of “Bread Baking” told about this change")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "course-change-confirm.png"), full_page=True)
    assert not OutboxMessage.objects.exists()

    page.get_by_role("button", name="Go back and edit").click()
    expect(page.locator("#id_meetings-0-starts_at_1")).to_have_value("19:00:00")
    expect(page.get_by_text("Not saved yet: change what you need, then save again.")).to_be_visible()
    page.get_by_role("button", name="Save", exact=True).click()

    page.get_by_role("button", name="Save and tell 4 registrants").click()
    expect(page.get_by_text("3 registrants e-mailed, 1 put on the call list, the instructor e-mailed")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "course-change-saved.png"), full_page=True)
    first = course.meetings.order_by("starts_at").first()
    assert timezone.localtime(first.starts_at).time() == dt.time(19, 0)
    assert OutboxMessage.objects.filter(template="course_changed").count() == 3
    assert CallListEntry.objects.filter(topic=CallListEntry.Topic.CHANGE).count() == 1
