"""The checkout page's forms: one block per class in the cart (how many attendees, the waitlist)
and its attendee forms, gathered with the buyer's form in ``CheckoutForm``. Fields, validators and
the error summary shared with other pages are in ``enrollment.forms``; the buyer's and the gift's
forms in ``enrollment.views.forms``.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError

from classes.models import Course

from ...forms import NameField, SummaryItem, form_error_summary, unbound_copy
from ...models import Registration
from . import BuyerForm, GiftForm

MAX_ATTENDEES = 6


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ClassForm(forms.Form):
    """One class of the cart: how many attendees, and (when it is full) "Put me on the waitlist".

    The page also posts, in hidden inputs written by the template from the server's values (never
    echoed back from a post), the course id, the fee the patron saw, and how many attendee forms
    were shown. :meth:`clean` checks that they still match the cart. The fee is never used for
    charging (the seat service prices every seat from the course): a fee that differs from the
    course's (changed by staff meanwhile, or edited by hand) stops the checkout so the patron
    reviews what they pay.
    """

    attendees = forms.TypedChoiceField(
        label="Attendees for this class", coerce=int, initial=1,
        choices=[(n, str(n)) for n in range(1, MAX_ATTENDEES + 1)],
        error_messages={"invalid_choice": f"Choose from 1 to {MAX_ATTENDEES} attendees.",
                        "required": f"Choose from 1 to {MAX_ATTENDEES} attendees."},
    )
    #: Asked only when a class has fewer seats left than attendees; a class already full was
    #: chosen with its "Join the waitlist" button, so the page posts it as a hidden "on".
    waitlist = forms.BooleanField(label="Put anyone without a seat on the waitlist", required=False)

    def __init__(self, *args, course: Course, cart_ids: list[int], **kwargs):
        self.course = course
        self.cart_ids = cart_ids
        super().__init__(*args, **kwargs)

    def posted(self, name: str) -> str:
        return (self.data.get(self.add_prefix(name)) or "").strip() if self.is_bound else ""

    def clean(self):
        data = super().clean()
        raw = self.posted("course")
        if not raw:
            raise ValidationError("Your cart changed while you were checking out. Please review this class.")
        course_id = _int_or_none(raw)
        if course_id is None:
            raise ValidationError("That class is not in the catalog.")
        if course_id != self.course.pk:
            if course_id in self.cart_ids:
                raise ValidationError("The classes on this page no longer match your cart. Please review them.")
            if not Course.objects.filter(pk=course_id).exists():
                raise ValidationError("That class is not in the catalog.")
            raise ValidationError("That class is not in your cart.")
        try:
            fee = Decimal(self.posted("fee"))
        except InvalidOperation:
            fee = None
        if fee is None or not fee.is_finite() or fee != self.course.fee:
            raise ValidationError(
                f"The fee for this class is ${self.course.fee:,.2f}. Please review your order and submit it again."
            )
        return data


class AttendeeForm(forms.Form):
    """One attendee of one class. The age is asked only for kids' and teen classes."""

    first_name = NameField(label="First name")
    last_name = NameField(label="Last name")
    relationship = forms.ChoiceField(
        label="This attendee is", choices=Registration.Relationship.choices,
        error_messages={"invalid_choice": "Choose myself, a family member, or a friend (gift)."},
    )
    age = forms.IntegerField(
        label="Age", min_value=0, max_value=120,
        error_messages={"required": "Enter the attendee’s age.", "invalid": "Enter the age as a whole number."},
    )

    scholarship = forms.BooleanField(label="Ask for a Pass the Buck scholarship", required=False)

    def __init__(self, *args, course: Course, scholarships: bool = True, half: Decimal | None = None, **kwargs):
        """``half``: what the seat costs the patron with a scholarship (finance's price, given by the
        view); the scholarship box is offered only with it."""
        self.course = course
        super().__init__(*args, **kwargs)
        if scholarships and course.fee > 0 and half is not None:
            self.fields["scholarship"].label = f"Ask for a Pass the Buck scholarship: pay half (${half:,.2f})"
            self.fields["scholarship"].help_text = (
                "Donors to our Pass the Buck fund pay the other half. No questions asked; only the program "
                "coordinator and the library’s finance staff see who asked."
            )
        else:
            del self.fields["scholarship"]
        if course.audience in (Course.Audience.KIDS, Course.Audience.TEENS):
            label = course.age_range_label
            self.fields["age"].help_text = f"This class is for {label.lower()}." if label else ""
            self.fields["age"].widget.attrs["inputmode"] = "numeric"
        else:
            del self.fields["age"]

    def clean_age(self):
        age = self.cleaned_data["age"]
        low, high = self.course.age_min, self.course.age_max
        if age is not None and ((low is not None and age < low) or (high is not None and age > high)):
            raise ValidationError(f"“{self.course.title}” is for {self.course.age_range_label.lower()}.")
        return age


