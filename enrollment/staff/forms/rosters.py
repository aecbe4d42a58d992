"""Forms of the staff roster pages: choosing which rosters to list or print, and taking
attendance at one meeting (a checkbox per confirmed attendee)."""

from django import forms

from classes.models import Semester

from ...models import Registration


class RosterChoiceForm(forms.Form):
    """Which rosters: a semester's, those meeting in a given week, or both (a semester's courses
    meeting that week). Submitted by GET, so the page is a link staff can bookmark."""

    semester = forms.ModelChoiceField(
        queryset=Semester.objects.order_by("-starts_on"), required=False, empty_label="Any semester",
        error_messages={"invalid_choice": "Choose a semester from the list."},
    )
    week = forms.DateField(
        label="Week of", required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Any day of the week (Monday to Sunday).",
        error_messages={"invalid": "Enter a date as YYYY-MM-DD."},
    )

    def __init__(self, *args, require_choice: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.require_choice = require_choice

    def clean(self):
        data = super().clean()
        if self.require_choice and not self.errors and not (data.get("semester") or data.get("week")):
            raise forms.ValidationError("Choose a semester or a week to print.")
        return data


class AttendanceForm(forms.Form):
    """One checkbox per confirmed attendee: ticked = present, not ticked = absent. Saving marks
    everyone on the list. Fields are named ``present_<registration id>``."""

    PREFIX = "present_"

    def __init__(self, *args, registrations: list[Registration], initial_marks: dict[int, bool], **kwargs):
        super().__init__(*args, **kwargs)
        self.registrations = registrations
        for registration in registrations:
            self.fields[f"{self.PREFIX}{registration.pk}"] = forms.BooleanField(
                label=registration.attendee_name, required=False,
                initial=initial_marks.get(registration.pk, False),
            )

    def rows(self):
        """(registration, bound field) in list order, for the template."""
        return [(r, self[f"{self.PREFIX}{r.pk}"]) for r in self.registrations]

    def marks(self) -> dict[int, bool]:
        """Registration id → present, for ``attendance_mark`` (after ``is_valid()``)."""
        return {r.pk: bool(self.cleaned_data.get(f"{self.PREFIX}{r.pk}")) for r in self.registrations}
