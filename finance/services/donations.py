"""Donations to Pass the Buck taken at the desk (cash or check), and their receipts.

- ``donation_record_offline``: one transaction writes the ``Donation`` (succeeded at once), its
  fund entry (``fund_donation_record``, ``dedupe_key="donation:<pk>"``) and, when the donor gave
  an e-mail address, the acknowledgement with the receipt PDF attached through the outbox
  (``dedupe_key="donation-receipt:<pk>"``). A refused input writes nothing.
- ``donation_receipt_pdf``: the receipt (``templates/finance/donation_receipt.html``) as PDF
  bytes, made with WeasyPrint.

Amounts are checked like desk payments (``offline.clean_amount``): Decimal, above zero, at most
two decimals, at most $99,999.99; floats are refused.
"""

import base64
import datetime as dt
import logging

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from core.models import SiteOptions
from core.outbox import outbox_enqueue

from ..models import Donation
from .fund import fund_donation_record
from .offline import OfflinePaymentInvalid, clean_amount

log = logging.getLogger(__name__)

M = Donation.Method
OFFLINE_METHODS = (M.CASH, M.CHECK)
NAME_MAX = 80
REFERENCE_MAX = 120
DEDICATION_MAX = 200
ADDRESS_MAX = 500


class DonationInvalid(OfflinePaymentInvalid):
    """A donation that cannot be recorded as given; ``field`` names the input at fault."""

    default_message = "The donation could not be recorded."


def _text(value, *, field: str, limit: int, required: str = "") -> str:
    value = " ".join((value or "").split())
    if required and not value:
        raise DonationInvalid(required, field=field)
    if len(value) > limit:
        raise DonationInvalid(f"Use at most {limit} characters.", field=field)
    return value


def donation_record_offline(
    *, first_name: str, last_name: str, email: str = "", address: str = "", amount, method: str,
    reference: str = "", dedication: str = "", anonymous: bool = False, taken_by, now: dt.datetime | None = None,
) -> Donation:
    """Record cash or a check given to Pass the Buck at the desk: a succeeded ``Donation`` with
    who took it, its fund entry (+amount) and, with an e-mail address, the acknowledgement e-mail
    carrying the receipt PDF — all in one transaction, so a refusal or failure leaves nothing.

    Raises ``DonationInvalid`` (``field`` = ``amount``, ``method``, ``reference``, ``first_name``…).
    No lock: money in can never overspend the fund.
    """
    if taken_by is None:
        raise ValueError("taken_by: the staff member who took the money is required")
    now = now or timezone.now()
    try:
        amount = clean_amount(amount)
    except OfflinePaymentInvalid as exc:
        raise DonationInvalid(exc.message, field="amount") from None
    if method not in OFFLINE_METHODS:
        raise DonationInvalid("Choose cash or check.", field="method")
    first_name = _text(first_name, field="first_name", limit=NAME_MAX, required="Enter the donor's first name.")
    last_name = _text(last_name, field="last_name", limit=NAME_MAX, required="Enter the donor's last name.")
    reference = _text(reference, field="reference", limit=REFERENCE_MAX,
                      required="Enter the check number." if method == M.CHECK else "")
    dedication = _text(dedication, field="dedication", limit=DEDICATION_MAX)
    email = (email or "").strip()
    address = (address or "").strip()
    if len(address) > ADDRESS_MAX:
        raise DonationInvalid(f"Use at most {ADDRESS_MAX} characters.", field="address")
    with transaction.atomic():
        donation = Donation.objects.create(
            first_name=first_name, last_name=last_name, email=email, address=address, amount=amount,
            method=method, reference=reference, dedication=dedication, anonymous=bool(anonymous),
            status=Donation.Status.SUCCEEDED, taken_by=taken_by, created_at=now, succeeded_at=now,
        )
        fund_donation_record(amount=amount, by=taken_by, dedupe_key=f"donation:{donation.pk}",
                             reason=f"Donation {donation.receipt_number} ({donation.get_method_display().lower()})",
                             now=now)
        donation_acknowledgement_queue(donation=donation)
    log.info("donation %s: %s by user %s", donation.pk, method, taken_by.pk)
    return donation


def donation_acknowledgement_queue(*, donation: Donation):
    """Queue the thank-you e-mail with the receipt PDF attached (``templates/emails/donation_receipt``),
    once per donation. None when the donor left no e-mail or it was already queued."""
    if not donation.email or donation.status != Donation.Status.SUCCEEDED:
        return None
    pdf = donation_receipt_pdf(donation)
    context = {"site": SiteOptions.current(), "donation": donation, "amount": donation.amount,
               "receipt_number": donation.receipt_number, "donor_first_name": donation.first_name}
    return outbox_enqueue(
        to=donation.email, template="donation_receipt", context=context,
        dedupe_key=f"donation-receipt:{donation.pk}",
        attachments=[{"filename": receipt_filename(donation), "mimetype": "application/pdf",
                      "content_b64": base64.b64encode(pdf).decode("ascii")}],
    )


def receipt_filename(donation: Donation) -> str:
    return f"receipt-{donation.receipt_number}.pdf"


def donation_receipt_html(donation: Donation) -> str:
    """The receipt as HTML: the library, the non-profit statement, the donor's name as given (even
    when anonymous: the receipt is theirs), amount, local date, receipt number, method, dedication."""
    when = donation.succeeded_at or donation.created_at
    return render_to_string("finance/donation_receipt.html", {
        "site": SiteOptions.current(), "donation": donation, "date": timezone.localtime(when).date(),
    })


def donation_receipt_pdf(donation: Donation) -> bytes:
    """The receipt as PDF bytes (WeasyPrint; nothing is fetched from outside)."""
    from weasyprint import HTML  # heavy import: only when a receipt is made

    return HTML(string=donation_receipt_html(donation), base_url=None).write_pdf()
