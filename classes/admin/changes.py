"""Changing a course people registered for, in the back office.

- The capacity cannot go below the seats taken (``enrollment.selectors.course_seats_taken``).
- A change patrons would notice (name, venue, meeting times or places, meetings added or
  removed, fee) of a course with registrants is not saved at once: staff first see what changes,
  who is told and how, and the message (``admin/classes/course/change_confirm.html``), then save
  and tell them, or go back to the form with what they typed.
- On save, in the same transaction, ``enrollment.services.course_changes.course_change_notify``
  tells the registrants, the call list and the instructor.

The before/after snapshots come from the database (``classes.changes.course_state``), taken in
``save_model`` and ``save_related``; the confirmation is worked out by saving and rolling back, so
it shows exactly what the real save will send. The whole save holds the course row's lock, so no
seat is taken between the capacity check and the save.
"""

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils import timezone

from core.locking import Busy, locked_atomic
from enrollment.messages.course_changes import change_call_script, change_lines, patron_context, render_preview
from enrollment.selectors import course_seats_taken
from enrollment.services.course_changes import (
    ChangeAudience,
    course_change_audience_preview,
    course_change_notify,
    course_for_messages,
)

from ..changes import CourseChanges, course_changes, course_state
from ..models import Course
from .forms import CourseAdminForm

#: POST keys of this flow, never copied into the confirmation page's hidden fields.
FLOW_KEYS = {"csrfmiddlewaretoken", "_change_token", "_confirm_change", "_edit_again"}
EDIT_AGAIN = "Not saved yet: change what you need, then save again."
BUSY = "Not saved: someone was registering for this class at that moment. Please save again."


class CourseChangeForm(CourseAdminForm):
    #: Set by ``CourseChangesMixin.get_form`` when the form is shown again unsaved ("Go back").
    show_again = False

    def clean_capacity(self):
        capacity = self.cleaned_data.get("capacity")
        if capacity is not None and self.instance.pk is not None:
            taken = course_seats_taken(self.instance.pk, now=timezone.now())
            if capacity < taken:
                raise ValidationError(
                    f"{taken} seat{'s are' if taken != 1 else ' is'} taken (confirmed, or held or offered right now): "
                    f"the capacity cannot be below {taken}.", code="below_seats_taken")
        return capacity

    def is_valid(self):
        # Shown again with what was typed, unsaved: the admin re-renders a bound form only when
        # it is not valid; no field is wrong, so no error is added (the page says why instead).
        return False if self.show_again else super().is_valid()


class NeedsConfirmation(Exception):
    """Raised inside the save's transaction (which rolls it back) to ask staff first."""

    def __init__(self, *, course: Course, changes: CourseChanges, audience: ChangeAudience, stale: bool,
                 samples: dict):
        super().__init__("this change reaches registrants: confirm it first")
        self.course, self.changes, self.audience, self.stale = course, changes, audience, stale
        self.samples = samples


class CourseChangesMixin:
    """For ``CourseAdmin``: the capacity check, the confirmation page and the notices."""

    change_confirmation_template = "admin/classes/course/change_confirm.html"

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if getattr(request, "_course_show_again", False):
            form = type(form.__name__, (form,), {"show_again": True})
        return form

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method != "POST" or object_id is None or "_saveasnew" in request.POST:
            return super().changeform_view(request, object_id, form_url, extra_context)
        if "_edit_again" in request.POST:
            return self._show_again(request, object_id, form_url, extra_context, EDIT_AGAIN)
        pk = unquote(object_id)
        if not str(pk).isdigit():
            return super().changeform_view(request, object_id, form_url, extra_context)
        try:
            with locked_atomic():
                list(Course.objects.select_for_update().filter(pk=pk).values_list("pk"))
                return super().changeform_view(request, object_id, form_url, extra_context)
        except NeedsConfirmation as pending:
            return self._confirmation(request, pending)
        except Busy:
            return self._show_again(request, object_id, form_url, extra_context, BUSY)

    def _show_again(self, request, object_id, form_url, extra_context, why: str):
        request._course_show_again = True
        self.message_user(request, why, messages.WARNING)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if change:
            request._course_before = course_state(obj.pk)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        before = getattr(request, "_course_before", None)
        if not change or before is None:
            return
        course = form.instance
        changes = course_changes(before, course_state(course.pk))
        if not changes.tells_patrons:
            return
        audience = course_change_audience_preview(course.pk)
        token = request.POST.get("_change_token", "")
        if audience.count and token != changes.digest():
            raise NeedsConfirmation(course=course, changes=changes, audience=audience, stale=bool(token),
                                    samples=self._samples(request, course.pk, changes, audience))
        notice = course_change_notify(course_id=course.pk, changes=changes, actor=request.user)
        told = notice.audience
        if told.count:
            parts = [f"{told.emailed_count} registrant{'s' if told.emailed_count != 1 else ''} e-mailed"]
            if told.calls:
                parts.append(f"{len(told.calls)} put on the call list")
            if notice.instructor_told:
                parts.append("the instructor e-mailed")
            self.message_user(request, f"“{course.title}” changed: {', '.join(parts)}.", messages.SUCCESS)

    # --- the confirmation page ------------------------------------------------------------------
    def _confirmation(self, request, pending: NeedsConfirmation):
        course = Course.objects.select_related("instructor").get(pk=pending.course.pk)  # as saved, not as typed
        changes, audience = pending.changes, pending.audience
        emailed_ids = {r.pk for h in audience.households for r in h.registrations}
        rows = [(r, "E-mail" if r.pk in emailed_ids else f"Phone call ({r.order.phone or 'no phone number'})")
                for r in audience.registrations]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Tell registrants about the change to “{course.title}”?",
            "subtitle": None,
            "opts": self.opts,
            "course": course,
            "instructor": course.instructor,
            "change_lines": change_lines(changes),
            "capacity": changes.capacity,
            "emailed": audience.emailed_count,
            "households": len(audience.households),
            "called": len(audience.calls),
            "total": audience.count,
            "rows": rows,
            "hidden": [(name, value) for name, values in request.POST.lists() if name not in FLOW_KEYS
                       for value in values],
            "token": changes.digest(),
            "stale": pending.stale,
            **pending.samples,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.change_confirmation_template, context)

    def _samples(self, request, course_id: int, changes: CourseChanges, audience: ChangeAudience) -> dict:
        """The e-mail and the call script for one registrant, rendered from the course as the
        save left it (called before the save is rolled back). A household whose seat a
        scholarship paid for is shown only to staff who may see scholarships; the patron's signed
        link is never shown."""
        may_see_awards = request.user.has_perm("finance.view_fundentry")
        sample = next((h for h in audience.households if all(not r.fund_paid for r in h.registrations)), None)
        if sample is None and may_see_awards and audience.households:
            sample = audience.households[0]
        course = course_for_messages(course_id)
        result = {"sample_subject": "", "sample_text": "", "sample_script": ""}
        if sample is not None:
            for registration in sample.registrations:
                registration.course = course
            context = patron_context(course, changes, sample, preview=True)
            result["sample_subject"], result["sample_text"] = render_preview("course_changed", context)
        if audience.calls:
            call = audience.calls[0]
            call.course = course
            result["sample_script"] = change_call_script(call, changes)
        return result
