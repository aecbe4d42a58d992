"""The front desk's registration page as one form (``enrollment.staff.desk``): the patron, the
attendee rows, the override and the payment (``enrollment.staff.forms.desk``) together, with the
error summary at the top of the page. Messages of the seat service and of finance are put on the
row and field they name by the view (:meth:`DeskRegistrationForm.attach_row_error`,
:meth:`DeskRegistrationForm.attach_payment_error`)."""

import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

from ...forms import unbound_copy
from ...models import Registration
from .desk import AttendeeRowForm, DeskBuyerForm, DeskCourses, DeskPaymentForm, OfflineMethods, OverrideForm

ROWS = 4
MAX_ROWS = 24
MORE_ROWS = 4
_NONCE = re.compile(r"^[0-9a-f]{32}$")


# --- the registration page's forms together ----------------------------------------------

@dataclass
class DeskRegistrationForm:
    """The patron, the attendee rows, the override (when allowed) and the payment (when the user
    may take money; otherwise nothing is taken and the total stays as balance due).

    ``rebuild=True`` re-renders a post with more rows, without validating it.
    """

    data: dict | None
    courses: DeskCourses
    can_override: bool
    can_take_money: bool
    methods: OfflineMethods
    initial_buyer: dict | None = None
    #: Staff allowed to grant a Pass the Buck scholarship (``finance.grant_scholarship``) see its column.
    can_grant: bool = False
    rebuild: bool = False
    buyer: DeskBuyerForm = field(init=False)
    rows: list[AttendeeRowForm] = field(init=False)
    override: OverrideForm | None = field(init=False)
    payment: DeskPaymentForm | None = field(init=False)
    non_field_errors: list[str] = field(init=False, default_factory=list)
    nonce: str = field(init=False)

    def __post_init__(self):
        data = self.data
        posted_nonce = (data or {}).get("nonce", "")
        self.nonce = posted_nonce if _NONCE.match(posted_nonce or "") else uuid.uuid4().hex
        count = ROWS
        if data is not None:
            try:
                count = int(data.get("rows", ROWS))
            except (TypeError, ValueError):
                count = ROWS
            if self.rebuild:
                count += MORE_ROWS
            count = min(max(count, 1), MAX_ROWS)

        def make(form_class, prefix, **kwargs):
            if data is None:
                return form_class(prefix=prefix, **kwargs)
            if self.rebuild:
                return unbound_copy(form_class, data, prefix=prefix, initial=kwargs.pop("initial", None), **kwargs)
            kwargs.pop("initial", None)
            return form_class(data, prefix=prefix, **kwargs)

        self.buyer = make(DeskBuyerForm, "buyer", initial=self.initial_buyer)
        self.rows = [make(AttendeeRowForm, f"row{i}", courses=self.courses, can_grant=self.can_grant,
                          initial={"relationship": Registration.Relationship.SELF if i == 0
                                   else Registration.Relationship.FAMILY})
                     for i in range(count)]
        self.override = make(OverrideForm, "override") if self.can_override else None
        self.payment = make(DeskPaymentForm, "pay", methods=self.methods) if self.can_take_money else None

    def _forms(self):
        yield self.buyer
        yield from self.rows
        if self.override is not None:
            yield self.override
        if self.payment is not None:
            yield self.payment

    def is_valid(self) -> bool:
        valid = all([form.is_valid() for form in self._forms()])  # a list: every form shows its errors
        if not any(not row.is_blank for row in self.rows):
            self.add_error("Add at least one attendee: choose a class and enter the attendee’s name.")
        return valid and not self.non_field_errors

    def add_error(self, message: str) -> None:
        if message not in self.non_field_errors:
            self.non_field_errors.append(message)

    # --- what the services need ------------------------------------------------------------
    def filled_rows(self) -> list[AttendeeRowForm]:
        """The rows with an attendee, in the order given to the seat service (its ``index``)."""
        return [row for row in self.rows if not row.is_blank]

    @property
    def override_reason(self) -> str:
        return self.override.override_reason if self.override is not None else ""

    @property
    def amount(self) -> Decimal | None:
        """None: the whole total. Staff who may not take money take nothing (0)."""
        if self.payment is None:
            return Decimal("0.00")
        return self.payment.cleaned_data.get("amount")

    def payment_data(self) -> dict:
        if self.payment is None:
            return {"provider": self.methods.cash, "reference": "", "payer": ""}
        data = self.payment.cleaned_data
        return {"provider": data["provider"], "reference": data["reference"], "payer": data["payer"]}

    def attach_row_error(self, message: str, *, index: int | None, field: str | None = None,
                         overridable: bool = False) -> None:
        """A seat-service message (the view reads the error) on the row and field it names (the
        class when it concerns the class), with a pointer to the override where one would let it
        through (``overridable``)."""
        if overridable and not self.override_reason:
            if self.can_override:
                message += " To register anyway, tick “Override” and give a reason."
            else:
                message += " Only staff allowed to override can register for it now."
        rows = self.filled_rows()
        if index is None or not 0 <= index < len(rows):
            self.add_error(message)
            return
        row = rows[index]
        name = field if field in ("first_name", "last_name", "age") else "course"
        if field == "scholarship" and "scholarship" in row.fields:
            name = "scholarship"
        row.add_error(name, message)

    def attach_payment_error(self, message: str, *, field: str | None = None) -> None:
        """A payment's message on the payment field it names, else at the top of the page."""
        if self.payment is not None and field in self.payment.fields:
            self.payment.add_error(field, message)
        else:
            self.add_error(message)

    # --- the error summary at the top of the page --------------------------------------------
    def error_summary(self) -> list[tuple[str, str]]:
        """(text, link) of every error, for the summary at the top of the page."""
        items = [(message, "") for message in self.non_field_errors]
        items += form_errors(self.buyer, context="Patron")
        for n, row in enumerate(self.rows, start=1):
            items += form_errors(row, context=f"Attendee row {n}")
        if self.override is not None:
            items += form_errors(self.override, context="Override")
        if self.payment is not None:
            items += form_errors(self.payment, context="Payment")
        return items

    @property
    def row_count(self) -> int:
        return len(self.rows)


def form_errors(form: forms.Form, *, context: str) -> list[tuple[str, str]]:
    if not form.is_bound:
        return []
    items = []
    for name, errors in form.errors.items():
        for error in errors:
            if name == NON_FIELD_ERRORS:
                items.append((f"{context}: {error}", ""))
            else:
                bound = form[name]
                items.append((f"{context}, {bound.label.lower()}: {error}", f"#{bound.auto_id}"))
    return items
