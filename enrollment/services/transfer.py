"""Transfer: a confirmed registration moved to another course (a new confirmed registration in the
target, the old one marked transferred); finance settles the price difference."""

import datetime as dt

from django.utils import timezone

from classes.models import Course
from core.locking import locked_atomic

from .. import messages
from ..models import Registration
from . import seats
from .errors import AlreadyRegistered, CourseFull, CourseNotOpen, EnrollmentError, InvalidTransition
from .waitlist import waitlist_offer_next

S = Registration.Status


def registration_transfer(
    *, registration_id: int, to_course_id: int, now: dt.datetime | None = None, actor=None,
    actor_label: str = "staff", reason: str = "", override_reason: str = "",
) -> tuple[Registration, Registration]:
    """Move a confirmed registration to another course: a new confirmed registration in the
    target (at the target's fee) and the old one marked transferred. The price difference is
    settled by finance from the order's balance. The old course's freed seat goes to its waitlist.

    The target's rules (open, before the cutoff, a free seat, the attendee not already in it)
    apply unless ``override_reason`` is given. Locks: both courses (ascending id), then the
    registration.
    """
    now = now or timezone.now()
    with locked_atomic():
        from_course_id = Registration.objects.values_list("course_id", flat=True).get(pk=registration_id)
        if from_course_id == to_course_id:
            raise EnrollmentError("Choose a different class to transfer to.", field="to_course")
        courses = seats.courses_lock([from_course_id, to_course_id])
        target = courses.get(to_course_id)
        if target is None:
            raise CourseNotOpen("That class does not exist.", field="to_course")
        qs = Registration.objects.select_related("order")
        old = (qs.select_for_update(of=("self",)) if seats.LOCKING else qs).get(pk=registration_id)
        old.course = courses[from_course_id]
        if old.status != S.CONFIRMED:
            raise InvalidTransition("Only a confirmed registration can be transferred.")
        if override_reason:
            if target.status not in (Course.Status.OPEN, Course.Status.RUNNING):
                raise CourseNotOpen(f"“{target.title}” is {target.get_status_display().lower()}.", field="to_course")
        else:
            seats.course_check_open(target, now=now)
            in_line = Registration.objects.filter(course_id=to_course_id, status=S.WAITLISTED).exists()
            if seats.seats_taken(to_course_id, now=now) >= target.capacity or in_line:
                raise CourseFull(f"“{target.title}” is full.", field="to_course")
        if Registration.objects.filter(
            course_id=to_course_id, attendee_key=old.attendee_key, status__in=Registration.ACTIVE
        ).exists():
            raise AlreadyRegistered(f"{old.attendee_name} is already registered for “{target.title}”.", field="to_course")
        why = reason or "transfer"
        if override_reason:
            why += f"; override: {override_reason}"
        new = Registration(
            order=old.order, course=target, attendee_first_name=old.attendee_first_name,
            attendee_last_name=old.attendee_last_name, attendee_age=old.attendee_age,
            relationship=old.relationship, attendee_key=old.attendee_key, price=target.fee, confirmed_at=now,
            transferred_from=old, fund_paid=old.fund_paid, fund_returned=old.fund_returned,  # an award moves along
        )
        seats.registration_transition(new, S.CONFIRMED, now=now, actor=actor, actor_label=actor_label,
                                      reason=f"{why} from “{old.course}”")
        seats.registration_transition(old, S.TRANSFERRED, now=now, actor=actor, actor_label=actor_label,
                                      reason=f"{why} to “{target}”")
        messages.queue_confirmation(old.order, [new])
        waitlist_offer_next(course_id=from_course_id, now=now)
    return old, new
