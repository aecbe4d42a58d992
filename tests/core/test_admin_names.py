"""Every control of the back office's forms has an accessible name, even where Django gives it no
<label>: both halves of a split date-and-time field, each meeting row of a course (its start,
end, venue and "delete" box), and each attendee row of the front desk's registration form. (The
browser suite's axe scan checks the same on the rendered pages; this checks it without a browser.)"""

import re

import pytest
from django.urls import reverse

from tests.factories import SemesterFactory, course_with_meetings

pytestmark = pytest.mark.django_db


def _aria_labels(html: str) -> dict[str, str]:
    """name attribute → aria-label of every input and select (hidden inputs excepted)."""
    labels = {}
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        if 'type="hidden"' in tag:
            continue
        name = re.search(r'\bname="([^"]+)"', tag)
        label = re.search(r'\baria-label="([^"]+)"', tag)
        if name:
            labels[name.group(1)] = label.group(1) if label else ""
    return labels


def test_a_course_with_six_meetings_names_every_meeting_input(staff_client):
    course = course_with_meetings(weekly=6)
    html = staff_client.get(reverse("admin:classes_course_change", args=[course.pk])).content.decode()
    labels = _aria_labels(html)
    for n in range(6):
        row = f"meetings-{n}-"
        assert labels[f"{row}starts_at_0"] == f"Meeting {n + 1} starts (date)"
        assert labels[f"{row}starts_at_1"] == f"Meeting {n + 1} starts (time)"
        assert labels[f"{row}ends_at_0"] == f"Meeting {n + 1} ends (date)"
        assert labels[f"{row}ends_at_1"] == f"Meeting {n + 1} ends (time)"
        assert labels[f"{row}venue"] == f"Meeting {n + 1} venue"
        assert labels[f"{row}DELETE"] == f"Delete meeting {n + 1}"
    # The extra empty row and the template row "Add another meeting" copies are named too.
    assert labels["meetings-6-starts_at_0"] == "Meeting 7 starts (date)"
    assert labels["meetings-__prefix__-venue"] == "New meeting venue"


def test_the_semester_form_names_both_halves_of_registration_opens(staff_client):
    semester = SemesterFactory()
    for url in (reverse("admin:classes_semester_add"), reverse("admin:classes_semester_change", args=[semester.pk])):
        labels = _aria_labels(staff_client.get(url).content.decode())
        assert labels["registration_opens_at_0"] == "Registration opens at (date)"
        assert labels["registration_opens_at_1"] == "Registration opens at (time)"


def test_the_desk_form_names_every_attendee_row_control(staff_client):
    html = staff_client.get(reverse("desk:register")).content.decode()
    labels = _aria_labels(html)
    rows = sorted({m for m in re.findall(r"row(\d+)-", " ".join(labels))}, key=int)
    assert len(rows) >= 4
    for i in rows:
        n = int(i) + 1
        assert labels[f"row{i}-course"] == f"Row {n} class"
        assert labels[f"row{i}-first_name"] == f"Row {n} first name"
        assert labels[f"row{i}-last_name"] == f"Row {n} last name"
        assert labels[f"row{i}-age"] == f"Row {n} age"
        assert labels[f"row{i}-relationship"] == f"Row {n} attendee is"
        assert labels[f"row{i}-scholarship"] == f"Row {n} Pass the Buck scholarship (the fund pays half)"
