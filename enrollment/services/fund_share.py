"""The Pass the Buck share of a seat, stored on its registration (``fund_paid``, ``fund_returned``):
finance's fund services write it here when they book an award or its return, so that enrollment
reads its own rows and never finance's ledger."""

from decimal import Decimal

from core.money import CENT

from ..models import Registration


def registration_fund_share_set(*, registration: Registration, paid: Decimal | None = None,
                                returned: Decimal | None = None) -> Registration:
    """Store what the fund paid of ``registration`` (``paid``) and what of that award went back
    to the fund (``returned``); ``None`` leaves a value as it is. Returns the registration, its
    attributes updated.

    Called by ``finance.services.fund`` only, inside its transaction and under the locks it
    already holds (this locks nothing itself). Saves these columns alone (``update_fields``): no
    status changes, so no audit row, and ``updated_at`` is left as it was."""
    fields = []
    for name, value in (("fund_paid", paid), ("fund_returned", returned)):
        if value is None:
            continue
        if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
            raise ValueError(f"{name} must be a Decimal of at least zero, not {value!r}.")
        setattr(registration, name, value.quantize(CENT))
        fields.append(name)
    if fields:
        registration.save(update_fields=fields)
    return registration
