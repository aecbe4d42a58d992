"""The transfer page's form (``enrollment.staff.transfer``): the class to move to, why, and the
override reason for staff allowed to override."""

from django import forms

from classes.models import Course

REASON_MAX = 150
OVERRIDE_MAX = 100


class TransferForm(forms.Form):
    to_course = forms.ModelChoiceField(
        queryset=Course.objects.none(), label="Transfer to", empty_label="Choose a class…",
        error_messages={"required": "Choose the class to transfer to.",
                        "invalid_choice": "Choose one of the classes listed."},
    )
    reason = forms.CharField(
        max_length=REASON_MAX, widget=forms.TextInput(attrs={"size": 60}),
        error_messages={"required": "Say why the registration is transferred."},
        help_text="Kept in the registration's history.",
    )
    override_reason = forms.CharField(
        label="Override reason", max_length=OVERRIDE_MAX, required=False, widget=forms.TextInput(attrs={"size": 60}),
        help_text="Only to transfer into a class that is full or closed for registration.",
    )

    def __init__(self, *args, targets, labels: dict[int, str], can_override: bool, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["to_course"]
        field.queryset = targets
        field.label_from_instance = lambda course: labels.get(course.pk, str(course))
        if not can_override:
            del self.fields["override_reason"]
