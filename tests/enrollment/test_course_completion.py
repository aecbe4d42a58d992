"""A course completes (ARCHITECTURE §3: ``running → completed`` after its last meeting ends):
``enrollment.services.completion``, the periodic ``enrollment.courses_complete`` and ``manage.py
week_out``, which all use the one service."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from classes.models import Course
from enrollment import tasks
from enrollment.services.completion import course_complete, courses_complete
from tests.factories import CourseFactory, course_with_meetings, local_dt, today

pytestmark = pytest.mark.django_db
C = Course.Status


def held(*, status=C.RUNNING, weeks_ago: int = 2, weekly: int = 1, **kwargs) -> Course:
    """A course whose first meeting was ``weeks_ago`` weeks ago, 6:30–8 pm local."""
    return course_with_meetings(first=local_dt(today() - dt.timedelta(weeks=weeks_ago), 18, 30), weekly=weekly,
                                status=status, **kwargs)


def status(course) -> str:
    return Course.objects.get(pk=course.pk).status


def test_a_running_course_completes_once_its_last_meeting_has_ended():
    done = held(title="Bread Basics")
    midway = held(weeks_ago=1, weekly=3, title="Spanish I")  # met last week; two meetings to come
    lines = courses_complete()
    assert [line.course_id for line in lines] == [done.pk] and lines[0].completed
    assert "COMPLETED Bread Basics" in lines[0].text()
    assert status(done) == C.COMPLETED and status(midway) == C.RUNNING


def test_the_last_meeting_must_have_ended_not_only_begun():
    course = held(weeks_ago=0)
    last = course.meetings.get()
    assert course_complete(course_id=course.pk, now=last.starts_at + dt.timedelta(minutes=30)) is False
    assert status(course) == C.RUNNING
    assert course_complete(course_id=course.pk, now=last.ends_at) is True
    assert status(course) == C.COMPLETED


@pytest.mark.parametrize("other", [C.OPEN, C.DRAFT, C.CANCELLED])
def test_only_a_running_course_completes(other):
    course = held(status=other)
    assert courses_complete() == []
    assert course_complete(course_id=course.pk) is False
    assert status(course) == other


def test_a_course_without_meetings_never_completes():
    course = CourseFactory(status=C.RUNNING)
    assert courses_complete() == [] and status(course) == C.RUNNING


def test_a_second_run_changes_nothing_and_a_dry_run_nothing_at_all():
    course = held()
    preview = courses_complete(dry_run=True)
    assert [(line.course_id, line.completed) for line in preview] == [(course.pk, False)]
    assert status(course) == C.RUNNING
    assert tasks.courses_complete() == 1
    assert tasks.courses_complete() == 0 and courses_complete() == []
    assert status(course) == C.COMPLETED


def test_the_week_out_command_completes_the_courses_held_to_the_end():
    course = held(title="Knife Skills")
    out = io.StringIO()
    call_command("week_out", "--dry-run", stdout=out)
    assert "COMPLETE Knife Skills" in out.getvalue() and status(course) == C.RUNNING
    out = io.StringIO()
    call_command("week_out", stdout=out)
    assert "COMPLETED Knife Skills" in out.getvalue() and status(course) == C.COMPLETED
    at = timezone.localtime(course.meetings.get().ends_at - dt.timedelta(minutes=1))
    other = held(title="Watercolor")
    out = io.StringIO()
    call_command("week_out", "--at", f"{at:%Y-%m-%d %H:%M}", stdout=out)  # as of before it ended
    assert "Watercolor" not in out.getvalue() and status(other) == C.RUNNING


def test_beat_completes_courses_every_quarter_hour(settings):
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["enrollment.courses_complete"] == 900.0
