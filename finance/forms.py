"""Forms of finance: the back office's "refund issued" step (one refund check number per refund)."""

from django import forms


class RefundIssuedForm(forms.Form):
    refund_id = forms.IntegerField(widget=forms.HiddenInput)
    reference = forms.CharField(
        label="Refund check number", max_length=120,
        help_text="The number of the refund check (for cash, the receipt number or who handed it out).",
    )


RefundIssuedFormSet = forms.formset_factory(RefundIssuedForm, extra=0)
