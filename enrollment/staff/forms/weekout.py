"""The week-out pages' forms (``enrollment.staff.weekout``): mark a call, filter the call list, and
a staff decision before the cutoff."""

from django import forms

from ...models import CallListEntry

Outcome = CallListEntry.Outcome


class CallMarkForm(forms.Form):
    """What happened on the call. "Not called yet" is not an outcome one can record."""

    outcome = forms.ChoiceField(choices=[("", "What happened?")] + [(v, label) for v, label in Outcome.choices if v])
    notes = forms.CharField(max_length=300, required=False, widget=forms.TextInput(attrs={"size": 30}))


class CallFilterForm(forms.Form):
    STATUS_CHOICES = [("todo", "Not called yet"), ("called", "Called"), ("all", "All")]

    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False, label="Show")
    course = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Class")

    def __init__(self, *args, courses: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].choices = [("", "All classes"), *courses]


class DecideForm(forms.Form):
    action = forms.ChoiceField(
        label="Decision", widget=forms.RadioSelect,
        choices=[("run", "Run the class anyway"), ("cancel", "Cancel the class now")],
    )
    reason = forms.CharField(label="Reason", max_length=250, help_text="Kept in the audit trail; a cancellation "
                             "reason is also given to the registrants and the instructor.")
