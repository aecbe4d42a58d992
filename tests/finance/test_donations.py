"""Cash and check donations to Pass the Buck taken at the desk: the donation, its fund entry, the
thank-you e-mail with the receipt PDF, the staff pages and the read-only admin list.

The PDF's text is read with pypdf (a dev dependency; pure Python, so it works on any machine)."""

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from core.models import OutboxMessage, SiteOptions
from core.outbox import outbox_attachment_bytes
from core.roles import COORDINATOR, FINANCE, FRONT_DESK
from finance.models import Donation, FundEntry
from finance.services.donations import DonationInvalid, donation_receipt_pdf, donation_record_offline
from finance.services.fund import fund_balance
from tests.factories import DonationFactory, local_dt, role_client

pytestmark = pytest.mark.django_db

STATEMENT = ("The Library Foundation is a 501(c)(3) organization; no goods or services were provided in exchange "
             "for this gift.")
WHEN = local_dt(dt.date(2026, 3, 14), 10, 30)


@pytest.fixture
def site():
    options = SiteOptions.current()
    options.library_name = "Riverside Public Library"
    options.street_address = "100 Main Street"
    options.city_state_zip = "Riverside, KS 66000"
    options.nonprofit_statement = STATEMENT
    options.save()
    return options


@pytest.fixture
def clerk(django_user_model):
    return django_user_model.objects.create_user("clerk", "clerk@library.example", "pw-123456789", is_staff=True)


def pdf_text(data: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def record(clerk, **overrides) -> Donation:
    fields = dict(first_name="Ada", last_name="Lopez", email="ada@example.org", address="12 Elm St\nRiverside",
                  amount=Decimal("25.00"), method="check", reference="1042", dedication="In honor of Ms. Park",
                  anonymous=False, taken_by=clerk, now=WHEN)
    return donation_record_offline(**{**fields, **overrides})


def test_a_check_donation_goes_into_the_fund_and_sends_the_receipt(site, clerk):
    before = fund_balance()
    donation = record(clerk)

    assert donation.status == Donation.Status.SUCCEEDED
    assert donation.succeeded_at == WHEN and donation.taken_by == clerk
    assert donation.receipt_number == f"D-{donation.pk:06d}"
    entries = list(FundEntry.objects.all())
    assert len(entries) == 1
    assert entries[0].kind == FundEntry.Kind.DONATION and entries[0].amount == Decimal("25.00")
    assert entries[0].dedupe_key == f"donation:{donation.pk}" and entries[0].created_by == clerk
    assert fund_balance() == before + Decimal("25.00")

    [message] = OutboxMessage.objects.all()
    assert message.to == "ada@example.org"
    assert message.dedupe_key == f"donation-receipt:{donation.pk}"
    assert donation.receipt_number in message.subject
    assert "$25.00" in message.body_text and "half price" in message.body_text
    assert "$25.00" in message.body_html
    [attachment] = message.attachments
    assert attachment["mimetype"] == "application/pdf"
    assert attachment["filename"] == f"receipt-{donation.receipt_number}.pdf"
    text = pdf_text(outbox_attachment_bytes(attachment))
    assert "Riverside Public Library" in text
    assert "100 Main Street" in text
    assert " ".join(STATEMENT.split()) in text
    assert "$25.00" in text
    assert "March 14, 2026" in text
    assert donation.receipt_number in text
    assert "Ada Lopez" in text and "Check" in text and "1042" in text
    assert "In honor of Ms. Park" in text


def test_the_receipt_carries_the_donors_name_even_when_anonymous(site, clerk):
    donation = record(clerk, anonymous=True, method="cash", reference="", email="")
    assert OutboxMessage.objects.count() == 0  # no e-mail address: nothing queued
    text = pdf_text(donation_receipt_pdf(donation))
    assert "Ada Lopez" in text and "Cash" in text


def test_a_repeat_of_the_fund_entry_is_not_booked_twice(site, clerk):
    from finance.services.fund import fund_donation_record

    donation = record(clerk)
    again = fund_donation_record(amount=donation.amount, dedupe_key=f"donation:{donation.pk}")
    assert FundEntry.objects.count() == 1 and again.amount == Decimal("25.00")


@pytest.mark.parametrize(("changes", "field"), [
    ({"amount": Decimal("0")}, "amount"),
    ({"amount": "0.00"}, "amount"),
    ({"amount": "-5"}, "amount"),
    ({"amount": "twenty"}, "amount"),
    ({"amount": "25.005"}, "amount"),
    ({"amount": "100000000"}, "amount"),
    ({"amount": 25.0}, "amount"),
    ({"method": "check", "reference": "  "}, "reference"),
    ({"method": "card"}, "method"),
    ({"first_name": ""}, "first_name"),
])
def test_the_service_refuses_bad_input_and_writes_nothing(site, clerk, changes, field):
    with pytest.raises(DonationInvalid) as caught:
        record(clerk, **changes)
    assert caught.value.field == field
    assert Donation.objects.count() == 0 and FundEntry.objects.count() == 0 and OutboxMessage.objects.count() == 0


# --- the staff pages ---------------------------------------------------------------------------

FORM = {"first_name": "Ada", "last_name": "Lopez", "email": "ada@example.org", "address": "", "amount": "25",
        "method": "check", "reference": "1042", "dedication": "", "anonymous": ""}


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"amount": "0"}, "amount", "greater than zero"),
    ({"amount": "-10"}, "amount", "cannot be negative"),
    ({"amount": "ten dollars"}, "amount", "dollars and cents"),
    ({"amount": "10.555"}, "amount", "at most 2 decimals"),
    ({"amount": "99999999"}, "amount", "too large"),
    ({"amount": ""}, "amount", "Enter the amount"),
    ({"reference": ""}, "reference", "Enter the check number"),
    ({"method": ""}, "method", "Choose cash or check"),
    ({"last_name": ""}, "last_name", "last name"),
    ({"email": "not-an-address"}, "email", "e-mail address"),
])
def test_the_form_puts_errors_on_the_field_and_writes_nothing(site, django_user_model, changes, field, message):
    client = role_client(django_user_model, FRONT_DESK, "desk")
    response = client.post(reverse("money:donation-create"), {**FORM, **changes})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field]), errors
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html  # the id the field's aria-describedby names
    assert re.search(rf'aria-describedby="[^"]*\bid_{field}_error\b', html)  # inputs, and the radio group's fieldset
    assert Donation.objects.count() == 0 and FundEntry.objects.count() == 0 and OutboxMessage.objects.count() == 0


