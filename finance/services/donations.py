"""Donations to Pass the Buck: cash and checks taken at the desk, gifts by card on the public
page (``/give/``), and their receipts.

- ``donation_record_offline``: one transaction writes the ``Donation`` (succeeded at once), its
  fund entry and its acknowledgement (through ``donation_succeed``). A refused input writes nothing.
- ``donation_start_card``: a pending card ``Donation`` and its Stripe PaymentIntent (id in
  ``reference``); ``donation_card_resume`` re-reads it for the card step; ``donation_confirm`` (the
  browser's return and the webhook) records what Stripe says, once; ``donation_confirm_local`` is
  the half of Stripe.js that localstripe's fake one cannot do.
- ``donation_succeed``: the one place a donation becomes succeeded: its fund entry
  (``fund_donation_record``, ``dedupe_key="donation:<pk>"``) and, when the donor gave an e-mail
  address, the acknowledgement with the receipt PDF attached through the outbox
  (``dedupe_key="donation-receipt:<pk>"``) — each once, however often it is called.
- ``donation_receipt_pdf``: the receipt (``templates/finance/donation_receipt.html``) as PDF
  bytes, made with WeasyPrint.

Amounts are checked like desk payments (``offline.clean_amount``): Decimal, above zero, at most
two decimals, at most $99,999.99; floats are refused. A gift by card is at least $1.00 and needs
an e-mail address (the receipt goes there). Logs carry ids, never names or e-mail addresses.
"""

import base64
import datetime as dt
import hashlib
import logging
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from core.locking import locked_atomic
from core.models import SiteOptions
from core.money import to_cents
from core.outbox import outbox_enqueue

from .. import gateway
from ..errors import AmountMismatch, DonationNotFound, GatewayUnavailable, PaymentError
from ..limits import ADDRESS_MAX, DEDICATION_MAX, DONATION_REFERENCE_MAX, DONOR_NAME_MAX
from ..models import Donation
from .fund import fund_donation_record
from .intents import Outcome, intent_outcome
from .offline import OfflinePaymentInvalid, clean_amount

log = logging.getLogger(__name__)

M = Donation.Method
S = Donation.Status
OFFLINE_METHODS = (M.CASH, M.CHECK)
NAME_MAX = DONOR_NAME_MAX
REFERENCE_MAX = DONATION_REFERENCE_MAX
EMAIL_MAX = 254
#: The smallest gift taken by card (below it the card fees eat the gift).
CARD_MINIMUM = Decimal("1.00")
#: PaymentIntent states in which the donor can still (re)try paying it.
OPEN_INTENT = {"requires_payment_method", "requires_confirmation", "requires_action"}


class DonationInvalid(OfflinePaymentInvalid):
    """A donation that cannot be recorded as given; ``field`` names the input at fault."""

    default_message = "The donation could not be recorded."


class DonationNotPayable(PaymentError):
    """The gift's PaymentIntent was canceled, or Stripe no longer knows it: start a new gift."""

    default_message = "This gift can no longer be paid by card. Please start again."


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
    amount = _amount(amount)
    if method not in OFFLINE_METHODS:
        raise DonationInvalid("Choose cash or check.", field="method")
    donor = _donor(first_name=first_name, last_name=last_name, email=email, address=address,
                   dedication=dedication, whose="the donor's")
    reference = _text(reference, field="reference", limit=REFERENCE_MAX,
                      required="Enter the check number." if method == M.CHECK else "")
    with transaction.atomic():
        donation = Donation.objects.create(
            **donor, amount=amount, method=method, reference=reference, anonymous=bool(anonymous),
            status=S.PENDING, taken_by=taken_by, created_at=now,
        )
        donation_succeed(donation=donation, now=now)
    log.info("donation %s: %s by user %s", donation.pk, method, taken_by.pk)
    return donation


def _amount(value, *, minimum: Decimal | None = None) -> Decimal:
    try:
        amount = clean_amount(value)
    except OfflinePaymentInvalid as exc:
        raise DonationInvalid(exc.message, field="amount") from None
    if minimum is not None and amount < minimum:
        raise DonationInvalid(f"The smallest gift by card is ${minimum}.", field="amount")
    return amount


def _donor(*, first_name, last_name, email, address, dedication, whose: str, email_required: str = "") -> dict:
    """The donor's details, trimmed and checked (``DonationInvalid`` on the field at fault)."""
    email = (email or "").strip()
    if email_required and not email:
        raise DonationInvalid(email_required, field="email")
    if email:
        try:
            if len(email) > EMAIL_MAX:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            raise DonationInvalid("Enter an e-mail address like name@example.com.", field="email") from None
    address = (address or "").strip()
    if len(address) > ADDRESS_MAX:
        raise DonationInvalid(f"Use at most {ADDRESS_MAX} characters.", field="address")
    return {
        "first_name": _text(first_name, field="first_name", limit=NAME_MAX, required=f"Enter {whose} first name."),
        "last_name": _text(last_name, field="last_name", limit=NAME_MAX, required=f"Enter {whose} last name."),
        "email": email, "address": address,
        "dedication": _text(dedication, field="dedication", limit=DEDICATION_MAX),
    }


