"""What registrants, the call list and the instructor are told when the library changes a class
(``enrollment.services.course_changes``): the words for each change, the "your class changed"
e-mail with the updated calendar file, the call script and the instructor's note.

Templates: ``templates/emails/course_changed.*`` and ``instructor_course_changed.*``. The call
script names no amounts (the front desk reads it and never learns who had a scholarship); the
e-mail tells each patron their own price, which a fee change never changes.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import dateformat, timezone

from classes.changes import CourseChanges, MeetingChange, MeetingState
from core.models import SiteOptions
from core.outbox import outbox_enqueue

from ..models import Registration
from . import common

S = Registration.Status

#: Shown instead of a patron's signed "My registrations" link when staff preview the message:
#: the link is a credential and is never shown to anyone but its patron.
PREVIEW_LINK = "(their own “My registrations” link)"


def _day(value) -> str:
    return dateformat.format(timezone.localtime(value), "l, F j")


def _time(value) -> str:
    return dateformat.format(timezone.localtime(value), "g:i A")


def _span(meeting: MeetingState) -> str:
    """"Tuesday, March 5, 6:30 PM to 8:00 PM"."""
    return f"{_day(meeting.starts_at)}, {_time(meeting.starts_at)} to {_time(meeting.ends_at)}"


def _money(amount) -> str:
    return f"${amount:,.2f}"


def _meeting_line(change: MeetingChange) -> str:
    before, after = change.before, change.after
    if before is None:
        where = f" at {after.place}" if after.own_venue else ""
        return f"A meeting is added: {_span(after)}{where}."
    if after is None:
        return f"The meeting on {_span(before)} is cancelled."
    subject, parts = f"The meeting on {_span(before)}", []
    if change.time_changed:
        if timezone.localtime(before.starts_at).date() == timezone.localtime(after.starts_at).date():
            subject = f"The meeting on {_day(before.starts_at)}"
            parts.append(f"now runs {_time(after.starts_at)} to {_time(after.ends_at)} "
                         f"(it was {_time(before.starts_at)} to {_time(before.ends_at)})")
        else:
            parts.append(f"moves to {_span(after)}")
    if change.place_changed:
        parts.append(f"meets at {after.place} (it was at {before.place.name})")
    return f"{subject} {' and '.join(parts)}."


def change_lines(changes: CourseChanges) -> list[str]:
    """Each change in a sentence, in the order patrons read them: name, place, meetings, fee."""
    lines = []
    if changes.title:
        lines.append(f"The class is now called “{changes.title[1]}” (it was “{changes.title[0]}”).")
    if changes.place:
        old, new = changes.place
        lines.append(f"The class now meets at {new} (it was at {old}).")
    lines += [_meeting_line(c) for c in changes.meetings]
    if changes.fee:
        old, new = changes.fee
        lines.append(f"The fee for new registrations is now {_money(new)} (it was {_money(old)}).")
    return lines


# --- who is told, and how -------------------------------------------------------------------------

@dataclass
class Household:
    """The registrations of one e-mail address in the changed course: one message for them all."""

    email: str
    registrations: list[Registration] = field(default_factory=list)

    @property
    def order(self):
        return self.registrations[0].order


def households(registrations: list[Registration]) -> tuple[list[Household], list[Registration]]:
    """(one household per e-mail address, the registrations without one: the call list)."""
    by_email: dict[str, Household] = {}
    calls = []
    for registration in registrations:
        email = registration.order.email.strip()
        if not email:
            calls.append(registration)
            continue
        by_email.setdefault(email.casefold(), Household(email=email)).registrations.append(registration)
    return list(by_email.values()), calls


def _standing(registration: Registration) -> str:
    """Where the attendee stands in the class, as the sentence after their name."""
    if registration.status == S.WAITLISTED:
        return "is on the waitlist; their place in line is kept"
    if registration.status == S.OFFERED:
        return (f"is offered a seat until {_day(registration.expires_at)} at {_time(registration.expires_at)}; "
                "the link in the offer still works")
    if registration.status == S.HELD:
        return "has a seat held while the registration is finished"
    return "is registered"


def _attendee(registration: Registration, changes: CourseChanges) -> dict:
    price = ""
    if changes.fee:
        amount = _money(registration.patron_price)
        price = (f"If a seat opens for {registration.attendee_name}, it is still {amount}." if registration.status
                 == S.WAITLISTED else f"What you pay for {registration.attendee_name} does not change: {amount}.")
    return {"name": registration.attendee_name, "standing": _standing(registration), "price_line": price}


def _course_context(course) -> dict:
    return {"site": SiteOptions.current(), "site_url": settings.SITE_URL} | common.course_fields(course)


def patron_context(course, changes: CourseChanges, household: Household, *, preview: bool = False) -> dict:
    """The context of the "your class changed" e-mail to one household."""
    link = PREVIEW_LINK if preview else common.manage_url_or_blank(household.email)
    return _course_context(course) | {
        "buyer_first_name": household.order.first_name,
        "manage_url": link,
        "attendees": [_attendee(r, changes) for r in household.registrations],
        "change_lines": change_lines(changes),
        "fee_changed": bool(changes.fee),
        "meeting_removed": bool(changes.removed),
    }


def change_key(course, revision: int, household: Household) -> str:
    return f"course-changed:{course.pk}:{revision}:{household.registrations[0].pk}"


def queue_course_changed(course, changes: CourseChanges, household: Household, *, revision: int,
                         attachment: dict) -> bool:
    """Queue the "your class changed" e-mail to one household (once per change). True if queued."""
    message = outbox_enqueue(to=household.email, template="course_changed",
                             context=patron_context(course, changes, household),
                             dedupe_key=change_key(course, revision, household), attachments=[attachment])
    return message is not None


def change_call_script(registration: Registration, changes: CourseChanges) -> str:
    """What staff say on the phone to a registrant without e-mail. No amounts: the desk reads it."""
    course = registration.course
    site = SiteOptions.current()
    who, buyer = registration.attendee_name, registration.order.buyer_name
    about = "their registration" if who.casefold() == buyer.casefold() else f"{who}'s registration"
    parts = [f"Hello, this is {site.library_name} calling for {buyer} about {about} in “{course.title}”.",
             "We have changed the class:"]
    lines = [line for line in change_lines(changes) if not line.startswith("The fee for new registrations")]
    parts += lines
    if changes.fee:
        parts.append("The fee for new registrations changed; what they pay does not change.")
    if registration.status == S.WAITLISTED:
        parts.append(f"{who} is still on the waitlist; their place in line is kept.")
    meetings = course.ordered_meetings()
    if meetings:
        first = meetings[0]
        venue = first.venue or course.venue
        parts.append(f"The class now starts {_day(first.starts_at)} at {_time(first.starts_at)}, at {venue.name}, "
                     f"{venue.full_address}" + (f", and meets {len(meetings)} times." if len(meetings) > 1 else "."))
    parts.append("Ask whether the new details still work for them, and note what they say.")
    return " ".join(parts)


def instructor_context(course, changes: CourseChanges, *, emailed: int, called: int) -> dict:
    return _course_context(course) | {
        "instructor": course.instructor,
        "change_lines": change_lines(changes),
        "emailed": emailed,
        "called": called,
    }


def queue_instructor_course_changed(course, changes: CourseChanges, *, revision: int, emailed: int,
                                    called: int) -> bool:
    message = outbox_enqueue(to=course.instructor.email, template="instructor_course_changed",
                             context=instructor_context(course, changes, emailed=emailed, called=called),
                             dedupe_key=f"instructor-course-changed:{course.pk}:{revision}")
    return message is not None


def render_preview(template: str, context: dict) -> tuple[str, str]:
    """(subject, plain text) of a message as it would be queued, for staff to read first."""
    subject = " ".join(render_to_string(f"emails/{template}.subject.txt", context).split())
    lines = [line.rstrip() for line in render_to_string(f"emails/{template}.txt", context).strip().splitlines()]
    text, blank = [], False
    for line in lines:  # at most one blank line in a row, as the outbox tidies it
        if line or not blank:
            text.append(line)
        blank = not line
    return subject, "\n".join(text)