@dataclass
class ClassBlock:
    """A class of the cart on the checkout page: its form and its attendee forms."""

    index: int
    course: Course
    form: ClassForm
    attendees: list[AttendeeForm]
    #: What a seat costs the patron with a Pass the Buck scholarship (finance's price).
    half: Decimal | None = None
    count_changed: bool = False
    offer_waitlist: bool = False
    #: Attendee forms beyond the count, rendered hidden and disabled: the page's script shows
    #: them when the patron raises the count (without scripts, "Update" reloads the page).
    spares: list[AttendeeForm] = field(default_factory=list)

    @property
    def html_id(self) -> str:
        return f"class-{self.index}"

    @property
    def prefix(self) -> str:
        return self.form.prefix


@dataclass
class CheckoutForm:
    """The checkout page's forms together: the buyer, then one block per class in the cart.

    ``rebuild=True`` re-renders a post without validating it (the patron changed how many
    attendees a class has): the forms are unbound, filled with what was posted.
    """

    data: dict | None
    courses: list[Course]
    cart_ids: list[int]
    rebuild: bool = False
    #: Offer "Ask for a Pass the Buck scholarship" (not when the limit option is 0).
    scholarships: bool = True
    #: "Register at full price": the scholarship boxes are ignored (and shown unticked).
    full_price: bool = False
    #: What a seat costs the patron with a Pass the Buck scholarship, by course id: finance's price
    #: (``finance.pricing.scholarship_patron_price``), given by the view. The forms never price.
    halves: dict[int, Decimal] = field(default_factory=dict)
    buyer: BuyerForm = field(init=False)
    gift: GiftForm = field(init=False)
    blocks: list[ClassBlock] = field(init=False)
    non_field_errors: list[str] = field(init=False, default_factory=list)

    def __post_init__(self):
        posted = self.data is not None
        bound_data = self.data if posted and not self.rebuild else None
        if self.rebuild:
            self.buyer = unbound_copy(BuyerForm, self.data, prefix="buyer")
            self.gift = unbound_copy(GiftForm, self.data, prefix="gift")
        else:
            self.buyer = BuyerForm(bound_data, prefix="buyer")
            self.gift = GiftForm(bound_data, prefix="gift")
        self.blocks = []
        for i, course in enumerate(self.courses):
            prefix = f"class{i}"
            count, changed = 1, False
            if posted:
                requested = _int_or_none(self.data.get(f"{prefix}-attendees"))
                shown = _int_or_none(self.data.get(f"{prefix}-shown"))
                if requested is not None and 1 <= requested <= MAX_ATTENDEES:
                    count, changed = requested, requested != shown
                elif shown is not None:  # an impossible count is an error; keep the forms shown
                    count = min(max(shown, 1), MAX_ATTENDEES)
            kwargs = {"course": course, "cart_ids": self.cart_ids}
            if self.rebuild:
                form = unbound_copy(ClassForm, self.data, prefix=prefix, **kwargs)
            else:
                form = ClassForm(bound_data, prefix=prefix, **kwargs)
            attendees = []
            for n in range(count):
                a_prefix = f"{prefix}-attendee{n}"
                first = {"relationship": Registration.Relationship.SELF if n == 0 else Registration.Relationship.FAMILY}
                extra = {"course": course, "scholarships": self.scholarships, "half": self.halves.get(course.pk)}
                if self.rebuild:
                    attendees.append(unbound_copy(AttendeeForm, self.data, prefix=a_prefix, initial=first, **extra))
                else:
                    attendees.append(AttendeeForm(bound_data, prefix=a_prefix, initial=first, **extra))
            spares = [AttendeeForm(prefix=f"{prefix}-attendee{n}", course=course, scholarships=self.scholarships,
                                   half=self.halves.get(course.pk),
                                   initial={"relationship": Registration.Relationship.FAMILY})
                      for n in range(count, MAX_ATTENDEES)]
            block = ClassBlock(index=i, course=course, form=form, attendees=attendees, half=self.halves.get(course.pk),
                               count_changed=changed, spares=spares)
            block.offer_waitlist = not course.problem and course.seats_left < count
            self.blocks.append(block)

    # --- validation -----------------------------------------------------------------------
    @property
    def count_changed(self) -> bool:
        """The post asked for a different number of attendees than the page showed."""
        return any(block.count_changed for block in self.blocks)

    def _forms(self):
        yield self.buyer
        yield self.gift
        for block in self.blocks:
            yield block.form
            yield from block.attendees

    def is_valid(self) -> bool:
        valid = all([form.is_valid() for form in self._forms()])  # a list: validate every form, show all errors
        return valid and not self.non_field_errors

    def add_error(self, message: str) -> None:
        self.non_field_errors.append(message)

    # --- what the seat service needs ------------------------------------------------------
    def attendee_rows(self) -> list[tuple[ClassBlock, AttendeeForm]]:
        """Every attendee in the order given to the seat service (its ``index``)."""
        return [(block, attendee) for block in self.blocks for attendee in block.attendees]

    def asks_scholarship(self, attendee: AttendeeForm) -> bool:
        return not self.full_price and bool(attendee.cleaned_data.get("scholarship"))

    @property
    def join_waitlist(self) -> set[int]:
        """The classes whose waitlist the patron agreed to join (the seat service's argument)."""
        return {block.course.pk for block in self.blocks if block.form.cleaned_data.get("waitlist")}

    def attach_error(self, message: str, *, index: int | None, field: str | None = None, full: bool = False) -> None:
        """Put a seat-service message (the view reads the error) on the attendee and field it names,
        on its class when it concerns the class (``full``: the class had too few seats; closed,
        cancelled), else on the page."""
        rows = self.attendee_rows()
        if index is None or not 0 <= index < len(rows):
            self.add_error(message)
            return
        block, attendee = rows[index]
        if full:
            block.offer_waitlist = True
            block.form.add_error(None, _full_message(block))
        elif field and field in attendee.fields:
            attendee.add_error(field, message)
        else:
            block.form.add_error(None, message)

    # --- the error summary at the top of the page -----------------------------------------
    def error_summary(self) -> list[SummaryItem]:
        items = [SummaryItem(message) for message in self.non_field_errors]
        items += form_error_summary(self.buyer, context="")
        items += form_error_summary(self.gift, context="")
        for block in self.blocks:
            title = block.course.title
            items += form_error_summary(block.form, context=f"{title} — ", block_href=f"#{block.html_id}")
            for n, attendee in enumerate(block.attendees, start=1):
                items += form_error_summary(attendee, context=f"{title}, attendee {n} — ",
                                            block_href=f"#{block.html_id}")
        return items


def _full_message(block: ClassBlock) -> str:
    """A class that had too few seats when the order was placed: what the patron can do, naming
    the one control that does it."""
    course, seats = block.course, max(block.course.seats_left, 0)
    if seats == 0:
        return (f"“{course.title}” filled up while you were checking out. To join its waitlist instead (nothing "
                "is charged for it), press the button at the end of this page again, or remove the class from your cart.")
    return (f"“{course.title}” has only {seats} seat{'s' if seats != 1 else ''} left for your "
            f"{len(block.attendees)} attendees. Tick “{ClassForm.base_fields['waitlist'].label}” under the class, "
            "or choose fewer attendees.")