def donation_succeed(*, donation: Donation, now: dt.datetime | None = None) -> Donation:
    """Make ``donation`` succeeded: ``succeeded_at``, its fund entry (+amount, booked once under
    ``donation:<pk>``) and the thank-you e-mail with the receipt PDF (queued once, when the donor
    gave an e-mail address). Idempotent: a donation already succeeded is returned unchanged and
    nothing more is booked or sent.

    Call it inside the caller's transaction, so the donation, its entry and its e-mail commit (or
    roll back) together. Locks: the donation row (``SELECT … FOR UPDATE``, re-read under the lock;
    a caller that holds that lock already keeps it). ``donation`` is updated in place and returned.
    """
    if donation.pk is None:
        raise ValueError("donation_succeed needs a saved donation")
    now = now or timezone.now()
    with transaction.atomic():
        current = Donation.objects.select_for_update().get(pk=donation.pk)
        if current.status == S.SUCCEEDED:
            donation.status, donation.succeeded_at = current.status, current.succeeded_at
            donation.failure_message = current.failure_message
            return donation
        donation.status, donation.succeeded_at, donation.failure_message = S.SUCCEEDED, now, ""
        donation.save(update_fields=["status", "succeeded_at", "failure_message"])
        fund_donation_record(
            amount=donation.amount, by=donation.taken_by, dedupe_key=f"donation:{donation.pk}",
            payment=getattr(donation, "payment", None),  # a gift added at checkout: the class payment
            reason=f"Donation {donation.receipt_number} ({donation.get_method_display().lower()})", now=now,
        )
        donation_acknowledgement_queue(donation=donation)
    log.info("donation %s succeeded (%s)", donation.pk, donation.method)
    return donation


# --- gifts by card (the public page) ---------------------------------------------------------------

def _idempotency_key(donation: Donation, cents: int, *, replacing: str = "") -> str:
    """Stripe's idempotency key for creating the gift's PaymentIntent (or the one ``replacing`` a
    declined one): a retried create (a timeout) gets the same intent back. Derived from the
    donation's unguessable token, never from its id alone."""
    what = f"{donation.token}:{cents}:{replacing}"
    return "lc-donation-" + hashlib.sha256(what.encode()).hexdigest()[:40]


def _intent_metadata(donation: Donation) -> dict:
    return {"kind": "donation", "donation": donation.pk}


def donation_start_card(
    *, first_name: str, last_name: str, email: str, address: str = "", amount, dedication: str = "",
    anonymous: bool = False, now: dt.datetime | None = None,
) -> tuple[Donation, str]:
    """Start a gift by card: a pending card ``Donation`` and its Stripe PaymentIntent (metadata
    ``kind=donation``, the donation's id; its id stored in ``reference``). Returns the donation and
    the intent's client secret for Stripe.js.

    Checks everything before writing anything: ``DonationInvalid`` (``field`` = ``amount``,
    ``email``, ``first_name``, ``last_name``, ``address``, ``dedication``) leaves no row and no
    intent. The amount is at least $1.00; the e-mail address is required (the receipt goes there).
    When Stripe cannot be reached (``GatewayUnavailable``) the pending row is removed again.
    No lock: nothing is shared until the money arrives (``donation_confirm``).
    """
    now = now or timezone.now()
    amount = _amount(amount, minimum=CARD_MINIMUM)
    donor = _donor(first_name=first_name, last_name=last_name, email=email, address=address,
                   dedication=dedication, whose="your",
                   email_required="Enter your e-mail address: your receipt goes there.")
    gateway.local_webhook_register()
    donation = Donation.objects.create(**donor, amount=amount, method=M.CARD, anonymous=bool(anonymous),
                                       status=S.PENDING, created_at=now)
    cents = to_cents(amount)
    try:
        intent = gateway.intent_create(amount_cents=cents, metadata=_intent_metadata(donation),
                                       idempotency_key=_idempotency_key(donation, cents))
    except GatewayUnavailable:
        Donation.objects.filter(pk=donation.pk, status=S.PENDING, reference="").delete()  # no intent: no trace
        raise
    donation.reference = intent.id
    donation.save(update_fields=["reference"])
    log.info("donation %s: card gift started, intent %s", donation.pk, intent.id)
    return donation, intent.client_secret


