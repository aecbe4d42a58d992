"""Forms of the patron pages: the cart buttons, the buyer and the gift at checkout, and the
"My registrations" link request. The checkout page's class and attendee forms are in ``checkout``.

Only the shape of the input is checked here (names, e-mail, phone, the attendee count, that the
hidden fields still match the cart). Seats, the age range, duplicates and whether registration is
open are the seat service's rules: it checks them again when the order is placed, and
:meth:`enrollment.views.forms.checkout.CheckoutForm.attach_error` puts its message on the attendee
and field it names.

Checkout is one page that works without JavaScript: each class in the cart has an "attendees for
this class" count, and changing it re-renders the page with that many attendee forms.
"""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from ...forms import MoneyField, NameField, validate_phone, validate_plain_text
from ...models import ReferralSource

# --- the cart buttons ----------------------------------------------------------------------

class CourseChoiceForm(forms.Form):
    """The hidden course id of an "add to cart" or "remove" button."""

    course = forms.IntegerField(
        min_value=1, max_value=2**62, widget=forms.HiddenInput,
        error_messages={"required": "Choose a class.", "invalid": "That class is not in the catalog.",
                        "min_value": "That class is not in the catalog.", "max_value": "That class is not in the catalog."},
    )

    def error_text(self) -> str:
        return " ".join(str(e) for errors in self.errors.values() for e in errors)


# --- checkout ------------------------------------------------------------------------------

class BuyerForm(forms.Form):
    """Who is paying and how to reach them, and "How did you hear about us?" (asked once)."""

    first_name = NameField(label="First name", autocomplete="given-name")
    last_name = NameField(label="Last name", autocomplete="family-name")
    email = forms.EmailField(
        label="E-mail", max_length=254, help_text="Your confirmation, receipt and reminders come here.",
        error_messages={"required": "Enter your e-mail address."},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label="Phone", max_length=40, validators=[validate_phone],
        error_messages={"required": "Enter a phone number with its area code."},
        help_text="In case we need to reach you about a class (a cancellation or a room change).",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    street_address = forms.CharField(
        label="Street address", max_length=200, required=False, validators=[validate_plain_text],
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    city_state_zip = forms.CharField(
        label="City, state and ZIP", max_length=120, required=False, validators=[validate_plain_text],
    )
    mail_catalog = forms.BooleanField(
        label="Mail me the printed catalog", required=False,
        help_text="We mail it each semester to the address above.",
    )
    referral = forms.ModelChoiceField(
        label="How did you hear about us?", queryset=ReferralSource.objects.none(), empty_label="Choose one",
        error_messages={"required": "Tell us how you heard about our classes.",
                        "invalid_choice": "Choose one of the answers in the list."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["referral"].queryset = ReferralSource.objects.filter(active=True)

    def clean(self):
        data = super().clean()
        if data.get("mail_catalog"):
            if not data.get("street_address") and "street_address" not in self.errors:
                self.add_error("street_address", "Enter your street address so we can mail you the catalog.")
            if not data.get("city_state_zip") and "city_state_zip" not in self.errors:
                self.add_error("city_state_zip", "Enter your city, state and ZIP so we can mail you the catalog.")
        return data


GIFT_MIN = Decimal("1.00")
GIFT_MAX = Decimal("10000.00")


class GiftForm(forms.Form):
    """"Add a gift to Pass the Buck" (optional): charged with the seats, booked as a donation."""

    amount = MoneyField(
        label="Add a gift to Pass the Buck (optional)", required=False, allow_zero=True, max_value=GIFT_MAX,
        help_text="In dollars, e.g. 10 or 25.00. Pass the Buck pays half the fee of anyone who asks for a "
                  "scholarship. You get a receipt by e-mail.",
        error_messages={
            "invalid": "Enter the gift in dollars, like 10 or 25.00.",
            "max_decimal_places": "Use at most two decimals (cents).",
            "max_value": f"For a gift over ${GIFT_MAX:,.0f}, please contact the library.",
            "max_digits": f"For a gift over ${GIFT_MAX:,.0f}, please contact the library.",
            "max_whole_digits": f"For a gift over ${GIFT_MAX:,.0f}, please contact the library.",
            "negative": "A gift must be more than $0. Leave the box empty for no gift.",
        },
    )
    anonymous = forms.BooleanField(label="Keep my gift anonymous", required=False,
                                   help_text="We won’t list your name among our donors.")

    def clean_amount(self) -> Decimal:
        value = self.cleaned_data.get("amount")
        if value is None:
            return Decimal("0.00")  # no gift
        if value == 0:
            raise ValidationError("A gift must be more than $0. Leave the box empty for no gift.", code="zero")
        if value < GIFT_MIN:
            raise ValidationError(f"The smallest gift by card is ${GIFT_MIN:,.2f}.", code="min")
        return value.quantize(Decimal("0.01"))


class LinkRequestForm(forms.Form):
    email = forms.EmailField(
        label="Your e-mail address", max_length=254, error_messages={"required": "Enter your e-mail address."},
        help_text="The address you used when you registered.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
