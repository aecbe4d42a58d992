"""Issue 11's rooms for finance: the webhook's event record is a service, the fund service queues
the scholarship offer by task name (no import of ``finance.tasks``), the checkout has its own
module and is re-exported, and the back office's forms take their limits from ``finance.limits``."""

from decimal import Decimal

import pytest
from celery import current_app
from django.db import transaction

import finance.services
import finance.tasks  # noqa: F401  (registers the task names)
from finance import limits
from finance.models import StripeEvent
from finance.services import checkout, donations, fund, staff
from finance.services.stripe_events import stripe_event_record
from finance.staff import forms as staff_forms


@pytest.mark.django_db
def test_stripe_event_record_says_whether_the_event_is_new():
    assert stripe_event_record(event_id="evt_room_1", type="payment_intent.succeeded") is True
    assert stripe_event_record(event_id="evt_room_1", type="payment_intent.succeeded") is False
    assert list(StripeEvent.objects.values_list("event_id", "type")) == [("evt_room_1", "payment_intent.succeeded")]


@pytest.mark.django_db(transaction=True)
def test_a_repeat_leaves_the_callers_transaction_usable_and_the_row_goes_with_it():
    with transaction.atomic():
        assert stripe_event_record(event_id="evt_room_2", type="charge.succeeded") is True
        assert stripe_event_record(event_id="evt_room_2", type="charge.succeeded") is False
        assert StripeEvent.objects.filter(event_id="evt_room_2").count() == 1  # still usable
    try:
        with transaction.atomic():
            stripe_event_record(event_id="evt_room_3", type="charge.succeeded")
            raise RuntimeError("the event's handling failed")
    except RuntimeError:
        pass
    assert not StripeEvent.objects.filter(event_id="evt_room_3").exists()  # Stripe retries: no trace


@pytest.mark.django_db
def test_a_donation_queues_the_scholarship_offer_by_task_name_after_commit(monkeypatch,
                                                                          django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(current_app, "send_task", lambda name, *args, **kwargs: sent.append(name))
    with django_capture_on_commit_callbacks(execute=True):
        fund.fund_donation_record(amount=Decimal("20.00"), dedupe_key="donation:room-test")
        assert sent == []  # not before the commit
    assert sent == ["finance.scholarship_waits_offer"]
    assert "finance.scholarship_waits_offer" in current_app.tasks  # the name is a registered task


def test_the_checkout_has_its_own_module_and_callers_import_it_from_finance_services():
    assert finance.services.checkout_place is checkout.checkout_place
    assert finance.services.checkout_wait_or_place is checkout.checkout_wait_or_place
    assert finance.services.FundShort is checkout.FundShort


def test_the_forms_limits_are_the_services_limits():
    assert limits.FUND_MAX_AMOUNT == fund.MAX_AMOUNT
    assert (staff.REASON_MAX, staff.OVERRIDE_MAX) == (limits.REFUND_REASON_MAX, limits.REFUND_OVERRIDE_MAX)
    assert (donations.NAME_MAX, donations.REFERENCE_MAX, donations.DEDICATION_MAX, donations.ADDRESS_MAX) == (
        limits.DONOR_NAME_MAX, limits.DONATION_REFERENCE_MAX, limits.DEDICATION_MAX, limits.ADDRESS_MAX)
    refund = staff_forms.RefundForm(can_override=True)
    assert refund.fields["reason"].max_length == staff.REASON_MAX
    assert refund.fields["override_reason"].max_length == staff.OVERRIDE_MAX
    assert staff_forms.DonationForm().fields["first_name"].max_length == donations.NAME_MAX