def donation_card_resume(*, donation: Donation, now: dt.datetime | None = None) -> tuple[Donation, str, str]:
    """What the card step needs: (the donation as it stands, the client secret, the intent's
    status). A gift paid meanwhile (the webhook, another tab) is recorded through
    ``donation_confirm`` and comes back succeeded, with no secret. After a declined card (or a
    failed 3-D Secure check) the intent is canceled and replaced by a fresh one, as an order's
    next try gets, so the donor can try another card.

    Raises ``DonationNotPayable`` when the intent was canceled or Stripe no longer knows it,
    ``GatewayUnavailable`` when Stripe cannot be read. Locks the donation row only to replace
    its intent (``core.locking.Busy`` when another request holds it too long)."""
    donation = Donation.objects.get(pk=donation.pk)
    if donation.status == S.SUCCEEDED:
        return donation, "", "succeeded"
    if donation.method != M.CARD or not donation.reference:
        raise DonationNotPayable()
    try:
        intent = gateway.intent_retrieve(donation.reference)
    except gateway.IntentMissing:
        log.warning("donation %s: Stripe does not know its intent", donation.pk)
        raise DonationNotPayable() from None
    if intent.status == "requires_payment_method" and any(gateway.last_error(intent)):
        donation, intent = _intent_replace(donation, intent)
        if intent is None:
            return donation, "", "succeeded"
    if intent.status in ("succeeded", "processing"):
        donation = donation_confirm(payment_intent_id=donation.reference, now=now)
        return donation, "", intent.status
    if intent.status not in OPEN_INTENT:
        raise DonationNotPayable()
    return donation, intent.client_secret, intent.status


def _intent_replace(donation: Donation, declined) -> tuple[Donation, object]:
    """Cancel a gift's declined PaymentIntent and give it a fresh one; returns the donation and
    its intent now (None when the gift turned out to be paid). Locks the donation row across the
    Stripe calls, so two tabs never make two new intents: the second finds the first's."""
    with locked_atomic():
        current = Donation.objects.select_for_update().get(pk=donation.pk)
        if current.status == S.SUCCEEDED:
            return current, None
        if current.reference != declined.id:  # replaced meanwhile
            return current, gateway.intent_retrieve(current.reference)
        gateway.intent_cancel(declined.id)
        cents = to_cents(current.amount)
        intent = gateway.intent_create(amount_cents=cents, metadata=_intent_metadata(current),
                                       idempotency_key=_idempotency_key(current, cents, replacing=declined.id))
        current.reference = intent.id
        current.save(update_fields=["reference"])
    log.info("donation %s: declined intent %s replaced by %s", current.pk, declined.id, intent.id)
    return current, intent


def donation_confirm(*, payment_intent_id: str, now: dt.datetime | None = None) -> Donation:
    """Record what Stripe says about a gift's PaymentIntent. Idempotent; safe to call any number of
    times, concurrently, from the browser's return and from the webhook.

    Re-reads the intent from Stripe (never the caller's data), then, under a lock on the donation
    row: already succeeded → returned at once, changing nothing. Succeeded on Stripe with the same
    amount and currency → ``donation_succeed`` (fund entry and receipt e-mail, once). Declined,
    failed authentication or canceled → stays pending with ``failure_message`` (the card step then
    gives the donor a fresh intent to try another card: ``donation_card_resume``). The returned donation carries ``outcome`` (a
    ``intents.Outcome``) and ``message`` for the page.

    Locks: the donation row (``core.locking.locked_atomic``). Raises ``DonationNotFound`` for an
    intent that is no card gift of ours, ``AmountMismatch`` (nothing recorded, logged for staff),
    ``core.locking.Busy`` on a lock timeout, ``GatewayUnavailable`` when Stripe cannot be read.
    """
    now = now or timezone.now()
    intent = gateway.intent_retrieve(payment_intent_id)
    with locked_atomic():
        donation = (Donation.objects.select_for_update()
                    .filter(method=M.CARD, reference=payment_intent_id).exclude(reference="").first())
        if donation is None:
            raise DonationNotFound()
        donation.message = ""
        if donation.status == S.SUCCEEDED:
            donation.outcome = Outcome.ALREADY
            return donation
        if intent.status == "succeeded":
            if intent.amount != to_cents(donation.amount) or intent.currency != gateway.CURRENCY:
                log.error("donation %s: Stripe amount %s %s does not match ours", donation.pk, intent.amount,
                          intent.currency)
                raise AmountMismatch("The payment amount did not match. Staff have been told; "
                                     "your gift has not been recorded yet.")
            donation_succeed(donation=donation, now=now)
            donation.outcome = Outcome.SUCCEEDED
            return donation
        return _not_succeeded(donation, intent)


def _not_succeeded(donation: Donation, intent) -> Donation:
    outcome, text, code = intent_outcome(intent)
    status = intent.status
    if text and donation.failure_message != text[:300]:
        donation.failure_message = text[:300]
        donation.save(update_fields=["failure_message"])
        log.info("donation %s: %s (%s)", donation.pk, outcome.value, code or status)
    donation.outcome, donation.message = outcome, text
    return donation


def donation_confirm_local(*, donation: Donation, payment_intent_id: str, payment_method: str):
    """localstripe only: confirm the gift's pending PaymentIntent with the card its fake Stripe.js
    tokenized (what real Stripe.js does itself). Returns the intent as it stands afterwards; the
    browser then finishes 3-D Secure if needed and goes to the return page, which records the
    result through ``donation_confirm``. Raises ``DonationNotFound`` for an intent that is not this
    pending gift's. No lock: it changes nothing of ours."""
    exists = Donation.objects.filter(pk=donation.pk, method=M.CARD, status=S.PENDING,
                                     reference=payment_intent_id).exclude(reference="").exists()
    if not exists:
        raise DonationNotFound()
    return gateway.intent_confirm_local(payment_intent_id, payment_method=payment_method)


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