@pytest.mark.parametrize("role", [FRONT_DESK, FINANCE, COORDINATOR])
def test_desk_finance_and_coordinator_record_a_donation_and_download_its_receipt(site, django_user_model, role):
    """Donations at the desk are money taken at the desk: ``finance.take_offline_payment``."""
    client = role_client(django_user_model, role, "staffer")
    page = client.get(reverse("money:donation-create"))
    assert page.status_code == 200 and "Amount ($)" in page.content.decode()
    response = client.post(reverse("money:donation-create"), FORM)
    donation = Donation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("money:donation-detail", args=[donation.pk])
    assert donation.taken_by == client.user and donation.amount == Decimal("25.00")
    detail = client.get(response["Location"]).content.decode()
    assert "Download receipt (PDF)" in detail and reverse("money:donation-receipt", args=[donation.pk]) in detail
    pdf = client.get(reverse("money:donation-receipt", args=[donation.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert f'filename="receipt-{donation.receipt_number}.pdf"' in pdf["Content-Disposition"]
    assert donation.receipt_number in pdf_text(pdf.content)


def test_staff_without_the_permission_get_403(django_user_model):
    user = django_user_model.objects.create_user("nobody", "n@library.example", "pw-123456789", is_staff=True)
    client = Client()
    client.force_login(user)
    donation = DonationFactory()
    for url in (reverse("money:donation-create"), reverse("money:donation-detail", args=[donation.pk]),
                reverse("money:donation-receipt", args=[donation.pk])):
        assert client.get(url).status_code == 403
    assert client.post(reverse("money:donation-create"), FORM).status_code == 403
    assert Donation.objects.count() == 1


def test_the_admin_list_never_names_an_anonymous_donor(django_user_model):
    client = role_client(django_user_model, FINANCE, "finance")
    DonationFactory(first_name="Grace", last_name="Hopper", anonymous=False)
    secret = DonationFactory(first_name="Hidden", last_name="Benefactor", anonymous=True)
    html = client.get(reverse("admin:finance_donation_changelist")).content.decode()
    assert "Grace Hopper" in html
    assert "Hidden" not in html and "Benefactor" not in html
    assert "Anonymous" in html and secret.receipt_number in html
