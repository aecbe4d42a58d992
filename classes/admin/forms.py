"""Forms of the staff back office for courses: the course form, its meetings formset and the
"copy to semester" choice. Input shape only; the schedule rules themselves live in
``classes.selectors.meeting_problems`` and the models' ``clean()``."""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from core.admin_a11y import NamedRowsFormSetMixin

from ..models import Course, Semester
from ..selectors import MeetingDraft, meeting_problems

# Staff may move a course between these by hand; running, cancelled and completed are decided
# by the week-out run (``course_decide``), never typed into a form.
EDITABLE_STATUSES = (Course.Status.DRAFT, Course.Status.OPEN)


class CourseAdminForm(forms.ModelForm):
    class Meta:
        model = Course
        fields = [
            "semester", "title", "slug", "category", "status", "audience", "age_min", "age_max", "description",
            "what_to_bring", "instructor", "venue", "capacity", "minimum", "fee", "staff_hours", "materials_cost",
            "supplies_cost",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        status = self.fields.get("status")
        if status is not None:
            status.choices = [(value, label) for value, label in Course.Status.choices if value in EDITABLE_STATUSES]
            status.help_text = (
                "Open puts the course in the public catalog. Whether it runs or is cancelled is decided "
                "at the week-out cutoff, not here."
            )


class MeetingInlineFormSet(NamedRowsFormSetMixin, BaseInlineFormSet):
    """The meetings of one course, checked together against the rest of the program.

    In the admin the formset is validated after the course form, with ``self.instance`` the course
    built from the submitted course form, so the checks see the semester, venue and instructor
    being submitted. Each problem goes on the field of the meeting that causes it.
    """

    row_name = "Meeting"

    def clean(self):
        super().clean()
        kept = [
            form
            for form in self.forms
            if form.has_changed() or form.instance.pk is not None
            if not (self.can_delete and self._should_delete_form(form))
        ]
        if not kept:
            raise ValidationError("A course needs at least one meeting.", code="no_meetings")
        drafts = [
            MeetingDraft(
                key=form,
                starts_at=form.cleaned_data["starts_at"],
                ends_at=form.cleaned_data["ends_at"],
                venue=form.cleaned_data.get("venue"),
                pk=form.instance.pk,
            )
            for form in kept
            # Rows with their own errors (a missing time, an end before the start) are reported
            # as such; checking them against the program would only add noise.
            if not form.errors and form.cleaned_data.get("starts_at") and form.cleaned_data.get("ends_at")
        ]
        if not drafts:
            return
        for form, field, message in meeting_problems(course=self.instance, drafts=drafts):
            form.add_error(field if field in form.fields else None, message)


class CopyToSemesterForm(forms.Form):
    semester = forms.ModelChoiceField(
        queryset=Semester.objects.order_by("-starts_on"),
        label="Copy to semester",
        help_text="Each course is copied as a draft, its meetings moved to the same weekdays and times.",
    )
